"""Baseline: the tables of the hand-written schema's version 4 (files, runs, turns, items, artifacts, users)."""

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def _text(name: str, default: str = "") -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default=sa.text(f"'{default}'"))


def _flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, server_default=sa.text("0"))


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("mime_type", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        _text("sha256"),
        _text("kind"),
        _text("local_path"),
        sa.Column("created_at", sa.Float, nullable=False),
        _flag("remote_missing"),
        _text("notes"),
        _text("owner", "local"),
    )
    op.create_index("files_owner", "files", ["owner", "created_at"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("tool_version", sa.Text, nullable=False),
        _text("container_id"),
        _text("container_expires_at"),
        _text("file_ids", "[]"),
        _text("error"),
        _flag("demo"),
        sa.Column("budget_usd", sa.Float, nullable=False, server_default=sa.text("0")),
        _text("owner", "local"),
        _flag("shared"),
    )
    op.create_index("runs_updated", "runs", ["updated_at"])
    op.create_index("runs_owner", "runs", ["owner", "updated_at"])
    op.create_table(
        "turns",
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        _text("user_content", "[]"),
        _text("assistant_content", "[]"),
        _text("usage", "{}"),
        _text("stop_reason"),
        _text("container_id"),
        sa.Column("requests", sa.Integer, nullable=False, server_default=sa.text("0")),
        _text("error"),
    )
    op.create_table(
        "items",
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("turn_idx", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("turn_idx", sa.Integer, nullable=False),
        sa.Column("file_id", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("mime_type", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        _text("tool_use_id"),
        sa.UniqueConstraint("run_id", "file_id", name="artifacts_run_file"),
    )
    op.create_index("artifacts_created", "artifacts", ["created_at"])
    op.create_table(
        "users",
        sa.Column("owner", sa.Text, primary_key=True),
        _text("email"),
        _text("name"),
        sa.Column("first_seen", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("monthly_budget_usd", sa.Float, nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    for table in ("users", "artifacts", "items", "turns", "runs", "files"):
        op.drop_table(table)
