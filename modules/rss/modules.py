"""RSS, RSS 1.0 (RDF) and Atom feeds as Make's RSS modules output them.

An item bundle has ``title``, ``description``, ``summary``, ``author``, ``url``, ``dateCreated``,
``dateUpdated`` (ISO 8601, UTC), ``comments``, ``image`` and ``source`` (``{title, url}``),
``categories``, ``enclosures`` (``[{url, type, length}]``) and ``rssFields``: the item's own
elements as text (``title``, ``link``, ``description``, ``pubdate``, ``guid`` and any other).

The watch trigger's cursor is the list of item ids (``guid``, else link, else title and date)
it has seen and that the feed still lists; each run outputs the unseen items, oldest first, at
most ``maxResults``, and remembers them only when the run commits.
"""

from __future__ import annotations

import io
from calendar import timegm
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from engine.errors import DataError, InvalidConfigurationError
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec
from modules.http.request import HttpRequest, send

_LAX = ConfigDict(extra="allow")
FEED_TIMEOUT_SECONDS = 40.0
MAX_RESULTS = 1000


class FeedSettings(BaseModel):
    """Where the feed is and how to ask for it (mapper of Retrieve, parameters of Watch)."""

    model_config = _LAX

    url: str = Field(default="", title="URL")
    username: str = Field(default="", title="User name")
    password: str = Field(default="", title="Password")
    gzip: bool = Field(default=True, title="Request compressed content")
    maxResults: int = Field(
        default=MAX_RESULTS, ge=0, strict=False, title="Maximum number of returned items"
    )

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        """An empty form field (``""``) means the field's default, as in Make."""
        name = info.field_name
        if value == "" and name is not None and name not in ("username", "password", "url"):
            return cls.model_fields[name].default
        return value


class ReadArticlesInput(FeedSettings):
    filterDateFrom: datetime | None = Field(default=None, title="Date from")
    filterDateTo: datetime | None = Field(default=None, title="Date to")


class RssParameters(BaseModel):
    model_config = _LAX


class WatchParameters(FeedSettings):
    pass


class Link(BaseModel):
    title: str | None = None
    url: str | None = None


class Enclosure(BaseModel):
    url: str | None = None
    type: str | None = None
    length: int | None = None


class ItemOutput(BaseModel):
    title: str | None = None
    description: str | None = None
    summary: str | None = None
    author: str | None = None
    url: str | None = None
    dateUpdated: str | None = None
    dateCreated: str | None = None
    comments: str | None = None
    image: Link | None = None
    categories: list[str] = []
    source: Link | None = None
    enclosures: list[Enclosure] = []
    rssFields: dict[str, Any] = {}


# -- fetching and reading ---------------------------------------------------------------------


def fetch_feed(call: ModuleCall, settings: FeedSettings) -> list[Any]:
    """The feed's entries, in the feed's order."""
    if not settings.url:
        raise InvalidConfigurationError("the feed URL is empty")
    headers = [("Accept", "application/rss+xml, application/atom+xml, application/xml;q=0.9")]
    if not settings.gzip:
        headers.append(("Accept-Encoding", "identity"))
    auth = (settings.username, settings.password) if settings.username else None
    request = HttpRequest(
        method="GET", url=settings.url, headers=headers, auth=auth, timeout=FEED_TIMEOUT_SECONDS
    )
    answer = send(
        call.context.http, request, allow_private_network=call.context.run.allow_private_network
    )
    body = answer["data"]
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
    # A file object, never the text: given a string, feedparser may read it as a path or URL.
    feed = feedparser.parse(io.BytesIO(raw), sanitize_html=False, resolve_relative_uris=False)
    if not feed.entries and (feed.bozo or not feed.version):
        reason = feed.get("bozo_exception") or "no feed version recognised"
        raise DataError(f"{settings.url} is not an RSS or Atom feed: {reason}")
    # Plain dicts: FeedParserDict answers missing keys with deprecated look-alikes.
    return [dict(entry) for entry in feed.entries]


