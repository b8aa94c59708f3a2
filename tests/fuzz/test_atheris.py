"""Short, bounded atheris (libFuzzer) runs of each target: a crash fails the test with the
input that caused it. Long runs: see ``tests/fuzz/atheris_targets.py``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.parametrize("target", ["expression", "blueprint", "webhook"])
def test_a_short_atheris_run_finds_no_crash(target, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.atheris_targets",
            target,
            "-runs=30000",
            "-max_total_time=2",
            "-rss_limit_mb=2048",
            f"-artifact_prefix={tmp_path}/",
            "-seed=1",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done" in result.stderr or "DONE" in result.stderr, result.stderr[-1000:]
