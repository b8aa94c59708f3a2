"""The ``switchboard`` command line.

Exit codes: 0 success, 1 a failure (or something this installation cannot do), 2 bad input
(a file that is missing, not JSON, or not a valid blueprint). Errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.blueprint import load_blueprint
from engine.errors import BlueprintError, UserError
from engine.graph import compile_blueprint, validate_blueprint
from engine.jsonvalues import dumps
from engine.registry import default_registry
from engine.runtime import ExecutionRecord, RunContext, RunStatus, run_scenario
from switchboard.cli_packs import DEMO_PACKS, add_pack_commands, demo_pack

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class CommandError(Exception):
    """Ends a command with a message on stderr and an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except CommandError as error:
        print(f"switchboard: {error}", file=sys.stderr)
        return error.code
    except UserError as error:
        print(f"switchboard: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="Self-hosted scenario engine that runs Make (Integromat) blueprints.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate", help="check blueprints and list what this installation does not support"
    )
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument(
        "--summary", action="store_true", help="end with how many files are fully supported"
    )
    validate.set_defaults(handler=_validate)

    run = commands.add_parser("run", help="run a blueprint once and print the execution record")
    run.add_argument("file", type=Path, metavar="FILE")
    run.add_argument("--input", type=Path, metavar="BUNDLE.json", help="the trigger bundle")
    run.add_argument("--json", action="store_true", help="print the record as JSON")
    run.set_defaults(handler=_run)

    sandbox = commands.add_parser(
        "sandbox", help="serve a local emulator of an app's API (for demos and tests)"
    )
    sandbox.add_argument(
        "app",
        metavar="APP",
        help=", ".join(SANDBOX_APPS) + ", or apps defined as data (slack,google-sheets …)",
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=0, help="0 picks a free port")
    sandbox.add_argument("--seed", type=Path, metavar="FIXTURE.json", help="initial records")
    sandbox.set_defaults(handler=_sandbox)

    _service_commands(commands)
    return parser


def _service_commands(commands: Any) -> None:
    """The commands that work on the store through the service (``engine.service``)."""
    imports = commands.add_parser("import", help="import a blueprint file into the store")
    imports.add_argument("file", type=Path, metavar="FILE")
    imports.add_argument("--name", help="the scenario's name (default: the blueprint's)")
    imports.add_argument("--activate", action="store_true", help="turn its scheduling on")
    imports.add_argument(
        "--connection",
        action="append",
        default=[],
        metavar="APP=ID",
        help="bind the blueprint's connection placeholders (scenarios/…: connection:APP) to a "
        "stored connection, e.g. --connection onecrm=3 --connection xero=5",
    )
    imports.set_defaults(handler=_import)

    export = commands.add_parser("export", help="print a stored scenario's blueprint")
    export.add_argument("id", type=int, metavar="ID")
    export.set_defaults(handler=_export)

    serve = commands.add_parser("serve", help="serve the web app and webhooks")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--server",
        choices=("gunicorn", "dev"),
        default="gunicorn",
        help="gunicorn (default: production, gthread workers) or dev (Werkzeug's threaded "
        "development server)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="gunicorn worker processes (default: 1 embedded, where one process runs the queue "
        "and scheduler; with Redis 2 per core, 2 to 8)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        help="threads per worker process (default: embedded 8 per core, 16 to 64; with Redis 8)",
    )
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="run a Celery worker (needs Redis)")
    worker.add_argument(
        "--concurrency",
        type=int,
        help="parallel runs (default: twice the CPU count, at least 4, with threads; "
        "the CPU count with prefork)",
    )
    worker.add_argument(
        "--pool",
        default="threads",
        choices=["threads", "prefork", "solo"],
        help="threads (default: runs wait on the network and the database, so threads in one "
        "process overlap them without prefork's copy of every task to a child process) or "
        "prefork (a process per run slot)",
    )
    worker.add_argument(
        "--loglevel",
        default="WARNING",
        help="Celery's log level (default WARNING: failures and warnings; INFO adds two lines "
        "for every task, which the execution history already records)",
    )
    worker.set_defaults(handler=_worker)

    scheduler = commands.add_parser(
        "scheduler", help="run the scheduler (Celery beat; needs Redis)"
    )
    scheduler.set_defaults(handler=_scheduler)

    synclog = commands.add_parser(
        "log", help="the sync log of a scenario: per record Synced / Error / Not Valid / Not Synced"
    )
    synclog.add_argument("scenario", metavar="SCENARIO", help="the scenario's id or name")
    synclog.add_argument("--all", action="store_true", help="every run, not only the last")
    synclog.add_argument("--limit", type=int, default=100, help="executions to read (100)")
    synclog.add_argument("--json", action="store_true", help="print JSON")
    synclog.set_defaults(handler=_log)

    reconcile = commands.add_parser(
        "reconcile",
        help="compare 1CRM's books with an accounting system's, record by record",
    )
    reconcile.add_argument("library", metavar="LIBRARY", help="xero or quickbooks")
    reconcile.add_argument(
        "--connection",
        action="append",
        default=[],
        metavar="APP=ID",
        help="the connection to read for an app (default: the one the library's scenarios use)",
    )
    reconcile.add_argument("--json", action="store_true", help="print JSON")
    reconcile.set_defaults(handler=_reconcile)

    demo = commands.add_parser(
        "demo",
        help="serve the product with the Xero and 1CRM sandboxes and the prebuilt scenarios",
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000, help="the product's port (0: a free one)")
    demo.add_argument(
        "--var-dir", type=Path, default=Path("var/demo"), help="where the demo's store lives"
    )
    demo.add_argument("--interval", type=int, default=60, help="seconds between polls of Xero (60)")
    demo.add_argument(
        "--library",
        choices=("xero", "quickbooks", *DEMO_PACKS),
        default="xero",
        help="which prebuilt library to run: 1CRM ⇄ Xero (default), 1CRM ⇄ QuickBooks Online, "
        "or a sync pack (zoho-quickbooks, zoho-xero, crm-quickbooks)",
    )
    demo.set_defaults(handler=_demo)

    _backup_commands(commands)
    _connection_commands(commands)
    add_pack_commands(commands)

    database = commands.add_parser("db", help="database maintenance")
    actions = database.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply the schema migrations")
    upgrade.set_defaults(handler=_db_upgrade)


