"""strikes: group rules broken, the ladder's step for each, pardons

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "strikes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=False),
        sa.Column("evidence", sa.String(length=256), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("until", UtcDateTime(), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("pardoned_at", UtcDateTime(), nullable=True),
        sa.Column("pardoned_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_strikes_group_member_at", "strikes", ["group_id", "member_id", "at"])
    op.create_index("ix_strikes_at", "strikes", ["at"])


def downgrade() -> None:
    op.drop_index("ix_strikes_at", table_name="strikes")
    op.drop_index("ix_strikes_group_member_at", table_name="strikes")
    op.drop_table("strikes")
