"""App deliveries accepted lately (``delivery_digests``): the replay memory, shared by every
web process and kept across restarts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_digests",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_delivery_digests")),
    )
    op.create_index(op.f("ix_delivery_digests_seen_at"), "delivery_digests", ["seen_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_delivery_digests_seen_at"), table_name="delivery_digests")
    op.drop_table("delivery_digests")