def _connection_commands(commands: Any) -> None:
    connection = commands.add_parser("connection", help="stored connections")
    actions = connection.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="read-only calls that report where the real account differs from what the modules "
        "assume (scopes, tax codes, currencies, custom fields); exit 1 when something must change",
    )
    check.add_argument("connection", metavar="NAME", help="the connection's name or id")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(handler=_connection_check)


def _backup_commands(commands: Any) -> None:
    backup = commands.add_parser(
        "backup",
        help="write everything this installation holds to one file (secrets stay encrypted)",
    )
    backup.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="where to write it (default: stdout); a name ending in .gz is gzip'd",
    )
    backup.add_argument(
        "--with-history", action="store_true", help="also finished executions and their records"
    )
    backup.set_defaults(handler=_backup)

    restore = commands.add_parser(
        "restore", help="restore a backup into an empty database (needs the same secret key)"
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="a backup file ('-': stdin)")
    restore.add_argument(
        "--force", action="store_true", help="delete everything the database holds first"
    )
    restore.set_defaults(handler=_restore)


SANDBOX_APPS = ("xero", "onecrm", "quickbooks", "zohocrm")


def _app_sandbox(names: list[str]) -> tuple[Any, dict[str, Any]]:
    """The generic sandbox of library apps defined as data, and their sandbox definitions."""
    from modules.apps import AppDefinitionError
    from modules.apps.sandbox.server import create_app, library_sandboxes

    try:
        definitions = dict(library_sandboxes(names))
        return create_app(names), {name: definitions[name] for name in names}
    except AppDefinitionError as error:
        raise CommandError(str(error)) from None


