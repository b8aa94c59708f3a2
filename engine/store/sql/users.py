"""Users, API tokens and sessions on SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection as SqlConnection

from engine.store.errors import DuplicateEmail, IntegrityViolation, LastOwner, NotFound
from engine.store.records import UNSET, ApiToken, User, UserSession, _Unset
from engine.store.sql.base import SqlBase, fetch_one, given
from engine.store.sql.schema import api_tokens, user_sessions, users

OWNER = "owner"

# Any constant: it only has to be the same in every Switchboard process.
_FIRST_USER_LOCK_ID = 0x5377_5573_6572


class SqlUsers(SqlBase):
    def create_user(self, email: str, name: str, role: str, password_hash: str) -> User:
        with self._write() as connection:
            return self._insert_user(connection, email, name, role, password_hash)

    def create_first_user(
        self, email: str, name: str, role: str, password_hash: str
    ) -> User | None:
        with self._write() as connection:
            if self.dialect == "postgresql":
                # SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a lock
                # so two "count, then insert" transactions cannot both see zero users.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _FIRST_USER_LOCK_ID}
                )
            if connection.execute(select(func.count()).select_from(users)).scalar_one():
                return None
            return self._insert_user(connection, email, name, role, password_hash)

    def get_user(self, user_id: int) -> User:
        with self._read() as connection:
            return self._user(connection, user_id)

    def find_user_by_email(self, email: str) -> User | None:
        query = select(users).where(users.c.email == _email(email))
        with self._read() as connection:
            row = connection.execute(query).first()
        return None if row is None else _user(row)

    def list_users(self) -> list[User]:
        with self._read() as connection:
            return [_user(row) for row in connection.execute(select(users).order_by(users.c.id))]

    def count_users(self, *, role: str | None = None) -> int:
        query = select(func.count()).select_from(users)
        if role is not None:
            query = query.where(users.c.role == role)
        with self._read() as connection:
            return connection.execute(query).scalar_one()

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
        values = given(
            email=email if email is UNSET else _email(email),
            name=name,
            role=role,
            password_hash=password_hash,
        )
        try:
            with self._write() as connection:
                if keep_an_owner and role is not UNSET and role != OWNER:
                    self._keep_an_owner(connection, user_id)
                changed = connection.execute(
                    update(users)
                    .where(users.c.id == user_id)
                    .values(**values, updated_at=self._now())
                )
                if changed.rowcount == 0:
                    raise NotFound("user", user_id)
                return self._user(connection, user_id)
        except IntegrityViolation:  # the unique email index (the driver's error, mapped)
            raise DuplicateEmail(str(values.get("email"))) from None

    def delete_user(self, user_id: int, *, keep_an_owner: bool = False) -> None:
        with self._write() as connection:
            if keep_an_owner:
                self._keep_an_owner(connection, user_id)
            # Explicit deletes: SQLite enforces ON DELETE CASCADE only with foreign keys on.
            connection.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))
            connection.execute(delete(user_sessions).where(user_sessions.c.user_id == user_id))
            if connection.execute(delete(users).where(users.c.id == user_id)).rowcount == 0:
                raise NotFound("user", user_id)

    def _keep_an_owner(self, connection: SqlConnection, user_id: int) -> None:
        """Refuse to take ``user_id``'s ownership if it is the last one, in the caller's write
        transaction. The owners' rows are locked first (PostgreSQL: ``FOR UPDATE``; SQLite's
        write transaction holds the database's single write lock), so a concurrent demotion
        waits here and then counts what this one committed: two cannot both pass."""
        owners = select(users.c.id).where(users.c.role == OWNER)
        if self.dialect == "postgresql":
            owners = owners.with_for_update()
        owner_ids = set(connection.execute(owners).scalars())
        if user_id in owner_ids and len(owner_ids) <= 1:
            raise LastOwner(user_id)

    def _insert_user(
        self, connection: SqlConnection, email: str, name: str, role: str, password_hash: str
    ) -> User:
        now = self._now()
        address = _email(email)
        exists = connection.execute(select(users.c.id).where(users.c.email == address)).first()
        if exists is not None:
            raise DuplicateEmail(address)
        user_id = connection.execute(
            insert(users).returning(users.c.id),
            {
                "email": address,
                "name": name,
                "role": role,
                "password_hash": password_hash,
                "created_at": now,
                "updated_at": now,
            },
        ).scalar_one()
        return self._user(connection, user_id)

    @staticmethod
    def _user(connection: SqlConnection, user_id: int) -> User:
        return _user(
            fetch_one(connection, select(users).where(users.c.id == user_id), "user", user_id)
        )


class SqlApiTokens(SqlBase):
    def create_api_token(
        self, user_id: int, name: str, token_hash: str, expires_at: datetime
    ) -> ApiToken:
        with self._write() as connection:
            _require_user(connection, user_id)
            token_id = connection.execute(
                insert(api_tokens).returning(api_tokens.c.id),
                {
                    "user_id": user_id,
                    "name": name,
                    "token_hash": token_hash,
                    "created_at": self._now(),
                    "last_used_at": None,
                    "expires_at": expires_at,
                },
            ).scalar_one()
            return self._token(connection, token_id)

    def get_api_token(self, token_id: int) -> ApiToken:
        with self._read() as connection:
            return self._token(connection, token_id)

    def find_api_token(self, token_hash: str, *, now: datetime | None = None) -> ApiToken | None:
        at = self._now(now)
        with self._write() as connection:
            changed = connection.execute(
                update(api_tokens)
                .where(api_tokens.c.token_hash == token_hash, api_tokens.c.expires_at > at)
                .values(last_used_at=at)
            )
            if changed.rowcount == 0:
                return None
            row = connection.execute(
                select(api_tokens).where(api_tokens.c.token_hash == token_hash)
            ).one()
            return _token(row)

    def list_api_tokens(self, *, user_id: int | None = None) -> list[ApiToken]:
        query = select(api_tokens).order_by(api_tokens.c.id)
        if user_id is not None:
            query = query.where(api_tokens.c.user_id == user_id)
        with self._read() as connection:
            return [_token(row) for row in connection.execute(query)]

    def delete_api_token(self, token_id: int) -> None:
        with self._write() as connection:
            deleted = connection.execute(delete(api_tokens).where(api_tokens.c.id == token_id))
            if deleted.rowcount == 0:
                raise NotFound("api token", token_id)

    def delete_user_api_tokens(self, user_id: int) -> int:
        with self._write() as connection:
            statement = delete(api_tokens).where(api_tokens.c.user_id == user_id)
            return connection.execute(statement).rowcount

    @staticmethod
    def _token(connection: SqlConnection, token_id: int) -> ApiToken:
        query = select(api_tokens).where(api_tokens.c.id == token_id)
        return _token(fetch_one(connection, query, "api token", token_id))


class SqlSessions(SqlBase):
    def create_session(
        self, id_hash: str, user_id: int, csrf_token: str, expires_at: datetime
    ) -> UserSession:
        values: dict[str, Any] = {
            "id_hash": id_hash,
            "user_id": user_id,
            "csrf_token": csrf_token,
            "created_at": self._now(),
            "expires_at": expires_at,
        }
        with self._write() as connection:
            _require_user(connection, user_id)
            connection.execute(insert(user_sessions), values)
        return UserSession(**values)

    def find_session(self, id_hash: str, *, now: datetime | None = None) -> UserSession | None:
        query = select(user_sessions).where(
            user_sessions.c.id_hash == id_hash, user_sessions.c.expires_at > self._now(now)
        )
        with self._read() as connection:
            row = connection.execute(query).first()
        return None if row is None else UserSession(**row._mapping)

    def delete_session(self, id_hash: str) -> bool:
        with self._write() as connection:
            statement = delete(user_sessions).where(user_sessions.c.id_hash == id_hash)
            return connection.execute(statement).rowcount > 0

    def delete_user_sessions(self, user_id: int) -> int:
        with self._write() as connection:
            statement = delete(user_sessions).where(user_sessions.c.user_id == user_id)
            return connection.execute(statement).rowcount

    def purge_expired_sessions(self, now: datetime | None = None) -> int:
        with self._write() as connection:
            statement = delete(user_sessions).where(user_sessions.c.expires_at <= self._now(now))
            return connection.execute(statement).rowcount


def _email(email: str) -> str:
    return email.strip().lower()


def _require_user(connection: SqlConnection, user_id: int) -> None:
    fetch_one(connection, select(users.c.id).where(users.c.id == user_id), "user", user_id)


def _user(row: Row[Any]) -> User:
    return User(**row._mapping)


def _token(row: Row[Any]) -> ApiToken:
    return ApiToken(**row._mapping)
