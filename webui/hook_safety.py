"""A scenario's webhook never acts with the app's authority.

Editors write what ``gateway:WebhookRespond`` answers (status, body, headers), and anyone with a
link can open a webhook URL in a browser — an owner included. So on every ``/hooks/…`` answer:

* the page runs sandboxed: ``Content-Security-Policy: sandbox …`` without ``allow-same-origin``
  puts it in an opaque origin, so its script cannot read the app's cookies or storage, and its
  requests to the API are cross-site (no ``SameSite`` session cookie, no readable answer, no
  CSRF token);
* headers the app owns cannot be set by a scenario (``DROPPED_HEADERS``): cookies, the security
  headers, state a browser keeps for the whole origin, credential prompts and message framing;
  the app's own security headers are forced instead (``confine_hook_answer``);
* the caller's request reaches the scenario without the app's session cookie
  (``caller_headers``): a signed-in user who opens a webhook link must not hand their session
  to whoever reads the stored request.

What stays: status, body, ``Content-Type`` (JSON, text, HTML …), ``Location`` (redirects),
``Cache-Control``, CORS (``Access-Control-*``), ``Content-Disposition`` and custom headers.
Serving webhooks from an origin of their own (``SWITCHBOARD_HOOKS_URL``, ``webui.hosts``) adds
the rest: there even the URL bar no longer shows the app's name. See docs/security.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from flask import Request, Response

from engine.queue import WebhookResponse
from engine.webhooks import header_problem
from webui.auth import SESSION_COOKIE

log = logging.getLogger("switchboard.webhooks")

HOOK_CSP = (
    "sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox "
    "allow-downloads; frame-ancestors 'none'"
)
"""No ``allow-same-origin`` (the page's origin is opaque), ``allow-top-navigation`` or
``allow-modals`` (no ``prompt()`` asking for a password in the app's name); scripts, forms,
links to new windows and downloads keep an answer page usable."""

HOOK_HEADERS = {
    "Content-Security-Policy": HOOK_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Set on every ``/hooks/…`` answer, whatever the view or the scenario did."""

DROPPED_HEADERS = frozenset(
    {
        # cookies: a scenario must not sign anyone in or out, nor plant a cookie for the app
        "set-cookie",
        "set-cookie2",
        # the app's security headers (HOOK_HEADERS replaces the first four)
        "content-security-policy",
        "content-security-policy-report-only",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
        "permissions-policy",
        "feature-policy",
        "document-policy",
        "cross-origin-opener-policy",
        "cross-origin-opener-policy-report-only",
        "cross-origin-embedder-policy",
        "cross-origin-embedder-policy-report-only",
        "cross-origin-resource-policy",
        "origin-agent-cluster",
        "x-xss-protection",
        "x-permitted-cross-domain-policies",
        # state the browser keeps for the whole origin, beyond this one answer
        "strict-transport-security",
        "clear-site-data",
        "service-worker-allowed",
        "nel",
        "report-to",
        "reporting-endpoints",
        "alt-svc",
        "accept-ch",
        "critical-ch",
        "public-key-pins",
        "public-key-pins-report-only",
        "expect-ct",
        # a browser's password prompt under the app's name
        "www-authenticate",
        "proxy-authenticate",
        # message framing: the server computes it (a wrong one desynchronises proxies)
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "upgrade",
        "te",
        "trailer",
    }
)


def scenario_answer(answer: WebhookResponse) -> Response:
    """The HTTP response for what a ``gateway:WebhookRespond`` module answered: its status and
    body, ``text/plain`` unless it set a ``Content-Type``, and only the headers it may set."""
    response = Response(answer.body, answer.status, mimetype="text/plain")
    kept, dropped = sort_headers(answer.headers)
    for name, value in kept.items():
        response.headers[name] = value
    if dropped:
        log.info(
            "webhook answer: left out %s (a scenario may not set them; docs/security.md)",
            ", ".join(sorted(dropped)),
        )
    return response


def sort_headers(headers: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The headers a scenario's answer keeps, and the names it loses: those in
    ``DROPPED_HEADERS`` (any case) and any that is not valid HTTP (the module refuses those
    already; an answer must never become a 500 or a second header)."""
    kept: dict[str, str] = {}
    dropped: list[str] = []
    for name, value in headers.items():
        if name.lower() in DROPPED_HEADERS or header_problem(name, value) is not None:
            dropped.append(name[:100])
        else:
            kept[name] = value
    return kept, dropped


def confine_hook_answer(response: Response) -> Response:
    """``after_request`` of the webhook views: the app's security headers win, and no cookie
    leaves, whatever produced the answer."""
    for name, value in HOOK_HEADERS.items():
        response.headers[name] = value
    response.headers.remove("Set-Cookie")
    return response


def caller_headers(request: Request) -> dict[str, str]:
    """The request's headers as a scenario may see them: the app's session cookie is taken
    out of ``Cookie`` (other cookies stay). A browser sends it along to a webhook on the
    app's host — any port — and the stored request is readable by editors and viewers."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        if name.lower() == "cookie":
            value = _without_session_cookie(value.split(";"))
            if not value:
                continue
        headers[name] = value
    return headers


def _without_session_cookie(pairs: Iterable[str]) -> str:
    kept = [pair.strip() for pair in pairs if pair.split("=", 1)[0].strip() != SESSION_COOKIE]
    return "; ".join(pair for pair in kept if pair)
