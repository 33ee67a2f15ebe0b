"""Copy every row of one chatui database into another, empty one (`python main.py migrate-db --to postgresql://...`).

Generic over the models' metadata, so a table added to `storage/models.py` is copied without touching this file.
Both schemas are brought to the newest migration first, so the two have the same tables and columns.

All of it is one transaction on the target: rows, then the per-table counts checked against the source, then the
commit. A failure anywhere (a lost connection, a row the target refuses, a count that differs) rolls everything back
and leaves the target as empty as it was, so the command can simply be run again. A target that already holds rows
is refused: merging two databases is not what this does.

Rows move in batches: `BATCH` rows, or `BINARY_BATCH` for a table with binary columns (the file store's 256 KiB
chunks: 4 MB a batch), so memory stays flat however large the database — a 1 GB file store included.

Foreign keys that point back into their own table or into a table copied later (a message's parent, a cycle between
two tables) are written NULL with the row and filled in once every table is there, so the order rows come in never
matters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL

from storage import migrate
from storage.database import Database
from storage.models import Base

BATCH = 1000
BINARY_BATCH = 16
"""Rows a batch of a table with binary columns: 16 of the file store's 256 KiB chunks are 4 MB."""


class CopyRefused(RuntimeError):
    """The copy was not started or was rolled back; the target holds what it held before (the message says why)."""


@dataclass(frozen=True, slots=True)
class TableCopied:
    name: str
    source_rows: int
    target_rows: int


def copy_database(
    source_url: str | URL,
    target_url: str | URL,
    *,
    metadata: MetaData = Base.metadata,
    progress: Callable[[str, int], None] = lambda table, rows: None,
) -> list[TableCopied]:
    """Copy all rows of `metadata`'s tables from source to target; returns the counts that were checked."""
    source, target = Database(source_url), Database(target_url)
    try:
        with source.engine.begin() as connection:
            migrate.upgrade(connection)
        with target.engine.begin() as connection:
            migrate.upgrade(connection)
        with source.engine.connect() as reader, target.engine.begin() as writer:
            _refuse_non_empty(writer, metadata)
            tables = list(metadata.sorted_tables)
            deferred = _deferred_columns(tables)
            for table in tables:
                copied = _copy_table(reader, writer, table, deferred.get(table.name, []))
                progress(table.name, copied)
            for table in tables:
                if deferred.get(table.name):
                    _fill_deferred(reader, writer, table, deferred[table.name])
            _advance_sequences(writer, target.engine, tables)
            counts = [
                TableCopied(t.name, _count(reader, t), _count(writer, t)) for t in tables if t.name in metadata.tables
            ]
            differing = [c for c in counts if c.source_rows != c.target_rows]
            if differing:
                raise CopyRefused(
                    "row counts differ, nothing was kept: "
                    + ", ".join(f"{c.name} {c.source_rows} -> {c.target_rows}" for c in differing)
                )
        return counts
    finally:
        source.engine.dispose()
        target.engine.dispose()


def _refuse_non_empty(connection: Connection, metadata: MetaData) -> None:
    filled = [t.name for t in metadata.sorted_tables if connection.execute(select(1).select_from(t).limit(1)).first()]
    if filled:
        raise CopyRefused(f"the target database is not empty (rows in: {', '.join(filled)}); give an empty one")


def _deferred_columns(tables: list[Table]) -> dict[str, list[Column[Any]]]:
    """Per table, the foreign-key columns whose referenced table is this one or one copied later."""
    position = {t.name: i for i, t in enumerate(tables)}
    deferred: dict[str, list[Column[Any]]] = {}
    for table in tables:
        for key in table.foreign_keys:
            referenced = key.column.table.name
            if position.get(referenced, -1) >= position[table.name] and key.parent.nullable:
                deferred.setdefault(table.name, []).append(key.parent)
    return deferred


def _writable(table: Table) -> list[Column[Any]]:
    """Columns the target accepts values for (a computed column fills itself)."""
    return [c for c in table.columns if c.computed is None]


def batch_rows(columns: list[Column[Any]]) -> int:
    """How many rows of these columns go in one batch (few when one of them holds bytes)."""
    return BINARY_BATCH if any(isinstance(c.type, LargeBinary) for c in columns) else BATCH


def _rows(reader: Connection, table: Table, columns: list[Column[Any]]) -> Iterator[list[dict[str, Any]]]:
    """The table's rows in primary-key order, a batch at a time, without holding them all in memory."""
    query = select(*columns).order_by(*table.primary_key.columns)
    size = batch_rows(columns)
    result = reader.execution_options(stream_results=True, yield_per=size).execute(query)
    for partition in result.mappings().partitions(size):
        yield [dict(row) for row in partition]


def _copy_table(reader: Connection, writer: Connection, table: Table, deferred: list[Column[Any]]) -> int:
    columns = _writable(table)
    later = {c.name for c in deferred}
    copied = 0
    for batch in _rows(reader, table, columns):
        for row in batch:
            for name in later:
                row[name] = None
        writer.execute(table.insert(), batch)
        copied += len(batch)
    return copied


def _fill_deferred(reader: Connection, writer: Connection, table: Table, deferred: list[Column[Any]]) -> None:
    key = list(table.primary_key.columns)
    statement = (
        update(table)
        .where(*(c == bindparam(f"key_{c.name}") for c in key))
        .values({c.name: bindparam(f"value_{c.name}") for c in deferred})
    )
    for batch in _rows(reader, table, [*key, *deferred]):
        values = [
            {**{f"key_{c.name}": row[c.name] for c in key}, **{f"value_{c.name}": row[c.name] for c in deferred}}
            for row in batch
            if any(row[c.name] is not None for c in deferred)
        ]
        if values:
            writer.execute(statement, values)


def _advance_sequences(writer: Connection, engine: Engine, tables: list[Table]) -> None:
    """PostgreSQL: integer keys copied as they were, so each serial's sequence must continue after the largest."""
    if engine.dialect.name != "postgresql":
        return
    for table in tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                writer.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence(:table, :column), "
                        f'coalesce((SELECT max("{column.name}") FROM "{table.name}"), 0) + 1, false)'
                    ).bindparams(table=table.name, column=column.name)
                )


def _count(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
