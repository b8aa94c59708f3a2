"""``switchboard pack list|install|status|sync``: the sync packs from the command line (the
editor's setup page does the same through the API). Packs: ``engine.packs``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_pack_commands(commands: Any) -> None:
    pack = commands.add_parser("pack", help="sync packs: install, status, historical sync")
    actions = pack.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="the packs there are")
    listing.set_defaults(handler=_list)

    install = actions.add_parser(
        "install", help="generate (or update) a pack's scenarios and activate them"
    )
    install.add_argument("name", metavar="NAME")
    install.add_argument(
        "--connection", action="append", default=[], metavar="APP=ID", help="for both apps"
    )
    install.add_argument(
        "--direction",
        action="append",
        default=[],
        metavar="PAIR=DIR",
        help="both, to_accounting, to_crm or off (default: the pack's)",
    )
    install.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    install.add_argument(
        "--tax", action="append", default=[], metavar="NAME=CODE", help="a row of the tax table"
    )
    install.add_argument("--interval", type=int, metavar="MINUTES", help="between polls")
    install.add_argument(
        "--settings",
        type=Path,
        metavar="FILE.json",
        help="every choice as the setup page sends it (mapping, filters …); flags win",
    )
    install.add_argument(
        "--since", metavar="DATE", help="then sync historical data changed since DATE"
    )
    install.set_defaults(handler=_install)

    status = actions.add_parser("status", help="a pack's scenarios and their health")
    status.add_argument("name", metavar="NAME")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_status)

    sync = actions.add_parser("sync", help="sync historical data changed since DATE")
    sync.add_argument("name", metavar="NAME")
    sync.add_argument("--since", required=True, metavar="DATE")
    sync.set_defaults(handler=_sync)


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    from switchboard.cli import CommandError

    found = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"{flag} {value!r}: expected KEY=VALUE", EXIT_BAD_INPUT)
        found[key.strip()] = rest
    return found


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The setup page's settings from ``--settings`` and the flags (which win)."""
    settings: dict[str, Any] = {}
    if args.settings:
        from switchboard.cli import _read_json

        settings = dict(_read_json(args.settings))
    for key, flag, values in (
        ("directions", "--direction", args.direction),
        ("options", "--option", args.option),
        ("taxes", "--tax", args.tax),
    ):
        if values:
            settings[key] = {**settings.get(key, {}), **_pairs(values, flag)}
    if args.interval is not None:
        settings["interval_minutes"] = args.interval
    return settings


def _list(args: argparse.Namespace) -> int:
    from engine.packs import list_packs

    for pack in list_packs():
        pairs = ", ".join(pair.key for pair in pack.pairs)
        print(f"{pack.name}\t{pack.title}\t({pairs})")
    return EXIT_OK


def _install(args: argparse.Namespace) -> int:
    from engine.service import ServiceError, build_service, shutdown_service
    from switchboard.cli import CommandError, _connection_bindings, _settings

    settings = settings_from_args(args)
    service = build_service(_settings(), upgrade=True)
    try:
        made = service.install_pack(args.name, _connection_bindings(args.connection), settings)
        for scenario in made:
            state = "active" if scenario.active else "off"
            print(f"[{scenario.id}] {scenario.name}: {scenario.change}, {state}")
        if args.since:
            service.sync_historical(args.name, args.since, progress=_print_progress)
    except ServiceError as error:
        raise CommandError(str(error), EXIT_BAD_INPUT) from None
    finally:
        shutdown_service(service)
    return EXIT_OK


def _print_progress(state: Any) -> None:
    where = f" — {state.current}" if state.current else ""
    print(
        f"historical sync since {state.since}: {state.done}/{state.total} scenarios, "
        f"{state.records} records{where}",
        file=sys.stderr,
        flush=True,
    )


def _sync(args: argparse.Namespace) -> int:
    from engine.service import ServiceError, build_service, shutdown_service
    from switchboard.cli import CommandError, _settings

    service = build_service(_settings(), upgrade=True)
    try:
        state = service.sync_historical(args.name, args.since, progress=_print_progress)
    except ServiceError as error:
        raise CommandError(str(error), EXIT_BAD_INPUT) from None
    finally:
        shutdown_service(service)
    for problem in state.errors:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_OK if not state.errors else 1


def _status(args: argparse.Namespace) -> int:
    from engine.service import ServiceError, build_service, shutdown_service
    from switchboard.cli import CommandError, _settings

    service = build_service(_settings(), upgrade=True)
    try:
        health = service.pack_health(args.name)
        settings = service.pack_settings(args.name)
    except ServiceError as error:
        raise CommandError(str(error), EXIT_BAD_INPUT) from None
    finally:
        shutdown_service(service)
    if args.json:
        body = {"settings": settings.to_dict() if settings else None, "scenarios": health}
        print(json.dumps(body, indent=2))
        return EXIT_OK
    if not health:
        print(f"{args.name} is not installed")
    for row in health:
        state = "active" if row["active"] else "off"
        print(
            f"[{row['id']}] {row['name']} ({state}): last sync {row['last_sync'] or 'never'}"
            f" {row['last_status'] or ''}; {row['errors']} errors, {row['not_valid']} not valid"
        )
    return EXIT_OK


# -- make demo LIBRARY=<pack> ---------------------------------------------------------------------

DEMO_PACKS = ("zoho-quickbooks", "zoho-xero", "crm-quickbooks")
ZOHO_CLIENT = ("1000.SANDBOXCLIENTID", "sandbox-client-secret")


