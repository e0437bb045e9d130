"""data_keys, and PostgreSQL's name and evidence columns widened for sealed text

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite ignores declared lengths (see storage.encryption.SecretText): only PostgreSQL's change.
WIDENED = (("members", "name"), ("strikes", "evidence"))


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("first_used_at", UtcDateTime(), nullable=False),
        sa.Column("retired_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_id"),
    )
    if op.get_bind().dialect.name != "sqlite":
        for table, column in WIDENED:
            op.alter_column(table, column, type_=sa.String(), existing_type=sa.String(length=256))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for table, column in WIDENED:
            op.alter_column(table, column, type_=sa.String(length=256), existing_type=sa.String())
    op.drop_table("data_keys")
