"""outbox rows name the member whose message they answer

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 04:00:00

The worker takes turns between requesters, so that one member's backlog never holds up
another member's answer; rows stored before carry none and keep their order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("requester", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("requester")