def demo_pack(args: argparse.Namespace) -> int:
    """``switchboard demo --library <pack>``: the pack's sandboxes seeded with their demo
    fixtures, connections to them, the pack installed with its defaults (polling every
    ``--interval`` seconds) and its history synced from 2000-01-01, served until interrupted."""
    import os
    import shutil
    import socket

    from engine.packs import find_pack
    from modules.sandboxing import run_sandbox_in_thread
    from switchboard import cli

    pack = find_pack(args.library)
    port = args.port
    if port == 0:
        with socket.socket() as probe:
            probe.bind((args.host, 0))
            port = probe.getsockname()[1]
    base_url = f"http://{args.host}:{port}"
    urls, stops = {}, []
    for app in pack.connection_apps:
        url, stop = run_sandbox_in_thread(_demo_sandbox(app, base_url))
        urls[app] = url
        stops.append(stop)
    if args.var_dir.exists():
        shutil.rmtree(args.var_dir)  # a demo starts from scratch every time
    os.environ["SWITCHBOARD_VAR_DIR"] = str(args.var_dir.resolve())
    os.environ["SWITCHBOARD_BASE_URL"] = base_url
    os.environ["SWITCHBOARD_ALLOW_PRIVATE_NETWORK"] = "1"  # the sandboxes listen here
    try:
        lines = _demo_pack_setup(pack.name, urls, args.interval)
        for app, url in urls.items():
            print(f"{pack.labels.get(app, app)} sandbox: {url}")
        for line in lines:
            print(line)
        print(
            f"sign in as {cli.DEMO_USER[0]} / {cli.DEMO_USER[1]}; setup page: /#/packs/{pack.name}"
        )
        from webui.serve import serve

        serve(cli._settings(), args.host, port, announce=lambda line: print(line, flush=True))
    finally:
        for stop in reversed(stops):
            stop()
    return EXIT_OK


def _demo_sandbox(app: str, base_url: str, fixture: str = "demo") -> Any:
    from switchboard import cli

    if app == "zohocrm":
        from modules.zohocrm import sandbox

        return sandbox.create_app({"fixture": fixture})
    if app == "quickbooks":
        from modules.quickbooks import sandbox as qbo

        return qbo.create_app(
            {
                "fixture": fixture,
                "webhook_url": f"{base_url}/hooks/apps/quickbooks",
                "webhook_key": cli.DEMO_VERIFIER,
            }
        )
    from modules.xero import sandbox as xero

    # The demo's historical sync reads the whole demo company at once: more than Xero's 60
    # calls a minute (a real organisation's history syncs over several runs).
    return xero.create_app({"fixture": fixture, "rate_limit_per_minute": 1200})


def _demo_pack_setup(name: str, urls: dict[str, str], interval: int) -> list[str]:
    import dataclasses

    from engine.service import build_service, shutdown_service
    from switchboard import cli
    from webui.auth import new_password_hash

    settings = dataclasses.replace(cli._settings(), allow_private_network=True)
    service = build_service(settings, upgrade=True)
    store, registry = service.store, service.registry
    try:
        email, password = cli.DEMO_USER
        store.create_first_user(
            email, "Demo", "owner", new_password_hash(password, email=email, name="Demo")
        )
        bindings = {}
        for app, url in urls.items():
            if app == "zohocrm":
                bindings[app] = _demo_zoho_connection(store, registry, url).id
            else:
                bindings[app] = cli._demo_oauth_connection(store, registry, app, url).id
        made = service.install_pack(name, bindings, {"interval_minutes": max(1, interval // 60)})
        lines = [f"  [{s.id}] {s.name}: {'active' if s.active else 'off'}" for s in made]
        state = service.sync_historical(name, "2000-01-01")
        lines.append(f"historical sync: {state.records} records read, {len(state.errors)} errors")
        for row in service.pack_health(name):
            if row["webhook_url"]:
                lines.append(f"  webhook of [{row['id']}] {row['name']}: {row['webhook_url']}")
        return lines
    finally:
        shutdown_service(service)


def _demo_zoho_connection(store: Any, registry: Any, sandbox_url: str) -> Any:
    """A Zoho CRM connection to the sandbox, consented as the web app does it (the sandbox
    approves at once; Zoho takes the client secret in the exchange's form)."""
    from datetime import UTC, datetime
    from urllib.parse import parse_qs, urlsplit

    import requests

    from engine.connections import authorization_url, token_secrets
    from modules.zohocrm.connection import callback_data

    kind = registry.connection_kind("zohocrm")
    client_id, secret = ZOHO_CLIENT
    data: dict[str, Any] = {"client_id": client_id, "authorize_url": f"{sandbox_url}/oauth/v2/auth"}
    redirect = "http://localhost/oauth/callback"
    with requests.Session() as http:
        consent = http.get(
            authorization_url(kind, data, redirect_uri=redirect, state="demo"),
            allow_redirects=False,
        )
        query = parse_qs(urlsplit(consent.headers["Location"]).query)
        callback = {k: v[0] for k, v in query.items()}
        data.update(callback_data(callback))
        answer = http.post(
            data["token_url"],
            data={
                "grant_type": "authorization_code",
                "code": callback["code"],
                "redirect_uri": redirect,
                "client_id": client_id,
                "client_secret": secret,
            },
        ).json()
        data["api_domain"] = answer["api_domain"]
        secrets = token_secrets({"client_secret": secret}, answer, datetime.now(UTC))
        data.update(kind.on_authorized(data, secrets["access_token"], http))
    return store.create_connection(
        "zohocrm", "oauth2", "Zoho CRM sandbox", data=data, secrets=secrets
    )
