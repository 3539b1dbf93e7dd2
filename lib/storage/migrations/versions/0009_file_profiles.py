"""Files keep their table's profile (rows, column types and statistics, data-quality notes) as JSON."""

import sqlalchemy as sa
from alembic import op

revision = "0009_file_profiles"
down_revision = "0008_fair_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("files", sa.Column("profile", sa.Text, nullable=False, server_default=sa.text("''")))


def downgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.drop_column("profile")
