"""Accounts and access: passwords, sessions, API tokens, CSRF, roles, login throttling.

Who is asking is settled once per ``/api`` request (``authenticate``):

* ``Authorization: Bearer <token>``: a personal API token (stored as its SHA-256; no CSRF);
* else the ``switchboard_session`` cookie: a random session id whose SHA-256 names a
  server-side session (so signing out, or deleting the user, ends it at once). Writes
  authenticated this way must carry ``X-CSRF-Token`` equal to the session's token.

A new session id is issued at every sign-in (never reusing one the browser brought: session
fixation). Passwords are hashed with scrypt from the standard library; a new one must pass the
rule of ``engine.passwords``, and setting it ends every session and API token of the user.
API tokens expire (``TOKEN_DAYS_DEFAULT``, at most ``TOKEN_DAYS_MAX``). What each route needs
is declared in ``webui.api.access``; this module only knows how roles compare.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from flask import Flask, Response, current_app, g, request

from engine.passwords import hash_password, new_password_hash, verify_password
from engine.ratelimit import MemoryRateLimiter, RateLimiter
from engine.service.accounts import (
    TOKEN_DAYS_DEFAULT,
    TOKEN_DAYS_MAX,
    TOKEN_PREFIX,
    AccountOperations,
    digest,
)
from engine.store import User, UserSession
from webui.app import current_service

SESSION_COOKIE = "switchboard_session"
CSRF_HEADER = "X-CSRF-Token"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_SESSION_SECONDS = 14 * 24 * 3600
THROTTLE_KEY = "switchboard.login_throttle"


class Role(IntEnum):
    """Roles in rising order of power; ``PUBLIC`` marks routes that need no sign-in."""

    PUBLIC = 0
    VIEWER = 1
    EDITOR = 2
    OWNER = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def of(cls, user: User) -> Role:
        """The role stored on ``user`` (an unknown one counts as viewer: least power)."""
        try:
            return cls[user.role.upper()]
        except KeyError:
            return cls.VIEWER


USER_ROLES = ("owner", "editor", "viewer")


# Passwords are hashed and checked by ``engine.passwords``; the rules about accounts are the
# service's (``engine.service.accounts``). Re-exported for the CLI and the tests.
__all__ = [
    "TOKEN_DAYS_DEFAULT",
    "TOKEN_DAYS_MAX",
    "TOKEN_PREFIX",
    "digest",
    "hash_password",
    "new_password_hash",
    "verify_password",
]


def accounts() -> AccountOperations:
    """The accounts part of the app's service."""
    return current_service().accounts


# -- who is asking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """The signed-in user of this request and how they proved it."""

    user: User
    session: UserSession | None = None  # None: an API token

    @property
    def role(self) -> Role:
        return Role.of(self.user)

    @property
    def needs_csrf(self) -> bool:
        return self.session is not None


def authenticate() -> Principal | None:
    """The principal of the current request (cached on ``g``), or ``None`` (anonymous).

    A ``Bearer`` header that names no token is anonymous too: the access check answers 401.
    """
    if "principal" in g:
        return g.principal
    g.principal = _from_token() if _bearer() is not None else _from_cookie()
    return g.principal


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _from_token() -> Principal | None:
    user = accounts().token_user(_bearer() or "")
    return None if user is None else Principal(user)


def _from_cookie() -> Principal | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    found = accounts().session_user(session_id) if session_id else None
    return None if found is None else Principal(found[1], found[0])


def csrf_ok(principal: Principal) -> bool:
    """Whether a write by ``principal`` carries the right CSRF token (or needs none)."""
    if request.method not in WRITE_METHODS or not principal.needs_csrf:
        return True
    assert principal.session is not None
    sent = request.headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(sent.encode(), principal.session.csrf_token.encode())


# -- sessions ---------------------------------------------------------------------------------


def start_session(user: User, response: Response) -> UserSession:
    """Sign ``user`` in: end the session the browser brought (if any), store a new one under a
    new random id, and set its cookie on ``response``."""
    lifetime = current_app.config.get("SWITCHBOARD_SESSION_SECONDS", DEFAULT_SESSION_SECONDS)
    session, session_id = accounts().start_session(
        user, lifetime, replacing=request.cookies.get(SESSION_COOKIE)
    )
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=lifetime,
        httponly=True,
        samesite="Lax",
        secure=_secure_cookies(),
        path="/",
    )
    g.principal = Principal(user, session)
    return session


def end_session(response: Response, *, clear_cookie: bool = True) -> None:
    """Forget the browser's session server-side and (by default) delete its cookie."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        accounts().end_session(session_id)
    if clear_cookie:
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=_secure_cookies()
        )


def _secure_cookies() -> bool:
    configured = current_app.config.get("SESSION_COOKIE_SECURE")
    return bool(configured) or request.is_secure


# -- login throttling -------------------------------------------------------------------------


class LoginThrottle:
    """At most ``limit`` failed logins per email in any ``window`` seconds.

    ``retry_after(email)`` is 0 while logins may be tried, else the seconds to wait. A
    successful login clears the email's failures. The failures are counted by ``limiter``:
    in this process by default, in Redis for every web process when the installation has one
    (``login_throttle``).
    """

    def __init__(
        self,
        limit: int = 5,
        window: float = 300.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.limit = limit
        self.window = window
        self._limiter = limiter if limiter is not None else MemoryRateLimiter(monotonic)

    def retry_after(self, email: str) -> float:
        return self._limiter.wait(_key(email), self.limit, self.window)

    def failed(self, email: str) -> None:
        self._limiter.acquire(_key(email), self.limit, self.window)

    def succeeded(self, email: str) -> None:
        self._limiter.reset(_key(email))


def _key(email: str) -> str:
    return "login:" + email.strip().lower()


def install_throttle(app: Flask) -> None:
    """Give ``app`` the login throttle of its config (``SWITCHBOARD_LOGIN_THROTTLE``), if any;
    else ``login_throttle`` makes the installation's on first use."""
    configured = app.config.get("SWITCHBOARD_LOGIN_THROTTLE")
    if configured is not None:
        app.extensions[THROTTLE_KEY] = configured


def login_throttle() -> LoginThrottle:
    """The app's throttle, counted on the service's backplane (with Redis: for every web
    process)."""
    throttle = current_app.extensions.get(THROTTLE_KEY)
    if throttle is None:
        limiter = current_service().queue.limits.rate  # the backplane's: shared when it spans
        throttle = current_app.extensions.setdefault(THROTTLE_KEY, LoginThrottle(limiter=limiter))
    return throttle
