"""the day's check-ins indexed with their rank: the next rank is a lookup, not a count

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 04:00:00

A check-in's rank was one more than a count of the day's check-ins, which grows with the
group; the largest rank of the day comes from the end of this index instead.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_checkins_group_day_rank", "checkins", ["group_id", "day", "rank"])
    op.drop_index("ix_checkins_group_day", table_name="checkins")


def downgrade() -> None:
    op.create_index("ix_checkins_group_day", "checkins", ["group_id", "day"])
    op.drop_index("ix_checkins_group_day_rank", table_name="checkins")