def _sandbox(args: argparse.Namespace) -> int:
    """Serve ``modules.<app>.sandbox`` — or the generic sandbox of apps defined as data,
    comma-separated — until interrupted, printing its base URL (and, for apps defined as data,
    the connection values that reach it)."""
    import importlib

    from werkzeug.serving import make_server

    if args.app in SANDBOX_APPS:
        app = importlib.import_module(f"modules.{args.app}.sandbox").create_app()
        connections: dict[str, Any] = {}
    else:
        app, connections = _app_sandbox(args.app.split(","))
    if args.seed is not None:
        app.test_client().post("/_sandbox/seed", json=_read_json(args.seed))
    server = make_server(args.host, args.port, app, threaded=True)
    base_url = f"http://{args.host}:{server.server_port}"
    print(f"{args.app} sandbox on {base_url}", flush=True)
    for name, definition in connections.items():
        values = definition.connection_values(f"{base_url}/_app/{name}")
        print(f"  {name} connection: {json.dumps(values)}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    registry = default_registry()
    worst, supported = EXIT_OK, 0
    for path in args.files:
        lines, code = _validate_file(path, registry)
        worst = max(worst, code)
        supported += code == EXIT_OK
        prefix = f"{path}: " if len(args.files) > 1 else ""
        stream = sys.stderr if code == EXIT_BAD_INPUT else sys.stdout
        for line in lines:
            print(f"{prefix}{line}", file=stream)
    if args.summary:
        print(f"{supported} of {len(args.files)} blueprints fully supported")
        return EXIT_OK
    return worst


def _validate_file(path: Path, registry: Any) -> tuple[list[str], int]:
    try:
        blueprint = load_blueprint(_read(path))
    except BlueprintError as error:
        return [str(problem) for problem in error.problems], EXIT_BAD_INPUT
    report = validate_blueprint(blueprint, registry)
    code = EXIT_BAD_INPUT if report.problems else EXIT_FAILURE if report.unsupported else EXIT_OK
    return report.lines(), code


def _run(args: argparse.Namespace) -> int:
    plan = compile_blueprint(load_blueprint(_read(args.file)), default_registry())
    bundles = None
    if args.input is not None:
        given = _read_json(args.input)
        bundles = given if isinstance(given, list) else [given]
        if not all(isinstance(bundle, dict) for bundle in bundles):
            raise CommandError(f"{args.input}: a bundle is a JSON object", EXIT_BAD_INPUT)
    record = run_scenario(plan, _local_context(), trigger_bundles=bundles)
    if args.json:
        print(dumps(record.to_dict(), indent=2))
    else:
        print(_summary(record))
    return EXIT_OK if record.status in (RunStatus.SUCCESS, RunStatus.WARNING) else EXIT_FAILURE


def _local_context() -> RunContext:
    """A context for running on this machine, outside the service (no store behind it)."""
    import requests

    return RunContext(
        clock=lambda: datetime.now(UTC),
        monotonic=time.perf_counter,
        http=requests.Session(),
        sleep=time.sleep,
    )


def _summary(record: ExecutionRecord) -> str:
    lines = [
        f"{record.status}: {record.operations} operations, {record.data_size} bytes, "
        f"{record.duration_ms:.1f} ms"
    ]
    if record.error:
        lines.append(f"error: {record.error.get('message')}")
    for module in record.modules.values():
        text = f"  [{module.id}] {module.module}: {module.operations} op, {module.bundles_out} out"
        if module.filtered:
            text += f", {module.filtered} filtered"
        if module.errors:
            text += f", {module.errors} error(s)"
        lines.append(text)
    for state in record.incomplete:
        lines.append(f"incomplete: module {state.module_id}: {state.error.get('message')}")
    return "\n".join(lines)


def _settings() -> Any:
    from engine.config import Settings

    return Settings.from_env()


def _import(args: argparse.Namespace) -> int:
    from engine.service import ServiceError, build_service, shutdown_service

    source = _read(args.file)
    connections = _connection_bindings(args.connection)
    service = build_service(_settings(), upgrade=True)
    try:
        result = service.import_scenario(
            source, name=args.name, active=args.activate, connections=connections
        )
    except ServiceError as error:
        raise CommandError(str(error), EXIT_BAD_INPUT) from None
    finally:
        shutdown_service(service)
    if result.unsupported:
        modules = ", ".join(sorted(result.unsupported))
        print(f"switchboard: warning: modules not in this installation: {modules}", file=sys.stderr)
    for webhook in result.webhooks:
        print(f"webhook: /hooks/{webhook.token}", file=sys.stderr)
    print(result.scenario.id)
    return EXIT_OK


def _connection_bindings(pairs: Sequence[str]) -> dict[str, int]:
    bindings = {}
    for pair in pairs:
        app, _, ident = pair.partition("=")
        if not app or not ident.strip().isdigit():
            raise CommandError(f"--connection {pair!r}: expected APP=ID", EXIT_BAD_INPUT)
        bindings[app.strip()] = int(ident)
    return bindings


def _log(args: argparse.Namespace) -> int:
    from engine.service import build_service, shutdown_service
    from engine.service.synclog import format_table
    from engine.store import NotFound

    service = build_service(_settings(), upgrade=True)
    try:
        scenario_id = _scenario_id(service, args.scenario)
        entries = service.sync_log(scenario_id, limit=args.limit, latest=not args.all)
    except NotFound as error:
        raise CommandError(str(error)) from None
    finally:
        shutdown_service(service)
    if args.json:
        print(dumps([e.to_dict() for e in entries], indent=2))
    elif entries:
        print(format_table(entries))
    else:
        print("no synced records yet")
    return EXIT_OK


def _reconcile(args: argparse.Namespace) -> int:
    from engine.errors import ModuleError
    from engine.service import ServiceError, build_service, shutdown_service
    from engine.store import NotFound

    service = build_service(_settings(), upgrade=True)
    try:
        result = service.reconcile(args.library, connections=_connection_bindings(args.connection))
    except (NotFound, ServiceError) as error:
        raise CommandError(str(error), EXIT_BAD_INPUT) from None
    except ModuleError as error:  # like diff: 1 is "they differ", 2 is "could not compare"
        raise CommandError(f"the books could not be read: {error}", EXIT_BAD_INPUT) from None
    finally:
        shutdown_service(service)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(_reconciliation_text(result))
    return EXIT_OK if result.balanced else EXIT_FAILURE


def _reconciliation_text(result: Any) -> str:
    from engine.service.synclog import text_table

    sides = ", ".join(
        f"{app} (connection {result.connections[app]}): "
        + ", ".join(f"{count} {what}" for what, count in counts.items())
        for app, counts in result.records.items()
    )
    known = [d for d in result.differences if d.known]
    rules = sorted({d.known for d in known})
    known_text = "".join(f"\nknown ({len(known)}): {rule}" for rule in rules)
    if not result.differences:
        return f"{sides}\nthe books balance: no difference"
    header = ("kind", "record", "field", "1CRM", result.library, "sync log")
    rows = [
        (
            d.kind,
            d.label or d.key,
            d.field,
            _cell(d.crm),
            _cell(d.accounting),
            "; ".join(
                f"{link.scenario}: {link.entry.status}"
                + (f" ({link.entry.message})" if link.entry.message else "")
                for link in d.sync_log
            )
            or ("known" if d.known else "no entry"),
        )
        for d in result.differences
    ]
    count = f"{len(rows)} difference{'s' if len(rows) != 1 else ''}"
    if result.balanced:
        count = f"the books balance: {count}, each known{known_text}"
    return f"{sides}\n{count}\n{text_table(header, rows)}"


def _cell(value: Any) -> str:
    from engine.service.reconcile import json_value

    shown = json_value(value)
    return shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)


