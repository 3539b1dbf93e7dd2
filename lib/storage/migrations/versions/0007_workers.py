"""Run workers announce themselves: one row each with its last beat, so pages can tell that none is running and
the admin page can list them."""

import sqlalchemy as sa
from alembic import op

revision = "0007_workers"
down_revision = "0006_run_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("host", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("pid", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("capacity", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("last_beat", sa.Float, nullable=False),
        sa.Column("draining", sa.Integer, nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.drop_table("workers")
