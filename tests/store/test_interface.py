"""The interface itself: documented, fully implemented, free of web/queue imports, and its
status tables consistent."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

from engine.store import ExecutionStatus, InvalidTransition, SqlStore, Store
from engine.store.statuses import (
    EXECUTION_TRANSITIONS,
    INCOMPLETE_TRANSITIONS,
    QUEUE_TRANSITIONS,
    IncompleteStatus,
    QueueItemStatus,
    check_transition,
    sources,
)
from tests.conftest import REPO_ROOT


def abstract_methods():
    return sorted(Store.__abstractmethods__)


@pytest.mark.parametrize("name", abstract_methods())
def test_every_method_states_its_contract(name):
    doc = inspect.getdoc(getattr(Store, name))
    assert doc and len(doc) > 20, f"Store.{name} needs a docstring stating its contract"


def test_sql_store_implements_everything():
    assert not getattr(SqlStore, "__abstractmethods__", set())
    assert len(abstract_methods()) > 60


def test_store_imports_no_web_or_queue_library():
    code = (
        "import json, sys, engine.store, engine.config, engine.secrets\n"
        "print(json.dumps(sorted(m for m in ('flask', 'celery', 'redis', 'kombu', 'werkzeug')"
        " if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    "table", [EXECUTION_TRANSITIONS, QUEUE_TRANSITIONS, INCOMPLETE_TRANSITIONS]
)
def test_every_status_has_a_row(table):
    kind = type(next(iter(table)))
    assert set(table) == set(kind)


def test_sources_and_checks():
    assert sources(QUEUE_TRANSITIONS, QueueItemStatus.DONE) == ("claimed",)
    assert sources(INCOMPLETE_TRANSITIONS, IncompleteStatus.RESOLVED) == ("pending", "retrying")
    assert sources(EXECUTION_TRANSITIONS, ExecutionStatus.RUNNING) == ("queued",)
    check_transition(
        EXECUTION_TRANSITIONS, "execution", "x", ExecutionStatus.RUNNING, ExecutionStatus.ERROR
    )
    with pytest.raises(InvalidTransition, match="'success' to 'running'"):
        check_transition(
            EXECUTION_TRANSITIONS,
            "execution",
            "x",
            ExecutionStatus.SUCCESS,
            ExecutionStatus.RUNNING,
        )
    assert all(not EXECUTION_TRANSITIONS[s] for s in ExecutionStatus if s.is_terminal)