def _connection_check(args: argparse.Namespace) -> int:
    from engine.errors import ModuleError
    from engine.service import build_service, shutdown_service
    from engine.spec import CheckVerdict
    from engine.store import NotFound

    service = build_service(_settings(), upgrade=True)
    try:
        connection_id = _connection_id(service, args.connection)
        findings = service.check_connection(connection_id)
    except NotFound as error:
        raise CommandError(str(error)) from None
    except ModuleError as error:
        raise CommandError(f"connection {args.connection!r}: {error}") from None
    finally:
        shutdown_service(service)
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False))
    else:
        print(_findings_table(findings))
    problems = sum(f.verdict is CheckVerdict.PROBLEM for f in findings)
    return EXIT_FAILURE if problems else EXIT_OK


def _connection_id(service: Any, text: str) -> int:
    if text.isdigit():
        return int(text)
    found = [c.id for c in service.list_connections() if c.name == text]
    if len(found) != 1:
        many = "several connections are" if found else "no connection is"
        raise CommandError(f"{many} named {text!r}: give its id")
    return found[0]


def _findings_table(findings: Sequence[Any]) -> str:
    if not findings:
        return "nothing to report"
    indent = " " * 9
    lines = []
    for finding in findings:
        lines.append(f"{finding.verdict.value.upper():8} {finding.subject}")
        if finding.expected or finding.found:
            expected, found = finding.expected or "-", finding.found or "-"
            lines.append(f"{indent}expected: {expected}; found: {found}")
        if finding.hint:
            lines.append(f"{indent}{finding.hint}")
    return "\n".join(lines)


