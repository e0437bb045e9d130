"""remember handled platform message ids

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 18:10:00

A message the platform delivers again after a reconnect or a restart is handled once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_messages",
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("seen_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_seen_messages_seen_at", "seen_messages", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_messages_seen_at", table_name="seen_messages")
    op.drop_table("seen_messages")
