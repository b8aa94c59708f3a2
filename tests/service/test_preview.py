"""The expression preview's limits, on the service (over HTTP: tests/api/test_preview_limits.py)."""

from __future__ import annotations

import pytest

from engine.service import Busy, InvalidField, LimitExceeded
from engine.service import preview as previews


def test_a_preview_answers_the_value_or_the_expression_error(service):
    assert service.preview_expression("{{1.n + 2}}", {"1": {"n": 3}}).value == 5
    failed = service.preview_expression("{{upper(1.a}}", {})
    assert failed.value is None and failed.error and failed.column is not None


def test_the_time_limit_is_checked_between_steps(service):
    ticks = iter(range(0, 300, 3))  # every reading of the clock is 3 s later
    with pytest.raises(LimitExceeded, match="took longer than its limit of 5 seconds"):
        service.preview_expression(
            '{{upper(lower(upper("a")))}}', {}, monotonic=lambda: next(ticks)
        )


def test_a_value_over_the_preview_limit_is_a_limit_not_an_expression_error(service):
    with pytest.raises(LimitExceeded) as refused:
        service.preview_expression('{{split(1.x; "")}}', {"1": {"x": "a" * 1_000_001}})
    assert "larger than the limit of 1,000,000 (the preview's limit; runs allow 10,000,000)" in (
        str(refused.value)
    )


def test_previews_beyond_the_slots_wait_then_are_busy(service, monkeypatch):
    monkeypatch.setattr(previews, "MAX_SECONDS", 0.05)
    for _ in range(previews.SLOTS):
        previews._slots.acquire()
    try:
        with pytest.raises(Busy) as busy:
            service.preview_expression("{{1}}", {})
        assert busy.value.retry_after == 1 and busy.value.status == 503
    finally:
        for _ in range(previews.SLOTS):
            previews._slots.release()
    assert service.preview_expression("{{1 + 1}}", {}).value == 2


def test_bundle_keys_must_be_module_ids(service):
    with pytest.raises(InvalidField, match="bundle keys are module ids") as refused:
        service.preview_expression("{{1}}", {"a": {}})
    assert refused.value.path == "bundles"