def _scenario_id(service: Any, text: str) -> int:
    if text.isdigit():
        return int(text)
    found = [s.id for s in service.list_scenarios() if s.name == text]
    if len(found) != 1:
        many = "several scenarios are" if found else "no scenario is"
        raise CommandError(f"{many} named {text!r}: give its id")
    return found[0]


SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DEMO_USER = ("demo@switchboard.example", "try-the-sandboxes")
DEMO_ONECRM = {
    "fixture": "demo",
    # 1CRM's sandbox allows 120 calls a minute; the demo's first polls read a lot at once.
    "rate_limit_per_minute": 1200,
    # Its base currency is the accounting organisation's (NZD, as both accounting sandboxes'):
    # a 1CRM invoice in its base currency is one in theirs (#20: it was USD).
    "default_currency": "NZD",
    "currencies": ["USD", "AUD", "EUR", "GBP"],
}
"""The demo's 1CRM sandbox."""
DEMO_VERIFIER = "demo-verifier-token"  # signs the QuickBooks sandbox's webhooks


def _demo(args: argparse.Namespace) -> int:
    """Sandboxes seeded with their demo fixtures, the product on a fresh store with connections
    to them and the 1CRM ⇄ Xero library imported and active, served until interrupted."""
    import shutil
    import socket

    from modules.onecrm import sandbox as onecrm_sandbox
    from modules.quickbooks import sandbox as qbo_sandbox
    from modules.sandboxing import run_sandbox_in_thread
    from modules.xero import sandbox as xero_sandbox

    if args.library in DEMO_PACKS:
        return demo_pack(args)
    port = args.port
    if port == 0:
        with socket.socket() as probe:
            probe.bind((args.host, 0))
            port = probe.getsockname()[1]
    base_url = f"http://{args.host}:{port}"
    onecrm_app = onecrm_sandbox.create_app(DEMO_ONECRM)
    onecrm_url, stop_onecrm = run_sandbox_in_thread(onecrm_app)
    if args.library == "quickbooks":
        accounting = qbo_sandbox.create_app(
            {
                "fixture": "demo",
                "webhook_url": f"{base_url}/hooks/apps/quickbooks",
                "webhook_key": DEMO_VERIFIER,
            }
        )
    else:
        accounting = xero_sandbox.create_app({"fixture": "demo"})
    accounting_url, stop_accounting = run_sandbox_in_thread(accounting)
    if args.var_dir.exists():
        shutil.rmtree(args.var_dir)  # a demo starts from scratch every time
    os.environ["SWITCHBOARD_VAR_DIR"] = str(args.var_dir.resolve())
    os.environ["SWITCHBOARD_BASE_URL"] = base_url
    # The sandboxes listen on this machine, which the SSRF guard keeps connectors away from.
    os.environ["SWITCHBOARD_ALLOW_PRIVATE_NETWORK"] = "1"
    os.environ.update(_demo_oauth_client(args.library, accounting_url))
    try:
        names = _demo_setup(onecrm_url, accounting_url, args.interval, args.library)
        print(f"1CRM sandbox: {onecrm_url}  (admin / sandbox-password)")
        label = "QuickBooks Online" if args.library == "quickbooks" else "Xero"
        print(f"{label} sandbox: {accounting_url}")
        for name in names:
            print(f"  active: {name}")
        print(f"sign in as {DEMO_USER[0]} / {DEMO_USER[1]}")
        print(f"sync log: switchboard log ID (with SWITCHBOARD_VAR_DIR={args.var_dir})")
        from webui.serve import serve

        serve(_settings(), args.host, port, announce=lambda line: print(line, flush=True))
    finally:
        stop_accounting()
        stop_onecrm()
    return EXIT_OK


