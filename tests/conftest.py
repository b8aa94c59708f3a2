"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path(
    os.environ.get("SWITCHBOARD_CORPUS", REPO_ROOT.parent / "shared" / "corpus" / "blueprints")
)


def corpus_files() -> list[Path]:
    """Every blueprint of the shared corpus; an absent corpus fails the suite loudly."""
    files = sorted(CORPUS_DIR.glob("*.json"))
    if not files:
        raise RuntimeError(f"no corpus blueprints found in {CORPUS_DIR} (set SWITCHBOARD_CORPUS)")
    return files


@pytest.fixture
def registry():
    """A private copy of the installed modules, safe to extend with stubs."""
    from engine.registry import default_registry

    return default_registry().copy()


@pytest.fixture
def skipping_clock():
    """The clock a test's sandboxes count rate-limit windows on and its runs' waits skip
    (``tests/clock.py``)."""
    from tests.clock import SkippingClock

    return SkippingClock()
