"""faq_suggestions: "did you mean" offers and the entry each member chose

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("asked", sa.String(), nullable=False),
        sa.Column("entries", sa.String(length=1024), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("chosen", sa.String(length=128), nullable=True),
        sa.Column("chosen_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_faq_suggestions_member", "faq_suggestions", ["group_id", "member_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_faq_suggestions_member", table_name="faq_suggestions")
    op.drop_table("faq_suggestions")