def _demo_setup(
    onecrm_url: str, accounting_url: str, interval: int, library: str = "xero"
) -> list[str]:
    """Connections to the sandboxes, the demo user, the library imported and activated."""
    import dataclasses

    from engine.passwords import new_password_hash
    from engine.service import build_service, shutdown_service

    # Activation subscribes webhooks in the sandboxes, which listen on this machine.
    settings = dataclasses.replace(_settings(), allow_private_network=True)
    service = build_service(settings, upgrade=True)
    store, registry = service.store, service.registry
    names = []
    try:
        email, password = DEMO_USER
        password_hash = new_password_hash(password, email=email, name="Demo")
        store.create_first_user(email, "Demo", "owner", password_hash)
        onecrm = store.create_connection(
            "onecrm",
            "basic",
            "1CRM sandbox",
            data={"url": onecrm_url, "username": "admin", "assigned_user_id": "1"},
            secrets={"password": "sandbox-password"},
        )
        accounting = _demo_oauth_connection(store, registry, library, accounting_url)
        bindings = {"onecrm": onecrm.id, library: accounting.id}
        for path in sorted((SCENARIOS / library).glob("*.json")):
            result = service.import_scenario(path.read_bytes(), connections=bindings)
            scenario = result.scenario
            if scenario.scheduling.get("type") != "immediately":
                service.set_scheduling(scenario.id, {"type": "indefinitely", "interval": interval})
            service.activate_scenario(scenario.id)
            names.append(f"[{scenario.id}] {scenario.name}")
    finally:
        shutdown_service(service)
    return names


DEMO_OAUTH = {
    "xero": ("/identity/connect/authorize", "/connect/token"),
    "quickbooks": ("/connect/oauth2", "/oauth2/v1/tokens/bearer"),
}


def _demo_oauth_client(app: str, sandbox_url: str) -> dict[str, str]:
    """The environment that points the editor's "Add connection" for ``app`` at its sandbox."""
    authorize_path, token_path = DEMO_OAUTH[app]
    prefix = f"SWITCHBOARD_{app.upper()}_"
    return {
        prefix + "CLIENT_ID": "sandbox-client-id",
        prefix + "CLIENT_SECRET": "sandbox-client-secret",
        prefix + "BASE_URL": sandbox_url,
        prefix + "AUTHORIZE_URL": sandbox_url + authorize_path,
        prefix + "TOKEN_URL": sandbox_url + token_path,
    }


def _demo_oauth_connection(store: Any, registry: Any, app: str, sandbox_url: str) -> Any:
    """An OAuth2 connection to an accounting sandbox, consented the way the web app does it
    (the sandbox approves at once): authorize, callback data, code exchange, on_authorized."""
    from urllib.parse import parse_qs, urlsplit

    import requests

    from engine.connections import authorization_url, exchange_code, token_public_data

    kind = registry.connection_kind(app)
    authorize_path, token_path = DEMO_OAUTH[app]
    data = {
        "client_id": "sandbox-client-id",
        "base_url": sandbox_url,
        "authorize_url": sandbox_url + authorize_path,
        "token_url": sandbox_url + token_path,
    }
    redirect = "http://localhost/oauth/callback"
    with requests.Session() as http:
        consent = http.get(
            authorization_url(kind, data, redirect_uri=redirect, state="demo"),
            allow_redirects=False,
        )
        callback = {
            k: v[0] for k, v in parse_qs(urlsplit(consent.headers["Location"]).query).items()
        }
        if kind.callback_data is not None:
            data.update(kind.callback_data(callback))
        secrets = exchange_code(
            kind,
            data,
            "sandbox-client-secret",
            code=callback["code"],
            redirect_uri=redirect,
            session=http,
            now=datetime.now(UTC),
        )
        data.update(token_public_data(kind, secrets))
        if kind.on_authorized is not None:
            data.update(kind.on_authorized(data, secrets["access_token"], http))
    if app == "quickbooks":
        secrets["verifier_token"] = DEMO_VERIFIER
    label = "QuickBooks Online" if app == "quickbooks" else "Xero"
    return store.create_connection(app, "oauth2", f"{label} sandbox", data=data, secrets=secrets)


def _export(args: argparse.Namespace) -> int:
    from engine.service import build_service, shutdown_service
    from engine.store import NotFound

    service = build_service(_settings(), upgrade=True)
    try:
        text = service.export_scenario(args.id)
    except NotFound as error:
        raise CommandError(str(error)) from None
    finally:
        shutdown_service(service)
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))  # byte-exact: no newline added
    sys.stdout.buffer.flush()
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from engine.config import ConfigError
    from webui.serve import serve

    try:
        serve(
            _settings(),
            args.host,
            args.port,
            announce=lambda line: print(line, flush=True),
            server=args.server,
            workers=args.workers,
            threads=args.threads,
        )
    except ConfigError as error:
        raise CommandError(str(error), EXIT_BAD_INPUT) from None
    return EXIT_OK


