"""`storage.migrate.upgrade` skips Alembic for a database already at `HEAD`, and only then (issue 28: Alembic is not
imported at a start that has nothing to migrate)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from storage import migrate


def test_head_is_the_newest_revision_of_the_migrations() -> None:
    """A new revision must move `HEAD` too, or a database would never be upgraded to it."""
    assert ScriptDirectory.from_config(migrate.alembic_config()).get_heads() == [migrate.HEAD]


def test_a_database_behind_head_is_upgraded_and_one_at_head_is_left_alone(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0007")
        assert not migrate.current(connection)
        migrate.upgrade(connection)
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == migrate.HEAD
        assert "deleted_conversations" in inspect(connection).get_table_names()  # 0008's table
        assert migrate.current(connection)
        migrate.upgrade(connection)  # current: nothing to do, and nothing breaks
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == migrate.HEAD
    engine.dispose()


def test_an_empty_database_is_not_current(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with engine.begin() as connection:
        assert not migrate.current(connection)
        migrate.upgrade(connection)
        assert migrate.current(connection)
    engine.dispose()
