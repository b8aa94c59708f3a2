"""Accounts: users and their roles, passwords, browser sessions and personal API tokens.

The web layer (``webui.auth``, ``webui.api.accounts``) keeps what is HTTP's (cookies, the CSRF
header, the sign-in throttle, status codes) and calls this part for every rule about accounts:
the first owner is made once, a new password passes the rule of ``engine.passwords`` and ends
every session and token of its user, the last owner stays an owner (decided by the store,
atomically), tokens expire within ``TOKEN_DAYS_MAX`` days. Session ids and token texts are
random and kept only as their SHA-256 (``digest``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from engine.passwords import (
    WeakPassword,
    check_password,
    dummy_hash,
    new_password_hash,
    verify_password,
)
from engine.service.base import Clock
from engine.store import ApiToken, NotFound, Store, User, UserSession

TOKEN_PREFIX = "sb_"
TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 365
OWNER = "owner"


def digest(secret_text: str) -> str:
    """SHA-256 hex of a session id or API token: what the store keeps instead of the text."""
    return hashlib.sha256(secret_text.encode("utf-8")).hexdigest()


def new_api_token() -> str:
    """A fresh personal API token text (shown to its owner once)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class AccountOperations:
    """Users, passwords, sessions and API tokens over the store."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- users ----------------------------------------------------------------------------------

    def needs_setup(self) -> bool:
        """Whether no account exists yet (the first one made becomes the owner)."""
        return self.store.count_users() == 0

    def set_up_owner(self, email: str, name: str, password: str) -> User | None:
        """Make the first account, an owner; ``None`` when one exists already (also when two
        set-ups race). Raises ``WeakPassword``."""
        password_hash = new_password_hash(password, email=email, name=name)
        return self.store.create_first_user(email, name, OWNER, password_hash)

    def list_users(self) -> list[User]:
        return self.store.list_users()

    def get_user(self, user_id: int) -> User:
        return self.store.get_user(user_id)

    def create_user(self, email: str, name: str, role: str, password: str) -> User:
        """Add an account. Raises ``WeakPassword``, ``DuplicateEmail``."""
        password_hash = new_password_hash(password, email=email, name=name)
        return self.store.create_user(email, name, role, password_hash)

    def update_user(
        self, user_id: int, changes: Mapping[str, Any], *, password: str | None = None
    ) -> User:
        """Change a user's ``email``, ``name`` or ``role`` (``changes``) and, given, password.
        A new password (the owner's reset) ends the user's sessions and revokes their API
        tokens; a new role ends their sessions. The last owner stays an owner.

        Raises:
            NotFound, DuplicateEmail, WeakPassword, LastOwner.
        """
        current = self.store.get_user(user_id)
        values = dict(changes)
        if password is not None:
            email, name = values.get("email", current.email), values.get("name", current.name)
            values["password_hash"] = new_password_hash(password, email=email, name=name)
        with self.store.transaction():
            user = self.store.update_user(user_id, **values, keep_an_owner=True)
            if password is not None:
                self.sign_out_everywhere(user_id)
            elif user.role != current.role:
                self.store.delete_user_sessions(user_id)
        return user

    def delete_user(self, user_id: int) -> None:
        """Delete a user with their tokens and sessions. Raises ``NotFound``, ``LastOwner``."""
        self.store.delete_user(user_id, keep_an_owner=True)

    # -- passwords ------------------------------------------------------------------------------

    def check_login(self, email: str, password: str) -> User | None:
        """The user whose email and password these are, or ``None`` (in the time a wrong
        password takes, whether or not the email exists)."""
        user = self.store.find_user_by_email(email)
        ok = verify_password(password, user.password_hash if user else dummy_hash())
        return user if ok and user is not None else None

    @staticmethod
    def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
        """What the password rule says of ``password`` for the account ``email`` / ``name``
        (``None``: it would be accepted), for a form that checks while the user types. It
        stores and reveals nothing: the rule is public."""
        try:
            check_password(password, personal=(email, name))
        except WeakPassword as weak:
            return str(weak)
        return None

    def set_password(self, user: User, password: str) -> User:
        """Give ``user`` a new password (checked by the rule) and, in the same transaction,
        sign them out everywhere. Raises ``WeakPassword``."""
        password_hash = new_password_hash(password, email=user.email, name=user.name)
        with self.store.transaction():
            updated = self.store.update_user(user.id, password_hash=password_hash)
            self.sign_out_everywhere(user.id)
        return updated

    def sign_out_everywhere(self, user_id: int) -> None:
        """End every session and revoke every API token of a user whose password changed:
        whoever knew the old password, or took a token made under it, is out."""
        self.store.delete_user_sessions(user_id)
        self.store.delete_user_api_tokens(user_id)

    # -- sessions -------------------------------------------------------------------------------

    def start_session(
        self, user: User, lifetime_seconds: float, *, replacing: str | None = None
    ) -> tuple[UserSession, str]:
        """A new session of ``user`` and its id (the cookie's text, kept nowhere), ending the
        session ``replacing`` names (the one the browser brought: never reused, no fixation)."""
        if replacing:
            self.end_session(replacing)
        self.store.purge_expired_sessions()  # cheap, and keeps the table to live sessions
        session_id = secrets.token_urlsafe(32)
        expires_at = self.clock() + timedelta(seconds=lifetime_seconds)
        session = self.store.create_session(
            digest(session_id), user.id, secrets.token_urlsafe(32), expires_at
        )
        return session, session_id

    def end_session(self, session_id: str) -> None:
        """Forget the session with that id (nothing when there is none)."""
        self.store.delete_session(digest(session_id))

    def session_user(self, session_id: str) -> tuple[UserSession, User] | None:
        """The live session with that id and its user, or ``None``."""
        session = self.store.find_session(digest(session_id))
        user = None if session is None else self._user(session.user_id)
        return None if session is None or user is None else (session, user)

    # -- API tokens -----------------------------------------------------------------------------

    def token_user(self, token_text: str) -> User | None:
        """The user of a live API token, or ``None``."""
        token = self.store.find_api_token(digest(token_text))
        return None if token is None else self._user(token.user_id)

    def list_api_tokens(self, user_id: int) -> list[ApiToken]:
        """A user's tokens, expired ones too (never their text)."""
        return self.store.list_api_tokens(user_id=user_id)

    def issue_api_token(self, user: User, name: str, days: int) -> tuple[ApiToken, str]:
        """A new token of ``user`` that expires ``days`` days from now (1 to
        ``TOKEN_DAYS_MAX``), and its text, which is not kept anywhere."""
        if not 1 <= days <= TOKEN_DAYS_MAX:
            raise ValueError(f"a token lives 1 to {TOKEN_DAYS_MAX} days, not {days}")
        text = new_api_token()
        expires_at = self.clock() + timedelta(days=days)
        return self.store.create_api_token(user.id, name, digest(text), expires_at), text

    def revoke_api_token(self, user_id: int, token_id: int) -> None:
        """Revoke one of ``user_id``'s tokens; ``NotFound`` for anyone else's."""
        token = self.store.get_api_token(token_id)
        if token.user_id != user_id:
            raise NotFound("api token", token_id)
        self.store.delete_api_token(token_id)

    def _user(self, user_id: int) -> User | None:
        try:
            return self.store.get_user(user_id)
        except NotFound:  # deleted between the two reads
            return None
