"""Alembic environment: runs this app's migrations on the engine `lib.storage.db.upgrade` hands over.

Migrations run only through `lib.storage.db.upgrade` (any process opening the store does it), which also brings old
SQLite files to the baseline and holds PostgreSQL's migration lock."""

from __future__ import annotations

from alembic import context

from lib.storage import db

engine = context.config.attributes.get("engine")
if engine is None:
    raise SystemExit("Migrations run when the app, a worker or the CLI opens the database (lib.storage.db.upgrade).")

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=db.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
