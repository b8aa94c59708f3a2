"""The switchboard command, run as a user runs it: a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, corpus_files

SUPPORTED = {
    "name": "only built-ins",
    "flow": [
        {"id": 1, "module": "builtin:BasicFeeder", "mapper": {"array": "{{emptyarray}}"}},
        {"id": 2, "module": "builtin:BasicAggregator", "parameters": {"feeder": 1}, "mapper": {}},
    ],
    "metadata": {"version": 1},
}


def switchboard(*args):
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_validate_says_ok_for_a_supported_blueprint(tmp_path):
    result = switchboard("validate", write(tmp_path, "ok.json", SUPPORTED))
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")


def test_validate_lists_problems_on_stderr_with_exit_2(tmp_path):
    broken = dict(
        SUPPORTED,
        flow=[{"id": 1, "module": "x:y", "filter": {"conditions": [[{"a": 1, "o": "nope"}]]}}],
    )
    result = switchboard("validate", write(tmp_path, "bad.json", broken))
    assert result.returncode == 2
    assert result.stderr == "flow[0].filter.conditions[0][0].o: unknown operator 'nope'\n"


def test_validate_lists_unsupported_modules_with_exit_1(tmp_path):
    # An app Switchboard does not have (the corpus' own gaps close one by one).
    unsupported = {
        "name": "Unsupported",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook", "parameters": {"hook": 1}},
            {"id": 2, "module": "mandrill:sendMessage", "mapper": {"text": "{{1.text}}"}},
        ],
        "metadata": {"version": 1},
    }
    path = tmp_path / "unsupported.json"
    path.write_text(json.dumps(unsupported))
    result = switchboard("validate", path)
    assert result.returncode == 1
    assert result.stdout.startswith("uses ")
    assert "Switchboard does not have" in result.stdout


def test_validate_summary_over_the_corpus_covers_every_file():
    files = corpus_files()
    result = switchboard("validate", *files, "--summary")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1].endswith(f"of {len(files)} blueprints fully supported")
    placeholder = "send_sol_and_eth_every_week_to_address.json: flow[0].id: module placeholder"
    assert placeholder in result.stderr


def test_missing_file_and_bad_json_are_bad_input(tmp_path):
    missing = switchboard("validate", tmp_path / "nope.json")
    assert missing.returncode == 2
    assert "No such file or directory" in missing.stderr
    garbage = switchboard("validate", write(tmp_path, "g.json", "{not json"))
    assert garbage.returncode == 2
    assert "line 1, column 2" in garbage.stderr


RUNNABLE = {
    "name": "order lines",
    "flow": [
        {"id": 1, "module": "builtin:BasicFeeder", "mapper": {"array": "{{emptyarray}}"}},
    ],
    "metadata": {"version": 1},
}


def test_run_prints_the_execution_record_as_json(tmp_path):
    blueprint = {
        "name": "lines",
        "flow": [
            {
                "id": 1,
                "module": "util:SetVariable2",
                "mapper": {"name": "lines", "value": "{{emptyarray}}"},
            },
            {"id": 2, "module": "builtin:BasicRepeater", "mapper": {"repeats": "3"}},
            {"id": 3, "module": "util:ComposeTransformer", "mapper": {"value": "line {{2.i}}"}},
            {
                "id": 4,
                "module": "util:TextAggregator",
                "parameters": {"feeder": 2, "rowSeparator": "other", "otherRowSeparator": "; "},
                "mapper": {"value": "{{3.value}}"},
            },
        ],
        "metadata": {"version": 1},
    }
    result = switchboard("run", write(tmp_path, "bp.json", blueprint), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "success"
    assert record["operations"] == 6
    text = next(m for m in record["modules"] if m["id"] == 4)["calls"][0]["output"]
    assert text == [{"text": "line 1; line 2; line 3"}]


def test_run_with_an_input_bundle_prints_a_summary(tmp_path):
    blueprint = {
        "name": "compose",
        "flow": [
            {"id": 1, "module": "util:ComposeTransformer", "mapper": {"value": "hi"}},
        ],
        "metadata": {"version": 1},
    }
    result = switchboard(
        "run", write(tmp_path, "bp.json", blueprint), "--input", write(tmp_path, "b.json", {"x": 1})
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("success: 1 operations")
    assert "[1] util:ComposeTransformer: 1 op, 1 out" in result.stdout


def test_run_that_fails_exits_1_with_the_error(tmp_path):
    blueprint = {
        "name": "missing app",
        "flow": [
            {"id": 1, "module": "util:ComposeTransformer", "mapper": {"value": "x"}},
            {"id": 2, "module": "mandrill:sendMessage", "mapper": {"text": "{{1.value}}"}},
        ],
        "metadata": {"version": 1},
    }
    result = switchboard("run", write(tmp_path, "bp.json", blueprint))
    assert result.returncode == 1
    assert (
        "error: module mandrill:sendMessage is not available in this installation" in result.stdout
    )


def test_run_refuses_an_input_that_is_not_a_bundle(tmp_path):
    result = switchboard(
        "run", write(tmp_path, "ok.json", RUNNABLE), "--input", write(tmp_path, "b.json", [1, 2])
    )
    assert result.returncode == 2
    assert "a bundle is a JSON object" in result.stderr


def test_run_rejects_a_blueprint_that_cannot_compile(tmp_path):
    broken = dict(SUPPORTED, flow=[{"id": 1, "module": "x:y", "mapper": {"a": "{{5.x}}"}}])
    result = switchboard("run", write(tmp_path, "bad.json", broken))
    assert result.returncode == 2
    assert "flow[0].mapper.a: refers to module 5, which is not in this scenario" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        "validate",
        "run",
        "import",
        "export",
        "serve",
        "worker",
        "scheduler",
        "sandbox",
        "connection",
    ],
)
def test_every_command_has_help(command):
    result = switchboard(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: switchboard " + command)


def test_console_script_is_installed():
    script = REPO_ROOT / ".venv" / "bin" / "switchboard"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "validate" in result.stdout


def test_sandbox_command_serves_an_app_until_stopped(tmp_path):
    import signal

    import requests

    process = subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli", "sandbox", "onecrm", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("onecrm sandbox on http://127.0.0.1:")
        base_url = line.split(" on ")[1].strip()
        with requests.Session() as session:
            answer = session.get(f"{base_url}/_sandbox/state", timeout=10)
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_worker_defaults_to_threads_with_twice_the_cpus():
    from switchboard.cli import _parser, worker_concurrency

    args = _parser().parse_args(["worker"])
    assert (args.pool, args.concurrency) == ("threads", None)
    assert worker_concurrency("threads", 1) == 4
    assert worker_concurrency("threads", 8) == 16
    assert worker_concurrency("prefork", 8) is None  # Celery's own: the CPU count


def test_worker_runs_celery_quietly_without_worker_events():
    """``switchboard worker`` runs as B6 measures it: WARNING logging (INFO wrote two lines a
    task), no gossip, mingle or heartbeat events (nothing reads them)."""
    from switchboard.cli import _parser, worker_argv

    argv = worker_argv(_parser().parse_args(["worker"]))
    assert argv[0] == "worker"
    assert "--loglevel=WARNING" in argv and "--pool=threads" in argv
    assert {"--without-gossip", "--without-mingle", "--without-heartbeat"} <= set(argv)
    assert any(each.startswith("--concurrency=") for each in argv)
    chosen = worker_argv(_parser().parse_args(["worker", "--loglevel", "INFO"]))
    assert "--loglevel=INFO" in chosen
