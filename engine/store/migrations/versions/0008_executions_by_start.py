"""Executions: the history is ordered by start, not by creation.

``executions.started_or_queued_at`` holds ``coalesce(started_at, created_at)`` (the store keeps
it so on every write), and the history's keyset indexes move from ``(…, created_at, id)`` to
``(…, started_or_queued_at, id)``; ``(created_at, id)`` stays for retention and the dashboard.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engine.store.sql.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The filters of the history, each with its keyset index.
FILTERS: list[list[str]] = [
    [],
    ["scenario_id"],
    ["status"],
    ["scenario_id", "status"],
    ["trigger_kind"],
    ["scenario_id", "trigger_kind"],
]


def _name(columns: list[str]) -> str:
    return "ix_executions_" + "_".join(columns)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # Never a batch (copy-and-swap) on SQLite: dropping the old ``executions`` would cascade
    # to ``execution_records`` and null ``incomplete_executions.execution_id``. SQLite adds a
    # NOT NULL column in place only with a default; every row gets its real value just below.
    op.add_column(
        "executions",
        sa.Column(
            "started_or_queued_at",
            UTCDateTime(),
            nullable=not sqlite,
            server_default=sa.text("'1970-01-01 00:00:00.000000'") if sqlite else None,
        ),
    )
    table = sa.table(
        "executions",
        sa.column("created_at", UTCDateTime()),
        sa.column("started_at", UTCDateTime()),
        sa.column("started_or_queued_at", UTCDateTime()),
    )
    op.execute(
        table.update().values(
            started_or_queued_at=sa.func.coalesce(table.c.started_at, table.c.created_at)
        )
    )
    if not sqlite:
        op.alter_column(
            "executions", "started_or_queued_at", existing_type=UTCDateTime(), nullable=False
        )
    for columns in FILTERS:
        op.create_index(
            _name([*columns, "started_or_queued_at", "id"]),
            "executions",
            [*columns, "started_or_queued_at", "id"],
        )
        if columns:  # (created_at, id) stays: retention and the dashboard read by creation
            op.drop_index(_name([*columns, "created_at", "id"]), table_name="executions")


def downgrade() -> None:
    for columns in reversed(FILTERS):
        if columns:
            op.create_index(
                _name([*columns, "created_at", "id"]), "executions", [*columns, "created_at", "id"]
            )
        op.drop_index(_name([*columns, "started_or_queued_at", "id"]), table_name="executions")
    op.drop_column("executions", "started_or_queued_at")  # in place (SQLite ≥ 3.35)
