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

import base64
import functools
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum

from flask import Flask, Response, current_app, g, request

from engine.passwords import check_password
from engine.ratelimit import MemoryRateLimiter, RateLimiter
from engine.store import ApiToken, NotFound, Store, User, UserSession
from webui.app import current_service

SESSION_COOKIE = "switchboard_session"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_PREFIX = "sb_"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_SESSION_SECONDS = 14 * 24 * 3600
TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 365
THROTTLE_KEY = "switchboard.login_throttle"

# scrypt at n=2**14, r=8 costs 16 MiB and tens of milliseconds per guess (OWASP's minimum).
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


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


# -- passwords --------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """A self-describing scrypt hash: ``scrypt$n$r$p$salt$key`` (base64)."""
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return "$".join(
        ["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(key)]
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def new_password_hash(password: str, *, email: str, name: str) -> str:
    """The hash to store for a new password of the account ``email`` / ``name``, once the
    password rule accepts it. Raises ``engine.passwords.WeakPassword``."""
    check_password(password, personal=(email, name))
    return hash_password(password)


def set_password(store: Store, user: User, password: str) -> User:
    """Give ``user`` a new password (checked by the rule) and, in the same transaction, sign
    them out everywhere (``sign_out_everywhere``). Raises ``WeakPassword``."""
    password_hash = new_password_hash(password, email=user.email, name=user.name)
    with store.transaction():
        updated = store.update_user(user.id, password_hash=password_hash)
        sign_out_everywhere(store, user.id)
    return updated


def sign_out_everywhere(store: Store, user_id: int) -> None:
    """End every session and revoke every API token of a user whose password changed: whoever
    knew the old password, or took a token made under it, is out."""
    store.delete_user_sessions(user_id)
    store.delete_user_api_tokens(user_id)


@functools.cache
def _dummy_hash() -> str:
    """Checked when the email is unknown, so a miss costs the time of a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def check_login(store: Store, email: str, password: str) -> User | None:
    """The user whose email and password these are, or ``None``."""
    user = store.find_user_by_email(email)
    ok = verify_password(password, user.password_hash if user else _dummy_hash())
    return user if ok and user is not None else None


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * r * n * 2, dklen=32
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def digest(secret_text: str) -> str:
    """SHA-256 hex of a session id or API token: what the store keeps instead of the text."""
    return hashlib.sha256(secret_text.encode("utf-8")).hexdigest()


def new_api_token() -> str:
    """A fresh personal API token text (shown to its owner once)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def issue_api_token(store: Store, user: User, name: str, days: int) -> tuple[ApiToken, str]:
    """A new token of ``user`` that expires ``days`` days from now (1 to ``TOKEN_DAYS_MAX``),
    and its text, which is not kept anywhere."""
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise ValueError(f"a token lives 1 to {TOKEN_DAYS_MAX} days, not {days}")
    text = new_api_token()
    expires_at = current_service().clock() + timedelta(days=days)
    return store.create_api_token(user.id, name, digest(text), expires_at), text


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


def authenticate(store: Store) -> Principal | None:
    """The principal of the current request (cached on ``g``), or ``None`` (anonymous).

    A ``Bearer`` header that names no token is anonymous too: the access check answers 401.
    """
    if "principal" in g:
        return g.principal
    g.principal = _from_token(store) if _bearer() is not None else _from_cookie(store)
    return g.principal


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _from_token(store: Store) -> Principal | None:
    token = store.find_api_token(digest(_bearer() or ""))
    user = None if token is None else _user(store, token.user_id)
    return None if user is None else Principal(user)


def _from_cookie(store: Store) -> Principal | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    session = store.find_session(digest(session_id))
    user = None if session is None else _user(store, session.user_id)
    return None if user is None else Principal(user, session)


def _user(store: Store, user_id: int) -> User | None:
    try:
        return store.get_user(user_id)
    except NotFound:  # deleted between the two reads
        return None


def csrf_ok(principal: Principal) -> bool:
    """Whether a write by ``principal`` carries the right CSRF token (or needs none)."""
    if request.method not in WRITE_METHODS or not principal.needs_csrf:
        return True
    assert principal.session is not None
    sent = request.headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(sent.encode(), principal.session.csrf_token.encode())


# -- sessions ---------------------------------------------------------------------------------


def start_session(store: Store, user: User, response: Response) -> UserSession:
    """Sign ``user`` in: end the session the browser brought (if any), store a new one under a
    new random id, and set its cookie on ``response``."""
    end_session(store, response, clear_cookie=False)
    store.purge_expired_sessions()  # cheap, and keeps the table to live sessions
    session_id = secrets.token_urlsafe(32)
    lifetime = current_app.config.get("SWITCHBOARD_SESSION_SECONDS", DEFAULT_SESSION_SECONDS)
    clock = current_service().clock
    expires_at = clock() + timedelta(seconds=lifetime)
    session = store.create_session(
        digest(session_id), user.id, secrets.token_urlsafe(32), expires_at
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


def end_session(store: Store, response: Response, *, clear_cookie: bool = True) -> None:
    """Forget the browser's session server-side and (by default) delete its cookie."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        store.delete_session(digest(session_id))
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
