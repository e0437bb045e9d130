"""index only pending welcomes and unsent messages

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:10:00

New memberships (no welcome due) and sent messages drop out of these indexes, so the
message path writes fewer index entries; the queries that use them ask for pending rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_WELCOME = sa.text("welcome_due IS NOT NULL")
PENDING_MESSAGE = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index("ix_memberships_welcome_due", table_name="memberships")
    op.drop_index("ix_memberships_group_welcome_due", table_name="memberships")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index(
        "ix_memberships_pending_welcome",
        "memberships",
        ["group_id", "welcome_due"],
        sqlite_where=PENDING_WELCOME,
        postgresql_where=PENDING_WELCOME,
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["priority", "not_before", "id"],
        sqlite_where=PENDING_MESSAGE,
        postgresql_where=PENDING_MESSAGE,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_index("ix_memberships_pending_welcome", table_name="memberships")
    op.create_index("ix_outbox_due", "outbox", ["status", "priority", "not_before", "id"])
    op.create_index("ix_memberships_group_welcome_due", "memberships", ["group_id", "welcome_due"])
    op.create_index("ix_memberships_welcome_due", "memberships", ["welcome_due"])
