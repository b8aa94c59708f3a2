"""The tables, as SQLAlchemy Core metadata.

The Alembic migrations in ``engine/store/migrations`` create exactly this schema;
``tests/store/test_migrations.py`` checks that they agree. Change both together: a new
migration for every change here.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from engine.store.sql.types import BigId, CompressedJSON, JSONText, PlainText, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created_updated() -> list[Column]:
    return [
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _scenario_fk(on_delete: str = "CASCADE") -> ForeignKey:
    return ForeignKey("scenarios.id", ondelete=on_delete)


scenarios = Table(
    "scenarios",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", PlainText(field="name"), nullable=False),
    Column("current_version", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("scheduling", JSONText, nullable=False),
    Column("consecutive_errors", Integer, nullable=False),
    *_created_updated(),
)

scenario_versions = Table(
    "scenario_versions",
    metadata,
    Column("scenario_id", Integer, _scenario_fk(), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("blueprint", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # Who saved it (the user's email) when saved through the web app; NULL otherwise (the CLI,
    # versions saved before migration 0004). Text, so the name outlives a deleted user.
    Column("saved_by", PlainText(field="saved_by")),
)

connections = Table(
    "connections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("app", String(100), nullable=False, index=True),
    Column("kind", String(50), nullable=False),
    Column("name", PlainText(field="name"), nullable=False),
    Column("data", JSONText, nullable=False),
    # Fernet token text; the plain secrets never reach the database.
    Column("secrets_encrypted", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    *_created_updated(),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("name", PlainText(field="name"), nullable=False),
    Column("scenario_id", Integer, _scenario_fk(on_delete="SET NULL"), index=True),
    Column("settings", JSONText, nullable=False),
    Column("enabled", Boolean, nullable=False),
    *_created_updated(),
)

webhook_queue = Table(
    "webhook_queue",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("webhook_id", Integer, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("request", JSONText, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("worker_id", String(200)),
    Column("claimed_at", UTCDateTime()),
    Column("lease_expires_at", UTCDateTime()),
    Column("attempts", Integer, nullable=False),
    Column("execution_id", String(36)),
    Column("finished_at", UTCDateTime()),
    Column("error", JSONText),
    # claim_next: the oldest queued item of a webhook.
    Index(None, "webhook_id", "status", "received_at", "id"),
    # requeue_expired: claimed items by lease end.
    Index(None, "status", "lease_expires_at"),
)

executions = Table(
    "executions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("scenario_id", Integer, _scenario_fk(), nullable=False),
    Column("scenario_version", Integer, nullable=False),
    Column("trigger_kind", String(16), nullable=False),
    Column("trigger_ref", Text),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("duration_ms", BigInteger),
    Column("operations", BigInteger, nullable=False),
    Column("data_size", BigInteger, nullable=False),
    Column("worker_id", String(200)),
    Column("heartbeat_at", UTCDateTime()),
    Column("reaped_count", Integer, nullable=False),
    Column("error", JSONText),
    # The history's order: when the run started, or for a run not started (yet) when it was
    # queued; always ``coalesce(started_at, created_at)``, kept as a column so that plain
    # indexes (not expression indexes) serve the history's keyset pages.
    Column("started_or_queued_at", UTCDateTime(), nullable=False),
    # Keyset pagination, newest first, for each combination of filters the history offers.
    Index(None, "started_or_queued_at", "id"),
    Index(None, "scenario_id", "started_or_queued_at", "id"),
    Index(None, "status", "started_or_queued_at", "id"),
    Index(None, "scenario_id", "status", "started_or_queued_at", "id"),
    Index(None, "trigger_kind", "started_or_queued_at", "id"),
    Index(None, "scenario_id", "trigger_kind", "started_or_queued_at", "id"),
    # Retention (oldest first) and the dashboard's days: by creation.
    Index(None, "created_at", "id"),
    # reap_stale: running executions by heartbeat.
    Index(None, "status", "heartbeat_at"),
)

execution_records = Table(
    "execution_records",
    metadata,
    Column(
        "execution_id",
        String(36),
        ForeignKey("executions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("record", CompressedJSON, nullable=False),
)

incomplete_executions = Table(
    "incomplete_executions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scenario_id", Integer, _scenario_fk(), nullable=False),
    Column("execution_id", String(36), ForeignKey("executions.id", ondelete="SET NULL")),
    Column("blueprint_version", Integer, nullable=False),
    Column("failed_module_id", Integer),
    Column("state", JSONText),
    Column("error", JSONText, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("next_retry_at", UTCDateTime()),
    Column("status", String(16), nullable=False),
    *_created_updated(),
    Index(None, "scenario_id", "status", "id"),
    Index(None, "status", "next_retry_at"),
)

data_stores = Table(
    "data_stores",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", PlainText(field="name"), nullable=False),
    Column("structure", JSONText),
    Column("max_size_bytes", BigInteger, nullable=False),
    *_created_updated(),
)

data_store_records = Table(
    "data_store_records",
    metadata,
    Column("store_id", Integer, ForeignKey("data_stores.id", ondelete="CASCADE"), primary_key=True),
    Column("key", PlainText(255, field="key"), primary_key=True),
    Column("data", JSONText, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    *_created_updated(),
)

trigger_cursors = Table(
    "trigger_cursors",
    metadata,
    Column("scenario_id", Integer, _scenario_fk(), primary_key=True),
    Column("module_id", Integer, primary_key=True),
    Column("cursor", JSONText, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

organization_variables = Table(
    "organization_variables",
    metadata,
    Column("name", PlainText(255, field="name"), primary_key=True),
    Column("value", JSONText, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# -- accounts (migration 0002) ----------------------------------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    # Lower-cased by the store, so uniqueness is case-insensitive on both backends.
    Column("email", PlainText(320, field="email"), nullable=False, unique=True),
    Column("name", PlainText(field="name"), nullable=False),
    Column("role", String(16), nullable=False),
    # A self-describing slow hash (``scrypt$…``); the password itself is never stored.
    Column("password_hash", Text, nullable=False),
    *_created_updated(),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("name", PlainText(field="name"), nullable=False),
    # SHA-256 of the token text: the token is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("expires_at", UTCDateTime(), nullable=False),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    # SHA-256 of the session id in the cookie: a leaked table does not sign anyone in.
    Column("id_hash", String(64), primary_key=True),
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

delivery_digests = Table(
    "delivery_digests",
    metadata,
    # SHA-256 of the app and the raw body of a verified app delivery accepted lately.
    Column("digest", String(64), primary_key=True),
    Column("seen_at", UTCDateTime(), nullable=False, index=True),
)
