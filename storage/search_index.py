"""The SQLite full-text index's schema objects: the search-index migration creates them, `storage.search` reads them.

Two FTS5 external-content tables read their text from `messages` / `conversations` (no second copy of it), kept in
step by triggers. A message is in the index only while its status is not `streaming`: checkpoints (streaming →
streaming) touch nothing, the end of a reply (streaming → anything) adds it, an edit of a finished message replaces
it, a delete (also the cascade from its conversation) removes it. The 'delete' command of an external-content table
must be given exactly the text that was indexed, which is why the streaming text, never indexed, is never
"deleted" either.

A migration that rebuilds `messages` or `conversations` (Alembic's batch "move and copy" on SQLite) drops their
triggers and may renumber rowids. `repair_sqlite` runs after every upgrade: if a trigger is missing it puts them
all back and rebuilds the index from the tables.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

STREAMING = "'streaming'"
TOKENIZER = "tokenize='unicode61 remove_diacritics 2', prefix='2 3'"

TABLES = [
    f"CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='rowid', {TOKENIZER})",
    f"CREATE VIRTUAL TABLE conversations_fts USING fts5(title, content='conversations', content_rowid='rowid', "
    f"{TOKENIZER})",
]
TRIGGERS = {
    "messages_fts_insert": f"""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
        WHEN new.status <> {STREAMING} BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
    END""",
    "messages_fts_unindex": f"""CREATE TRIGGER messages_fts_unindex AFTER UPDATE OF content, status ON messages
        WHEN old.status <> {STREAMING} BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    END""",
    "messages_fts_reindex": f"""CREATE TRIGGER messages_fts_reindex AFTER UPDATE OF content, status ON messages
        WHEN new.status <> {STREAMING} BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
    END""",
    "messages_fts_delete": f"""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
        WHEN old.status <> {STREAMING} BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    END""",
    "conversations_fts_insert": """CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO conversations_fts(rowid, title) VALUES (new.rowid, new.title);
    END""",
    "conversations_fts_update": """CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
        INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
        INSERT INTO conversations_fts(rowid, title) VALUES (new.rowid, new.title);
    END""",
    "conversations_fts_delete": """CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
        INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
    END""",
}
REBUILD = [
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    "INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild')",
    # 'rebuild' indexed every row; a reply still streaming is not to be in the index
    f"INSERT INTO messages_fts(messages_fts, rowid, content) SELECT 'delete', rowid, content FROM messages "
    f"WHERE status = {STREAMING}",
]


def create_sqlite(connection: Connection) -> None:
    """The tables and triggers, and the index of the rows already there."""
    for statement in [*TABLES, *TRIGGERS.values(), *REBUILD]:
        connection.execute(text(statement))


def drop_sqlite(connection: Connection) -> None:
    for name in TRIGGERS:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    connection.execute(text("DROP TABLE IF EXISTS messages_fts"))
    connection.execute(text("DROP TABLE IF EXISTS conversations_fts"))


def repair_sqlite(connection: Connection) -> bool:
    """Put back triggers a table rebuild dropped, and rebuild the index; whether anything was missing."""
    if connection.dialect.name != "sqlite":
        return False
    names = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'table')")).scalars())
    if "messages_fts" not in names or set(TRIGGERS) <= names:
        return False  # before the search migration, or all in place
    for name, statement in TRIGGERS.items():
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        connection.execute(text(statement))
    for statement in REBUILD:
        connection.execute(text(statement))
    return True
