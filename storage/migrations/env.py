"""Alembic's environment: always run by `storage.migrate`, on a connection it is handed (never from a URL here)."""

from __future__ import annotations

from alembic import context

from storage.migrate import include_name
from storage.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()
