"""The Host header check: the web app answers only to the names it is served under.

Why: DNS rebinding. A web page on ``attacker.example`` can make its own name resolve to
127.0.0.1 a moment later; the victim's browser then sends that page's requests to a Switchboard
listening on localhost, treating it as same-origin with the attacker's page — which can read the
answers. Cookies stay with their own host name, but a fresh installation's
``POST /api/auth/setup`` needs none (whoever calls it first becomes the owner), and the editor
and public API pages would be readable. The one thing such a request cannot fake is its
``Host`` header: it still names ``attacker.example``.

Allowed: ``localhost``, ``127.0.0.1`` and ``[::1]`` (a rebinding page never sends those), the
host of ``SWITCHBOARD_BASE_URL``, and ``SWITCHBOARD_ALLOWED_HOSTS`` (comma-separated names;
``.example.com`` also allows every subdomain, ``*`` turns the check off). Ports are ignored.
Anything else is refused with 400 ``host_not_allowed`` before routing.

Webhook ingress (``/hooks/…``) is exempt, on purpose: its callers are servers on the internet
that reach Switchboard through whatever proxy, tunnel or name the operator gave them, and a
refused delivery is lost (Xero and QuickBooks disable a webhook that keeps failing). The check
would protect nothing there: a webhook's token (or an app's signature) is its only key, and a
caller who has it may call it directly — rebinding adds no power.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue

from webui.app import current_service, error_response

ALLOWED_HOSTS_KEY = "SWITCHBOARD_ALLOWED_HOSTS"
BASE_URL_KEY = "SWITCHBOARD_BASE_URL"
ALWAYS_ALLOWED = ("localhost", "127.0.0.1", "::1")
EXEMPT_PREFIXES = ("/hooks/",)


def install_host_check(app: Flask) -> None:
    """Refuse requests for other host names. App-level hooks run before the blueprints' (the
    API's access check), and also for URLs that match no route."""
    app.before_request(refuse_unknown_host)


def refuse_unknown_host() -> ResponseReturnValue | None:
    """``before_request``: ``None`` to go on, or the 400 refusal."""
    if request.path.startswith(EXEMPT_PREFIXES):
        return None
    name = host_name(request.host)
    if name is not None and is_allowed(name, allowed_hosts()):
        return None
    shown = request.host[:100]
    return error_response(
        400,
        "host_not_allowed",
        f"this server does not answer to the host {shown!r}; add it to "
        f"{ALLOWED_HOSTS_KEY} (see docs/deploy.md)",
    )


def allowed_hosts() -> list[str]:
    """Every allowed name or pattern for the current app (read per request: tests and
    ``switchboard demo`` set the base URL after the app is made)."""
    names = list(ALWAYS_ALLOWED)
    configured = current_app.config.get(ALLOWED_HOSTS_KEY)
    if isinstance(configured, str):
        configured = configured.split(",")
    names += [str(name).strip().lower() for name in configured or () if str(name).strip()]
    names += current_service().settings.allowed_hosts
    names += [host for host in map(_base_url_host, _base_urls()) if host]
    return names


def _base_urls() -> Iterable[str]:
    yield str(current_app.config.get(BASE_URL_KEY) or "")
    yield os.environ.get(BASE_URL_KEY, "")
    yield str(getattr(getattr(current_service(), "options", None), "base_url", "") or "")


def _base_url_host(url: str) -> str | None:
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


def host_name(host: str) -> str | None:
    """The name in a ``Host`` header, lowercase, without port or trailing dot; ``None`` when
    it is not a plausible host (empty, spaces, userinfo, a path)."""
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not _is_port(rest)):
            return None
    else:
        name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
        if colon and not port.isdigit():
            return None
    name = name.rstrip(".")
    if not name or any(char in name for char in " /\\@?#%,") or not name.isascii():
        return None
    return name


def _is_port(text: str) -> bool:
    return text.startswith(":") and text[1:].isdigit()


def is_allowed(name: str, patterns: Iterable[str]) -> bool:
    """Whether ``name`` matches one of ``patterns`` (exact, ``.domain`` for the domain and its
    subdomains, or ``*``)."""
    for pattern in patterns:
        pattern = pattern.strip().lower().rstrip(".")
        if pattern.startswith("[") and pattern.endswith("]"):
            pattern = pattern[1:-1]
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith(".") and (name == pattern[1:] or name.endswith(pattern)):
            return True
    return False
