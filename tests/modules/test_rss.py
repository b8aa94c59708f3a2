"""Make's RSS app against a local HTTP server serving RSS 2.0 and Atom feeds."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from flask import Flask, request

from engine.errors import DataError
from engine.registry import default_registry
from engine.runtime import ModuleContext, RunVariables, Transaction
from engine.spec import ModuleCall
from modules.http.guard import BlockedAddressError
from modules.sandboxing import run_sandbox_in_thread
from tests.modules.helpers import call_module, http_context

REGISTRY = default_registry()

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Site news</title><link>https://news.example/</link>
{items}
</channel></rss>"""

ITEM = """<item><title>{title}</title><link>https://news.example/{n}</link>
<guid>news-{n}</guid><pubDate>{date}</pubDate><author>ed@news.example (Ed)</author>
<description>&lt;p&gt;Summary {n}&lt;/p&gt;</description><category>Build</category>
<category>Tech</category><comments>https://news.example/{n}#c</comments>
<enclosure url="https://news.example/{n}.mp3" type="audio/mpeg" length="1234"/></item>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom site</title>
<entry><title>Atom one</title><link href="https://atom.example/1"/><id>urn:a:1</id>
<updated>2026-03-31T10:00:00Z</updated><published>2026-03-30T09:00:00Z</published>
<summary>Short</summary><content type="html">&lt;p&gt;Long&lt;/p&gt;</content>
<author><name>Ann</name></author></entry></feed>"""

DATES = {
    1: "Mon, 30 Mar 2026 08:00:00 GMT",
    2: "Tue, 31 Mar 2026 08:00:00 GMT",
    3: "Wed, 01 Apr 2026 07:00:00 GMT",
}


class FeedServer:
    def __init__(self):
        self.items = [1, 2]
        self.requests = []
        app = Flask("feeds")
        app.add_url_rule("/rss", view_func=self.rss)
        app.add_url_rule(
            "/atom", "atom", view_func=lambda: (ATOM, 200, {"content-type": "text/xml"})
        )
        app.add_url_rule("/private", view_func=self.private)
        app.add_url_rule("/html", "html", view_func=lambda: ("<html>no feed</html>", 200))
        self.app = app

    def rss(self):
        self.requests.append(dict(request.headers))
        newest_first = sorted(self.items, reverse=True)
        items = "\n".join(ITEM.format(n=n, title=f"Item {n}", date=DATES[n]) for n in newest_first)
        return RSS.format(items=items), 200, {"content-type": "application/rss+xml"}

    def private(self):
        expected = "Basic " + base64.b64encode(b"reader:s3cret").decode()
        if request.headers.get("authorization") != expected:
            return "who are you", 401
        return self.rss()


@pytest.fixture
def feeds():
    server = FeedServer()
    base_url, stop = run_sandbox_in_thread(server.app)
    server.base_url = base_url
    yield server
    stop()


def read(feeds, path="/rss", **mapped):
    context = http_context(allow_private_network=True)
    return call_module(
        REGISTRY["rss:ActionReadArticles"],
        {"url": feeds.base_url + path, **mapped},
        run_context=context,
    )


def test_retrieve_feed_items_as_make_outputs_them(feeds):
    first, second = read(feeds)
    assert first["title"] == "Item 2"
    assert first["url"] == "https://news.example/2"
    assert first["summary"] == first["description"] == "<p>Summary 2</p>"
    assert first["dateCreated"] == "2026-03-31T08:00:00.000Z"
    assert first["categories"] == ["Build", "Tech"]
    assert first["comments"] == "https://news.example/2#c"
    assert first["enclosures"] == [
        {"url": "https://news.example/2.mp3", "type": "audio/mpeg", "length": 1234}
    ]
    assert first["rssFields"]["guid"] == "news-2"
    assert first["rssFields"]["pubdate"] == DATES[2]
    assert second["title"] == "Item 1"


def test_retrieve_filters_by_date_and_limits(feeds):
    feeds.items = [1, 2, 3]
    dated = read(feeds, filterDateFrom="2026-03-31T00:00:00Z", maxResults="20")
    assert [item["title"] for item in dated] == ["Item 3", "Item 2"]
    assert [item["title"] for item in read(feeds, maxResults=1)] == ["Item 3"]
    until = read(feeds, filterDateTo="2026-03-30T23:00:00Z", filterDateFrom="")
    assert [item["title"] for item in until] == ["Item 1"]


def test_retrieve_reads_atom(feeds):
    [entry] = read(feeds, "/atom")
    assert (entry["title"], entry["url"], entry["author"]) == (
        "Atom one",
        "https://atom.example/1",
        "Ann",
    )
    assert (entry["summary"], entry["description"]) == ("Short", "<p>Long</p>")
    assert entry["dateCreated"] == "2026-03-30T09:00:00.000Z"
    assert entry["dateUpdated"] == "2026-03-31T10:00:00.000Z"


def test_retrieve_with_basic_auth_and_without_compression(feeds):
    items = read(feeds, "/private", username="reader", password="s3cret", gzip=False)
    assert len(items) == 2
    assert feeds.requests[-1]["Accept-Encoding"] == "identity"
    with pytest.raises(DataError, match="401"):
        read(feeds, "/private", username="reader", password="wrong")


