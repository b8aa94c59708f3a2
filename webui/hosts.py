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

With ``SWITCHBOARD_HOOKS_URL`` webhooks get an origin of their own, told apart by the ``Host``
header (its name, and its port when the hooks URL names one): there the app serves ``/hooks/…``
only (anything else is 404 ``hooks_origin``), and everywhere else it serves no webhook — a
request for ``/hooks/…`` on the app's names is redirected (308, method and body kept) to the
same path on the hooks URL, so nothing a scenario answers is ever served under the app's
origin, and callers holding an old URL that follow redirects still arrive. Why an origin of
their own: ``docs/security.md`` (scenario-authored answers).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from flask import Flask, current_app, redirect
from flask.typing import ResponseReturnValue

from engine.service.options import origin_of
from webui.app import current_request, current_service, error_response

ALLOWED_HOSTS_KEY = "SWITCHBOARD_ALLOWED_HOSTS"
BASE_URL_KEY = "SWITCHBOARD_BASE_URL"
ALWAYS_ALLOWED = ("localhost", "127.0.0.1", "::1")
HOOKS_PREFIX = "/hooks/"
EXEMPT_PREFIXES = (HOOKS_PREFIX,)


def install_host_check(app: Flask) -> None:
    """Keep webhooks on their own origin (when configured), then refuse requests for other
    host names. App-level hooks run before the blueprints' (the API's access check), and also
    for URLs that match no route."""
    app.before_request(keep_hooks_on_their_origin)
    app.before_request(refuse_unknown_host)


def keep_hooks_on_their_origin() -> ResponseReturnValue | None:
    """``before_request``: with a hooks URL, webhooks are served on its origin and nothing else
    is; ``None`` to go on, else the redirect or the 404 refusal."""
    hooks_url = current_service().options.hooks_url.rstrip("/")
    if not hooks_url:
        return None
    request = current_request()
    is_hook = request.path.startswith(HOOKS_PREFIX)
    on_hooks_origin = is_on_origin(request.host, hooks_url)
    if is_hook and not on_hooks_origin:
        query = request.query_string.decode("latin-1")
        target = hooks_url + quote(request.path) + (f"?{query}" if query else "")
        return redirect(target, 308)
    if on_hooks_origin and not is_hook:
        app_url = current_service().options.base_url or "the app's own address"
        return error_response(
            404,
            "hooks_origin",
            f"{request.host[:100]!r} serves webhooks only ({HOOKS_PREFIX}…); the editor and "
            f"the API are at {app_url}",
        )
    return None


def is_on_origin(host: str, url: str) -> bool:
    """Whether a ``Host`` header names the host of ``url`` — and its port, when ``url`` names
    one (behind a proxy the port a request names is rarely the public one)."""
    name, port = origin_of(url)
    if host_name(host) != name:
        return False
    return port is None or _host_port(host) == port


def _host_port(host: str) -> int | None:
    try:
        return urlsplit(f"//{host.strip()}").port
    except ValueError:
        return None


def refuse_unknown_host() -> ResponseReturnValue | None:
    """``before_request``: ``None`` to go on, or the 400 refusal."""
    request = current_request()
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
