"""Runs get a name their owner can change (empty: the title they were started with), and are found by the day
they were started."""

import sqlalchemy as sa
from alembic import op

revision = "0004_run_names"
down_revision = "0003_replays"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("name", sa.Text, nullable=False, server_default=sa.text("''")))
    op.create_index("runs_owner_created", "runs", ["owner", "created_at"])


def downgrade() -> None:
    op.drop_index("runs_owner_created", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("name")
