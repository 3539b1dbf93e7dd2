"""Turns keep the numbers of their answer traced to the outputs that printed them (JSON, NULL: not traced)."""

import sqlalchemy as sa
from alembic import op

revision = "0005_turn_traces"
down_revision = "0004_run_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("turns", sa.Column("trace", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("turns") as batch:
        batch.drop_column("trace")
