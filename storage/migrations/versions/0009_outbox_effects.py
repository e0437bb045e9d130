"""outbox rows are effects: a kind (send text, remove a member) and the member acted on

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 03:00:00

Every row stored before this revision is a message: its kind defaults to ``send_text``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), nullable=False, server_default="send_text")
        )
        batch_op.add_column(sa.Column("member", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("member")
        batch_op.drop_column("kind")
