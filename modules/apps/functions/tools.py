"""Helpers for the smaller apps (Lokalise, Tally, Google Calendar, ClickUp, Stripe, DocuSign …):
Make's shapes of a few values as their APIs want them."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from engine.mapping.values import to_date
from modules.apps.functions import helper


def _list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [value]


def _plain(item: Any) -> Any:
    return item.get("value", item) if isinstance(item, Mapping) else item


def _number(value: Any) -> Any:
    try:
        number = float(str(value))
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


@helper("lokaliseKeys", (1, 1))
def lokalise_keys(ctx: Any, keys: Any) -> list[Any]:
    """Key IDs as numbers, from an array (of values or ``{value}``) or comma-separated text."""
    return [_number(_plain(key)) for key in _list(keys) if _plain(key) not in (None, "")]


@helper("lokaliseLanguages", (1, 1))
def lokalise_languages(ctx: Any, languages: Any) -> list[dict[str, Any]]:
    """Make's task languages (``{language_iso, Type: {users, groups}}``, users given as
    ``{team_id, user_id: […]}``) as the API's ``{language_iso, users, groups}``."""
    result = []
    for language in _list(languages):
        if not isinstance(language, Mapping):
            continue
        chosen = language.get("Type") or {}
        users: list[Any] = []
        for user in _list(chosen.get("users") or language.get("users")):
            ids = user.get("user_id") if isinstance(user, Mapping) else user
            users += [_number(i) for i in _list(ids)]
        groups = [_number(_plain(g)) for g in _list(chosen.get("groups") or language.get("groups"))]
        item: dict[str, Any] = {"language_iso": language.get("language_iso")}
        if users:
            item["users"] = users
        if groups:
            item["groups"] = groups
        result.append(item)
    return result


@helper("tallyFields", (2, 2))
def tally_fields(ctx: Any, fields: Any, key: Any) -> dict[str, Any]:
    """Tally's answer fields as a collection by ``label`` or ``key``; a choice's option IDs
    read as the options' texts."""
    result: dict[str, Any] = {}
    for field in _list(fields):
        if not isinstance(field, Mapping):
            continue
        value = field.get("value")
        options = {
            o.get("id"): o.get("text") for o in field.get("options") or [] if isinstance(o, Mapping)
        }
        if options and isinstance(value, list):
            value = [options.get(v, v) for v in value]
        elif options and value in options:
            value = options[value]
        result[str(field.get(str(key)))] = value
    return result


@helper("calendarTime", (2, 3))
def calendar_time(ctx: Any, value: Any, all_day: Any, zone: Any = None) -> dict[str, Any]:
    """An event's start or end: ``{date}`` for an all-day event, else ``{dateTime}``."""
    moment = value if isinstance(value, datetime) else to_date(value)
    if all_day is True or str(all_day).lower() == "true":
        return {"date": moment.strftime("%Y-%m-%d")}
    time = {"dateTime": moment.isoformat()}
    if zone:
        time["timeZone"] = str(zone)
    return time


@helper("calendarEnd", (3, 4))
def calendar_end(
    ctx: Any, start: Any, end: Any, all_day: Any, duration: Any = None
) -> dict[str, Any]:
    """An event's end: the one given, else the start plus its duration (``HH:mm``), else one
    hour (one day for an all-day event) after the start."""
    if end not in (None, ""):
        return calendar_time(ctx, end, all_day)
    moment = start if isinstance(start, datetime) else to_date(start)
    if all_day is True or str(all_day).lower() == "true":
        return calendar_time(ctx, moment + timedelta(days=1), True)
    hours, _, minutes = str(duration or "01:00").partition(":")
    length = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    return calendar_time(ctx, moment + length, False)


@helper("millis", (1, 1))
def millis(ctx: Any, value: Any) -> int | None:
    """A date as milliseconds since 1970 (ClickUp's dates); empty stays empty."""
    if value in (None, ""):
        return None
    moment = value if isinstance(value, datetime) else to_date(value)
    return int(moment.timestamp() * 1000)


@helper("keyValues", (1, 1))
def key_values(ctx: Any, pairs: Any) -> dict[str, Any]:
    """Make's ``[{key, value}]`` lists as a collection (empty keys left out)."""
    result: dict[str, Any] = {}
    for pair in _list(pairs):
        if isinstance(pair, Mapping) and pair.get("key") not in (None, ""):
            result[str(pair["key"])] = pair.get("value")
    return result


@helper("formFields", (1, 1))
def form_fields(ctx: Any, value: Any) -> dict[str, Any]:
    """A collection as the bracketed form fields Stripe's API reads (``address[city]``,
    ``metadata[plan]``, ``preferred_locales[0]``); empty values are left out."""
    fields: dict[str, Any] = {}

    def add(prefix: str, item: Any) -> None:
        if isinstance(item, Mapping):
            for key, inner in item.items():
                add(f"{prefix}[{key}]" if prefix else str(key), inner)
        elif isinstance(item, list):
            for index, inner in enumerate(item):
                add(f"{prefix}[{index}]", inner)
        elif item not in (None, ""):
            fields[prefix] = item

    add("", value if isinstance(value, Mapping) else {})
    return fields


@helper("docusignDocuments", (1, 1))
def docusign_documents(ctx: Any, documents: Any) -> list[dict[str, Any]]:
    """Make's envelope documents with their data as DocuSign's base64 text."""
    result = []
    for document in _list(documents):
        if not isinstance(document, Mapping):
            continue
        data = document.get("documentBase64")
        content = data if isinstance(data, bytes) else str(data or "").encode("utf-8")
        item = {k: v for k, v in document.items() if k != "documentBase64" and v not in (None, "")}
        item["documentBase64"] = base64.b64encode(content).decode("ascii")
        result.append(item)
    return result


@helper("docusignRecipients", (1, 1))
def docusign_recipients(ctx: Any, recipients: Any) -> dict[str, Any]:
    """Make's envelope recipients (``Signers``, ``CarbonCopies`` …) under DocuSign's names
    (``signers``, ``carbonCopies`` …), booleans as DocuSign's ``"true"``/``"false"``."""
    result: dict[str, Any] = {}
    for kind, people in (recipients or {}).items() if isinstance(recipients, Mapping) else []:
        name = str(kind)[:1].lower() + str(kind)[1:]
        result[name] = [
            {
                k: (str(v).lower() if isinstance(v, bool) else v)
                for k, v in person.items()
                if v not in (None, "", {})
            }
            for person in _list(people)
            if isinstance(person, Mapping)
        ]
    return result
