"""Turns become a work queue (request, worker, lease, stop requested); items get a watermark index."""

import sqlalchemy as sa
from alembic import op

revision = "0002_run_queue"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("turns", sa.Column("request", sa.Text, nullable=False, server_default=sa.text("'{}'")))
    op.add_column("turns", sa.Column("worker", sa.Text, nullable=False, server_default=sa.text("''")))
    op.add_column("turns", sa.Column("lease_until", sa.Float, nullable=False, server_default=sa.text("0")))
    op.add_column("turns", sa.Column("stop_requested", sa.Integer, nullable=False, server_default=sa.text("0")))
    op.create_index("turns_queue", "turns", ["status", "started_at"])
    op.create_index("items_watermark", "items", ["run_id", "turn_idx", "updated_at"])
    op.execute("DROP TABLE IF EXISTS meta")  # the hand-written schema's version, now kept by Alembic


def downgrade() -> None:
    op.drop_index("items_watermark", "items")
    op.drop_index("turns_queue", "turns")
    with op.batch_alter_table("turns") as batch:
        for column in ("stop_requested", "lease_until", "worker", "request"):
            batch.drop_column(column)
