"""unanswered_questions: who answered a question with /answer, and with what

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.add_column(sa.Column("answered_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("answer", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_column("answer")
        batch.drop_column("answered_by")
