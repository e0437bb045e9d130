"""index only the outbox rows that have a key or a broadcast; drop an unused ledger index

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 01:10:00

Replies to members have neither a key nor a broadcast, yet each wrote a NULL entry into
both indexes: two B-tree inserts of every reply's four. The key stays unique where it is
set (a partial unique index, which inserts name as their conflict target). The ledger's
(group, member) index served only a consistency check; every reader of the ledger asks
by group and time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYED = sa.text("key IS NOT NULL")
BROADCAST = sa.text("broadcast_id IS NOT NULL")
# How SQLite reflects the unnamed UNIQUE ("key") of 0002, so that batch mode can drop it.
NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _drop_key_constraint() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("outbox", naming_convention=NAMES) as batch_op:
            batch_op.drop_constraint("uq_outbox_key", type_="unique")
    else:
        op.drop_constraint("outbox_key_key", "outbox", type_="unique")


def upgrade() -> None:
    _drop_key_constraint()
    op.create_index(
        "uq_outbox_key", "outbox", ["key"], unique=True, sqlite_where=KEYED, postgresql_where=KEYED
    )
    op.drop_index("ix_outbox_broadcast_id", table_name="outbox")
    op.create_index(
        "ix_outbox_broadcast_id",
        "outbox",
        ["broadcast_id"],
        sqlite_where=BROADCAST,
        postgresql_where=BROADCAST,
    )
    op.drop_index("ix_points_ledger_group_member", table_name="points_ledger")


def downgrade() -> None:
    op.create_index("ix_points_ledger_group_member", "points_ledger", ["group_id", "member_id"])
    op.drop_index("ix_outbox_broadcast_id", table_name="outbox")
    op.create_index("ix_outbox_broadcast_id", "outbox", ["broadcast_id"])
    op.drop_index("uq_outbox_key", table_name="outbox")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.create_unique_constraint("outbox_key_key", ["key"])
