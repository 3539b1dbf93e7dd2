"""Runs remember the SQL sources picked for them, by name (never a URL)."""

import sqlalchemy as sa
from alembic import op

revision = "0006_run_sources"
down_revision = "0005_turn_traces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("sources", sa.Text, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("sources")
