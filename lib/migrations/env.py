"""Alembic environment: runs this app's migrations on the engine the app hands over (or the configured one)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import context

from lib import db

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # the alembic command line: the same settings as the app
    url = os.environ.get("ANALYST_DATABASE_URL") or db.sqlite_url(Path(os.environ.get("ANALYST_DATA_DIR", "data")))
    engine = db.sa.create_engine(url)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=db.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
