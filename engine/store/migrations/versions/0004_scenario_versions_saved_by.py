"""Scenario versions: who saved each (``saved_by``, the user's email; NULL when unknown).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column: existing versions keep their rows as they are (who saved them is
    # unknown), and SQLite adds it without copying the table.
    op.add_column("scenario_versions", sa.Column("saved_by", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scenario_versions") as batch_op:
        batch_op.drop_column("saved_by")
