"""Alembic migrations, the schema's history; `Database.prepare()` upgrades to the newest at start-up."""