def _redis_settings(command: str) -> Any:
    settings = _settings()
    if not settings.redis_url:
        raise CommandError(
            f"'{command}' needs Redis: set SWITCHBOARD_REDIS_URL (e.g. redis://localhost:6379/0). "
            "Without Redis, 'switchboard serve' runs everything in one process."
        )
    return settings


def _worker(args: argparse.Namespace) -> int:
    _redis_settings("worker").with_secret_key_file()
    from engine.celery_app import app

    app.worker_main(worker_argv(args))
    return EXIT_OK


WORKER_EVENTS_OFF = ["--without-gossip", "--without-mingle", "--without-heartbeat"]
"""Celery's worker-to-worker events: nothing in Switchboard reads them (no remote control,
revokes or monitor; the store says who runs what), and each is Redis traffic and CPU a
task's worth of work does not need."""


def worker_argv(args: argparse.Namespace) -> list[str]:
    """The ``celery worker`` arguments ``switchboard worker`` runs with (B6 measures this
    same command, ``tests/benchmarks/bench_roundtrip.py``)."""
    argv = ["worker", f"--loglevel={args.loglevel}", f"--pool={args.pool}", *WORKER_EVENTS_OFF]
    concurrency = args.concurrency or worker_concurrency(args.pool)
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    return argv


def worker_concurrency(pool: str, cpus: int | None = None) -> int | None:
    """``switchboard worker``'s default run slots: with threads twice the CPU count, at least
    4 (a run mostly waits on the network or the database, and one process's threads overlap
    those waits); with prefork Celery's own default (the CPU count)."""
    if pool != "threads":
        return None
    return max(4, 2 * (cpus or os.cpu_count() or 1))


def _scheduler(args: argparse.Namespace) -> int:
    settings = _redis_settings("scheduler")
    from engine.celery_app import app

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    schedule = settings.var_dir / "celerybeat-schedule"
    app.start(["beat", "--loglevel=INFO", f"--schedule={schedule}"])
    return EXIT_OK


def _backup(args: argparse.Namespace) -> int:
    from engine.store import StoreError
    from engine.store.backup import backup_database, dump_backup, summarize

    try:
        document = backup_database(_settings().database_url, with_history=args.with_history)
    except StoreError as error:
        raise CommandError(str(error)) from None
    output: Path | None = args.output
    data = dump_backup(document, compress=output is not None and output.suffix == ".gz")
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)
        output.chmod(0o600)  # it holds webhook tokens and password hashes
    print(f"backed up: {summarize(document).describe()}", file=sys.stderr)
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    from engine.store import StoreError
    from engine.store.backup import InvalidBackup, load_backup, restore_database

    data = sys.stdin.buffer.read() if str(args.file) == "-" else _read(args.file)
    settings = _settings()
    try:
        document = load_backup(data)
    except InvalidBackup as error:
        raise CommandError(f"{args.file}: {error}", EXIT_BAD_INPUT) from None
    try:
        summary = restore_database(
            settings.database_url,
            document,
            secret_box=_existing_secret_box(settings),
            force=args.force,
        )
    except StoreError as error:
        raise CommandError(str(error)) from None
    print(f"restored the backup of {summary.created_at}: {summary.describe()}")
    return EXIT_OK


def _existing_secret_box(settings: Any) -> Any:
    """The configured key (``SWITCHBOARD_SECRET_KEY`` or ``var/secret.key``), never a new one:
    a key made up now could not decrypt the backup's secrets."""
    from engine.config import SECRET_KEY_FILE

    if settings.secret_key is None and not (settings.var_dir / SECRET_KEY_FILE).exists():
        return None
    return settings.with_secret_key_file().secret_box()


def _db_upgrade(args: argparse.Namespace) -> int:
    from engine.store import head_revision, upgrade_database

    upgrade_database(_settings().database_url)
    print(f"database is at revision {head_revision()}")
    return EXIT_OK


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror}", EXIT_BAD_INPUT) from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read(path).decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: not valid JSON: {error}", EXIT_BAD_INPUT) from None


if __name__ == "__main__":
    sys.exit(main())
