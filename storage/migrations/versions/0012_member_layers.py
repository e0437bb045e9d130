"""member layers: each membership's layer and every change of it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 06:40:00

The daily recomputation stores each membership's layer (new, core, active, quiet,
churning, left) and a row per change, so layer sizes can be charted over time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch_op:
        batch_op.add_column(sa.Column("layer", sa.String(length=16), nullable=True))
    op.create_table(
        "layer_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("from_layer", sa.String(length=16), nullable=True),
        sa.Column("to_layer", sa.String(length=16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_layer_changes_group_at", "layer_changes", ["group_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_layer_changes_group_at", table_name="layer_changes")
    op.drop_table("layer_changes")
    with op.batch_alter_table("memberships") as batch_op:
        batch_op.drop_column("layer")
