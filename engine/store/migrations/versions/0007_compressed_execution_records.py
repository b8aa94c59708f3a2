"""Execution records are stored as bytes, compressed when large (``CompressedJSON``): a run over
10,000 items kept a 4.5 MB record, now about 340 KB.

PostgreSQL converts the column's JSON text into its UTF-8 bytes, which ``CompressedJSON``
reads like any uncompressed value. SQLite keeps a column's values as they were written, so
its old rows stay text and are read as such; only the declared type changes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engine.store.sql.types import CompressedJSON, dump_json

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "execution_records",
            "record",
            type_=sa.LargeBinary(),
            existing_type=sa.Text(),
            existing_nullable=False,
            postgresql_using="convert_to(record, 'UTF8')",
        )
        return
    with op.batch_alter_table("execution_records") as batch_op:
        batch_op.alter_column(
            "record", type_=sa.LargeBinary(), existing_type=sa.Text(), existing_nullable=False
        )


def downgrade() -> None:
    """Back to JSON text, record by record (decompressed in Python: SQL cannot)."""
    with op.batch_alter_table("execution_records") as batch_op:
        batch_op.add_column(sa.Column("record_text", sa.Text(), nullable=True))
    records = sa.table(
        "execution_records",
        sa.column("execution_id", sa.String(36)),
        sa.column("record", sa.LargeBinary()),
        sa.column("record_text", sa.Text()),
    )
    bind = op.get_bind()
    ids = bind.execute(sa.select(records.c.execution_id)).scalars().all()
    for execution_id in ids:
        stored = bind.execute(
            sa.select(records.c.record).where(records.c.execution_id == execution_id)
        ).scalar_one()
        bind.execute(
            records.update()
            .where(records.c.execution_id == execution_id)
            .values(record_text=_json_text(stored))
        )
    with op.batch_alter_table("execution_records") as batch_op:
        batch_op.drop_column("record")
        batch_op.alter_column(
            "record_text", new_column_name="record", existing_type=sa.Text(), nullable=False
        )


def _json_text(stored: bytes | str) -> str:
    value = CompressedJSON().process_result_value(stored, sa.engine.default.DefaultDialect())
    return dump_json(value)
