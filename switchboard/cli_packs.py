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
    from engine.cli import CommandError

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
        from engine.cli import _read_json

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
    from engine.cli import CommandError, _connection_bindings, _settings

    from engine.service import ServiceError, build_service, shutdown_service

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
    from engine.cli import CommandError, _settings

    from engine.service import ServiceError, build_service, shutdown_service

    service = build_service(_settings(), upgrade=True)
    try:
        state = service.sync_historical(args.name, args.since, progress=_print_progress)
    except ServiceError as error:
        raise CommandError(str(error), EXIT_BAD_INPUT) from None
    finally:
        shutdown_service(service)
    for error in state.errors:
        print(f"error: {error}", file=sys.stderr)
    return EXIT_OK if not state.errors else 1


def _status(args: argparse.Namespace) -> int:
    from engine.cli import CommandError, _settings

    from engine.service import ServiceError, build_service, shutdown_service

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
