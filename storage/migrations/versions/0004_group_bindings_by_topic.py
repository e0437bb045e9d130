"""group bindings by topic

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:15:01.919323
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_bindings",
        sa.Column("topic", sa.String(length=256), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("bound_at", storage.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("topic"),
        sa.UniqueConstraint("group_id"),
    )


def downgrade() -> None:
    op.drop_table("group_bindings")
