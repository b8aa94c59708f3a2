"""Accounts: users, their personal API tokens and their browser sessions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from engine.store.records import UNSET, ApiToken, User, UserSession, _Unset


class UserStore(ABC):
    """Users. Emails are stored lower-cased and are unique; passwords arrive already hashed."""

    @abstractmethod
    def create_user(self, email: str, name: str, role: str, password_hash: str) -> User:
        """Create a user. Raises ``DuplicateEmail`` when another user has the email."""

    @abstractmethod
    def create_first_user(
        self, email: str, name: str, role: str, password_hash: str
    ) -> User | None:
        """Create a user only if there is none yet, atomically (two first-start requests at
        once create exactly one); ``None`` when a user already exists."""

    @abstractmethod
    def get_user(self, user_id: int) -> User:
        """The user. Raises ``NotFound``."""

    @abstractmethod
    def find_user_by_email(self, email: str) -> User | None:
        """The user with ``email`` (any case), or ``None``."""

    @abstractmethod
    def list_users(self) -> list[User]:
        """Every user, ordered by id (the first one is the owner who set up)."""

    @abstractmethod
    def count_users(self, *, role: str | None = None) -> int:
        """How many users there are (with ``role`` when given)."""

    @abstractmethod
    def update_user(
        self,
        user_id: int,
        *,
        email: str | _Unset = UNSET,
        name: str | _Unset = UNSET,
        role: str | _Unset = UNSET,
        password_hash: str | _Unset = UNSET,
        keep_an_owner: bool = False,
    ) -> User:
        """Change what is given. With ``keep_an_owner``, refuse (``LastOwner``) to demote the
        last owner, decided atomically with the change: two demotions at once cannot both
        pass. Raises ``NotFound``, ``DuplicateEmail``, ``LastOwner``."""

    @abstractmethod
    def delete_user(self, user_id: int, *, keep_an_owner: bool = False) -> None:
        """Delete the user with their API tokens and sessions; with ``keep_an_owner``, never the
        last owner (``LastOwner``, decided atomically). Raises ``NotFound``, ``LastOwner``."""


class ApiTokenStore(ABC):
    """Personal API tokens: the caller hashes the token text; the store never sees it. Every
    token expires: from ``expires_at`` on, ``find_api_token`` no longer finds it."""

    @abstractmethod
    def create_api_token(
        self, user_id: int, name: str, token_hash: str, expires_at: datetime
    ) -> ApiToken:
        """Store a token of ``user_id`` valid until ``expires_at``. Raises ``NotFound`` for an
        unknown user."""

    @abstractmethod
    def get_api_token(self, token_id: int) -> ApiToken:
        """The token. Raises ``NotFound``."""

    @abstractmethod
    def find_api_token(self, token_hash: str, *, now: datetime | None = None) -> ApiToken | None:
        """The token with that hash, its ``last_used_at`` set to ``now``; ``None`` if there is
        none or it expired before ``now`` (an expired token is not marked used)."""

    @abstractmethod
    def list_api_tokens(self, *, user_id: int | None = None) -> list[ApiToken]:
        """All tokens (of one user when given), by id."""

    @abstractmethod
    def delete_api_token(self, token_id: int) -> None:
        """Revoke a token: requests with it fail from now on. Raises ``NotFound``."""

    @abstractmethod
    def delete_user_api_tokens(self, user_id: int) -> int:
        """Revoke every token of a user (their password changed); returns how many."""


class SessionStore(ABC):
    """Browser sessions, kept server-side so signing out (or deleting a user) ends them."""

    @abstractmethod
    def create_session(
        self, id_hash: str, user_id: int, csrf_token: str, expires_at: datetime
    ) -> UserSession:
        """Store a session. Raises ``NotFound`` for an unknown user."""

    @abstractmethod
    def find_session(self, id_hash: str, *, now: datetime | None = None) -> UserSession | None:
        """The session with that hash unless it expired before ``now``; else ``None``."""

    @abstractmethod
    def delete_session(self, id_hash: str) -> bool:
        """End a session; ``False`` when there was none."""

    @abstractmethod
    def delete_user_sessions(self, user_id: int) -> int:
        """End every session of a user (password or role changed); returns how many."""

    @abstractmethod
    def purge_expired_sessions(self, now: datetime | None = None) -> int:
        """Delete sessions that expired before ``now``; returns how many."""
