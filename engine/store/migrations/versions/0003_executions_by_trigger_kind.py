"""Executions: keyset indexes for the history's trigger-kind filter (alone and per scenario).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_executions_trigger_kind_created_at_id",
        "executions",
        ["trigger_kind", "created_at", "id"],
    )
    op.create_index(
        "ix_executions_scenario_id_trigger_kind_created_at_id",
        "executions",
        ["scenario_id", "trigger_kind", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_executions_scenario_id_trigger_kind_created_at_id", table_name="executions")
    op.drop_index("ix_executions_trigger_kind_created_at_id", table_name="executions")
