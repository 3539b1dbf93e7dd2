"""Runs remember which run they replay (the same questions asked again on other files)."""

import sqlalchemy as sa
from alembic import op

revision = "0003_replays"
down_revision = "0002_run_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("replay_of", sa.Text, nullable=False, server_default=sa.text("''")))
    op.create_index("runs_replay_of", "runs", ["replay_of"])


def downgrade() -> None:
    op.drop_index("runs_replay_of", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("replay_of")
