"""member tags: a tag per member and group, with its source and optional expiry

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_tags",
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("set_by", sa.String(length=128), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("group_id", "member_id", "tag"),
    )
    op.create_index("ix_member_tags_group_tag", "member_tags", ["group_id", "tag"])


def downgrade() -> None:
    op.drop_index("ix_member_tags_group_tag", table_name="member_tags")
    op.drop_table("member_tags")
