"""The heartbeat monitor warns about a run taken from its worker, not about one that ended."""

from __future__ import annotations

import logging

from engine.service.running import HeartbeatMonitor


class StoreThatSaysNo:
    """A store whose every heartbeat finds the run no longer running on this worker."""

    def heartbeat(self, execution_id: str, worker_id: str) -> bool:
        return False


def test_a_refused_beat_of_a_running_run_warns(caplog):
    monitor = HeartbeatMonitor(StoreThatSaysNo(), interval=3600)
    with caplog.at_level(logging.WARNING), monitor.beating("e1", "w1"):
        monitor._beat("e1", "w1", None)
    monitor.stop()
    assert "e1 was taken from this worker" in caplog.text


def test_a_refused_beat_of_a_run_that_just_ended_is_quiet(caplog):
    monitor = HeartbeatMonitor(StoreThatSaysNo(), interval=3600)
    with monitor.beating("e1", "w1"):
        pass  # the loop had listed it; the run ends and finishes before its beat is sent
    with caplog.at_level(logging.WARNING):
        monitor._beat("e1", "w1", None)
    monitor.stop()
    assert caplog.text == ""
