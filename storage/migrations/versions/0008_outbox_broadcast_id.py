"""outbox rows name the broadcast they deliver

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 19:00:00

A broadcast's deliveries were found by the prefix of their idempotency keys; a column says
it outright. Existing rows get it from their key (``broadcast:N@…``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_outbox_broadcast_id", ["broadcast_id"], unique=False)
    outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("key", sa.String))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(outbox.c.id, outbox.c.key).where(outbox.c.key.like("broadcast:%@%"))
    )
    for message_id, key in rows.all():
        number = key.removeprefix("broadcast:").partition("@")[0]
        if number.isdigit():
            connection.execute(
                sa.text("UPDATE outbox SET broadcast_id = :n WHERE id = :id"),
                {"n": int(number), "id": message_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_broadcast_id")
        batch_op.drop_column("broadcast_id")
