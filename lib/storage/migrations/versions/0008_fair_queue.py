"""The fair queue: when each owner last had a turn claimed, so workers serve the owner who waited longest."""

import sqlalchemy as sa
from alembic import op

revision = "0008_fair_queue"
down_revision = "0007_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_owners",
        sa.Column("owner", sa.Text, primary_key=True),
        sa.Column("last_claim_at", sa.Float, nullable=False, server_default=sa.text("0")),
    )
    # owners of turns queued before this version: workers claim only turns whose owner has a row
    op.execute(
        "INSERT INTO queue_owners (owner) SELECT DISTINCT runs.owner FROM runs JOIN turns ON turns.run_id = runs.id "
        "WHERE turns.status = 'queued'"
    )


def downgrade() -> None:
    op.drop_table("queue_owners")