def item_bundle(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One feed item as Make's RSS modules output it."""
    content = entry.get("content") or []
    description = content[0].get("value") if content else entry.get("summary")
    return {
        "title": entry.get("title"),
        "description": description,
        "summary": entry.get("summary"),
        "author": entry.get("author"),
        "url": entry.get("link"),
        "dateUpdated": _iso(entry.get("updated_parsed") or entry.get("published_parsed")),
        "dateCreated": _iso(entry.get("published_parsed") or entry.get("updated_parsed")),
        "comments": entry.get("comments"),
        "image": _image(entry),
        "categories": [tag.get("term") for tag in entry.get("tags") or [] if tag.get("term")],
        "source": _source(entry.get("source")),
        "enclosures": [_enclosure(link) for link in _links(entry, "enclosure")],
        "rssFields": _rss_fields(entry),
    }


def _iso(parsed: Any) -> str | None:
    if not parsed:
        return None
    moment = datetime.fromtimestamp(timegm(parsed), tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _image(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    image = entry.get("image")
    if isinstance(image, Mapping) and image.get("href"):
        return {"title": image.get("title"), "url": image.get("href")}
    thumbnails = entry.get("media_thumbnail") or entry.get("media_content") or []
    if thumbnails and thumbnails[0].get("url"):
        return {"title": None, "url": thumbnails[0]["url"]}
    return None


def _source(source: Any) -> dict[str, Any] | None:
    if not isinstance(source, Mapping) or not (source.get("title") or source.get("href")):
        return None
    return {"title": source.get("title"), "url": source.get("href") or source.get("link")}


def _links(entry: Mapping[str, Any], rel: str) -> list[Mapping[str, Any]]:
    return [link for link in entry.get("links") or [] if link.get("rel") == rel]


def _enclosure(enclosure: Mapping[str, Any]) -> dict[str, Any]:
    length = str(enclosure.get("length") or "")
    return {
        "url": enclosure.get("href"),
        "type": enclosure.get("type"),
        "length": int(length) if length.isdigit() else None,
    }


_RSS_NAMES = {"summary": "description", "published": "pubdate", "id": "guid"}


def _rss_fields(entry: Mapping[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in entry.items():
        if isinstance(value, str) and not name.endswith(("_detail", "_parsed")):
            fields[_RSS_NAMES.get(name, name)] = value
    return fields


def item_id(entry: Mapping[str, Any]) -> str:
    """What tells one item from another: its guid, else its link, else title and date."""
    return str(
        entry.get("id")
        or entry.get("link")
        or f"{entry.get('title')}|{entry.get('published') or entry.get('updated')}"
    )


# -- modules -----------------------------------------------------------------------------------


def read_articles(call: ModuleCall) -> Iterator[Bundle]:
    """The feed's items (feed order) dated within the filter, at most ``maxResults``."""
    data = call.input_as(ReadArticlesInput)
    count = 0
    for entry in fetch_feed(call, data):
        if count >= data.maxResults:
            return
        if _within(entry, data.filterDateFrom, data.filterDateTo):
            count += 1
            yield item_bundle(entry)


def _within(entry: Mapping[str, Any], since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return False
    moment = datetime.fromtimestamp(timegm(parsed), tz=UTC)
    return (since is None or moment >= _aware(since)) and (until is None or moment <= _aware(until))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def watch_articles(call: ModuleCall) -> Iterator[Bundle]:
    """New items since the last committed run, oldest first, at most ``maxResults``.

    Without a cursor, the user's "choose where to start" decides: ``all`` outputs the feed's
    items, ``since`` those dated after its date, ``now`` (and no choice) outputs nothing and
    watches from the next run on.
    """
    settings = call.parameters_as(WatchParameters)
    entries = list(reversed(fetch_feed(call, settings)))  # feeds list the newest first
    listed = [item_id(entry) for entry in entries]
    seen = _seen(call)
    if seen is None:
        seen = _start_seen(call, entries)
    fresh = [entry for entry in entries if item_id(entry) not in seen][: settings.maxResults]
    output = [item_id(entry) for entry in fresh]
    call.context.advance_cursor({"seen": [i for i in listed if i in seen or i in output]})
    for entry in fresh:
        yield item_bundle(entry)


def _seen(call: ModuleCall) -> set[str] | None:
    cursor = call.context.cursor
    if isinstance(cursor, Mapping) and isinstance(cursor.get("seen"), list):
        return set(map(str, cursor["seen"]))
    return None


def _start_seen(call: ModuleCall, entries: Iterable[Mapping[str, Any]]) -> set[str]:
    choice = call.context.start or {"type": "now"}
    kind = choice.get("type")
    if kind == "all":
        return set()
    if kind == "since":
        since = datetime.fromisoformat(str(choice.get("date")).replace("Z", "+00:00"))
        return {item_id(e) for e in entries if not _within(e, since, None)}
    return {item_id(entry) for entry in entries}


_EXTRA_NAMESPACES = (
    "the fields of the extra namespaces (iTunes, Google Merchant Center) are always in "
    "rssFields, whether chosen or not"
)

RSS_MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="rss:ActionReadArticles",
        kind=ModuleKind.SEARCH,
        label="Retrieve RSS feed items",
        version=4,
        parameters=RssParameters,
        input=ReadArticlesInput,
        output=ItemOutput,
        run=read_articles,
        ignored_keys={"include": _EXTRA_NAMESPACES},
        effect=Effect.SEARCH,
    ),
    ModuleSpec(
        id="rss:TriggerNewArticle",
        kind=ModuleKind.TRIGGER,
        label="Watch RSS feed items",
        version=4,
        parameters=WatchParameters,
        output=ItemOutput,
        run=watch_articles,
        ignored_keys={"include": _EXTRA_NAMESPACES},
        effect=Effect.WATCH,
    ),
)
