"""activity facts: memberships.active_at/active_count, activity_windows, activity_watermark

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 13:40:00

The facts start empty: each group's are built the first time its layers are asked for.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("active_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("active_count", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "activity_windows",
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("counted_from", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("group_id"),
    )
    watermark = op.create_table(
        "activity_watermark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("through_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(watermark, [{"id": 1, "through_id": 0}])


def downgrade() -> None:
    op.drop_table("activity_watermark")
    op.drop_table("activity_windows")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("active_count")
        batch.drop_column("active_at")