def test_retrieve_refuses_what_is_not_a_feed(feeds):
    with pytest.raises(DataError, match="not an RSS or Atom feed"):
        read(feeds, "/html")


def test_retrieve_goes_through_the_ssrf_guard(feeds):
    context = http_context()  # private addresses are not allowed by default
    with pytest.raises(BlockedAddressError):
        call_module(
            REGISTRY["rss:ActionReadArticles"],
            {"url": feeds.base_url + "/rss"},
            run_context=context,
        )


def watch(feeds, cursor=None, start=None, limit=10):
    spec = REGISTRY["rss:TriggerNewArticle"]
    context = ModuleContext(
        run=http_context(allow_private_network=True),
        variables=RunVariables(),
        transaction=Transaction(),
        module_id=1,
        cursor=cursor,
        start=start,
    )
    parameters = {"url": feeds.base_url + "/rss", "maxResults": limit, "include": []}
    call = ModuleCall(
        module_id=1,
        parameters=spec.parameters.model_validate(parameters),
        input=spec.input.model_validate({}),
        context=context,
    )
    titles = [item["title"] for item in spec.run(call)]
    return titles, context.pending_cursor


def test_watch_outputs_only_new_items_oldest_first(feeds):
    titles, cursor = watch(feeds)  # no choice: from now on
    assert titles == []
    feeds.items = [1, 2, 3]
    titles, cursor = watch(feeds, cursor)
    assert titles == ["Item 3"]
    titles, cursor = watch(feeds, cursor)
    assert titles == []
    assert cursor == {"seen": ["news-1", "news-2", "news-3"]}


def test_watch_where_to_start_and_limit(feeds):
    titles, cursor = watch(feeds, start={"type": "all"}, limit=1)
    assert titles == ["Item 1"]
    titles, _ = watch(feeds, cursor)
    assert titles == ["Item 2"]
    since = {"type": "since", "date": datetime(2026, 3, 31, tzinfo=UTC).isoformat()}
    titles, _ = watch(feeds, start=since)
    assert titles == ["Item 2"]


FEED_PATHS = (
    "/feeds/news/",
    "/en/atom/",
    "/rss/articles",
    "/rss.xml",
    "/rss",
    "/news/rss",
    "/globest/washington-dc",
    "/feed",
    "/rss/news-releases.xml",
    "/feeds/topic/technology/",
)


def test_corpus_integration_rss_reads_ten_feeds_into_a_digest(tmp_path):
    """Aaditya-Patel's "Integration RSS": ten feeds (last 30 days) → text aggregators → an AI
    summary per feed and a ranked digest (a local stand-in answers) → one Google Sheets row
    per ranked item and one digest email (both stubbed)."""
    import json

    from engine.store import open_store
    from tests.modules.corpus_runs import LocalServer, run_corpus_blueprint

    old = ITEM.format(n=1, title="Too old", date="Mon, 02 Feb 2026 08:00:00 GMT")
    new = ITEM.format(n=2, title="Robots on site", date=DATES[2])
    feed = RSS.format(items=new + old)
    digest = {"items": [{"rank": 1, "product": "Robots"}, {"rank": 2, "product": "Drones"}]}
    answer = {"choices": [{"message": {"content": "```json\n" + json.dumps(digest) + "\n```"}}]}
    routes = {
        path: (lambda: (feed, 200, {"content-type": "application/rss+xml"})) for path in FEED_PATHS
    }
    routes["/openai/deployments/gpt-5-mini/chat/completions"] = lambda: (
        json.dumps(answer),
        200,
        {"content-type": "application/json"},
    )
    server = LocalServer(routes=routes)
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        keys = store.create_data_store("keys", max_size_bytes=10_000).id
        store.put_record(keys, "x-api-key", {"value": "az-key"})

        def choose_data_store(blueprint):
            [getter] = [item for item in blueprint.flow if item.id == 9]
            getter.parameters = {"datastore": keys}

        run = run_corpus_blueprint(
            "Aaditya-Patel__make-com-workflow__Integration_RSS.blueprint.json",
            server,
            stubs=("google-sheets:addRow", "google-email:sendAnEmail"),
            context={"data_stores": store},
            edit=choose_data_store,
        )
    assert run.record["status"] == "success", run.record.get("error")
    paths = [request["path"] for request in server.seen]
    assert sorted(p for p in paths if p in FEED_PATHS) == sorted(FEED_PATHS)
    ai_calls = [r for r in server.seen if r["path"].startswith("/openai/")]
    assert len(ai_calls) == 11
    first = json.loads(ai_calls[0]["body"])
    prompt = json.dumps(first)
    assert "Title: Robots on site" in prompt and "Too old" not in prompt
    assert "Date: 2026-03-31T08:00:00.000Z" in prompt
    assert [row["values"]["1"] for row in run.stub_calls["google-sheets:addRow"]] == [
        "Robots",
        "Drones",
    ]
    [email] = run.stub_calls["google-email:sendAnEmail"]
    assert email["subject"].startswith("Integration RSS Trend Brief")
