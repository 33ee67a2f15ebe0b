"""Retrieval over knowledge chunks with the database's own full-text engine, ranked best first — no model needed.

The same engines as conversation search (`storage.search`), set up for questions rather than as-you-type filtering:

- **SQLite**: an FTS5 external-content table `knowledge_fts(heading, text)` over `knowledge_chunks` (no second copy
  of the text), kept in step by triggers, ranked with `bm25()` (a heading's words weigh twice a body's). The
  tokenizer stems English (`porter`), so "indexes" finds "index".
- **PostgreSQL**: a stored generated `search_vector` column (`english` configuration: stemmed, stop words dropped;
  the heading weighted `A`, the text `B`) with a GIN index, ranked with `ts_rank` normalised by length (option 1),
  PostgreSQL's nearest to BM25.

A question's words are ORed, not ANDed: a passage that answers it rarely holds every word of it. Words are runs of
letters and digits, each handed to the engine quoted (FTS5) or as a quoted lexeme (PostgreSQL), so no input is ever
query syntax. English function words are dropped first: they match most chunks and add only cost (`STOP_WORDS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from storage.snippets import WORD

MAX_TERMS = 24
"""Words of a question looked for (the rest are dropped: a pasted page is not a query)."""
PG_CONFIG = "english"
PG_INDEXED_CHARS = 100_000
HEADING_WEIGHT = 2.0

_STOP_WORDS = """
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our
ours out over own same she should so some such than that the their theirs them then there these they this
those through to too under until up very was we were what when where which while who whom why will with would
you your yours
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

SQLITE_UP = [
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(heading, text, content='knowledge_chunks', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    """CREATE TRIGGER knowledge_fts_insert AFTER INSERT ON knowledge_chunks BEGIN
        INSERT INTO knowledge_fts(rowid, heading, text) VALUES (new.id, new.heading, new.text);
    END""",
    """CREATE TRIGGER knowledge_fts_delete AFTER DELETE ON knowledge_chunks BEGIN
        INSERT INTO knowledge_fts(knowledge_fts, rowid, heading, text) VALUES ('delete', old.id, old.heading, old.text);
    END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS knowledge_fts_delete",
    "DROP TRIGGER IF EXISTS knowledge_fts_insert",
    "DROP TABLE IF EXISTS knowledge_fts",
]
POSTGRES_UP = [
    f"""ALTER TABLE knowledge_chunks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('{PG_CONFIG}'::regconfig, coalesce(heading, '')), 'A') ||
        setweight(to_tsvector('{PG_CONFIG}'::regconfig, left(text, {PG_INDEXED_CHARS})), 'B')
    ) STORED""",
    "CREATE INDEX ix_knowledge_chunks_search ON knowledge_chunks USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_knowledge_chunks_search",
    "ALTER TABLE knowledge_chunks DROP COLUMN IF EXISTS search_vector",
]


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with what a citation needs: its document, page and heading path."""

    chunk_id: int
    document_id: str
    document_name: str
    collection_id: str
    page: int | None
    heading: str | None
    text: str
    score: float
    """Higher is better (comparable within one retrieval only)."""


def query_words(question: str) -> list[str]:
    """The words of a question worth looking for, in order, each once: no function words, at most `MAX_TERMS`."""
    words: dict[str, None] = {}
    for word in WORD.findall(question.lower()):
        if word not in STOP_WORDS and (len(word) > 1 or word.isdigit()):
            words.setdefault(word)
    return list(words)[:MAX_TERMS]


def retrieve(c: Connection, collection_ids: Sequence[str], question: str, limit: int) -> list[Passage]:
    """The `limit` best passages for `question` among the collections' chunks, best first (`[]` without words)."""
    words = query_words(question)
    if not words or not collection_ids or limit <= 0:
        return []
    if c.dialect.name == "sqlite":
        match = " OR ".join('"' + w + '"' for w in words)
        rows = c.execute(_SQLITE, {"match": match, "cids": list(collection_ids), "limit": limit}).all()
    else:
        tsquery = " | ".join(f"'{w}'" for w in words)
        rows = c.execute(_PG, {"tsquery": tsquery, "cids": list(collection_ids), "limit": limit}).all()
    return [
        Passage(
            chunk_id=row.id,
            document_id=row.document_id,
            document_name=row.name,
            collection_id=row.collection_id,
            page=row.page,
            heading=row.heading,
            text=row.text,
            score=float(row.score),
        )
        for row in rows
    ]


_COLUMNS = "k.id, k.document_id, d.name, k.collection_id, k.page, k.heading, k.text"
_SQLITE = text(
    f"""
    SELECT {_COLUMNS}, f.score
    FROM (
        SELECT rowid, -bm25(knowledge_fts, {HEADING_WEIGHT}, 1.0) AS score FROM knowledge_fts
        WHERE knowledge_fts MATCH :match
    ) AS f
    JOIN knowledge_chunks AS k ON k.id = f.rowid
    JOIN knowledge_documents AS d ON d.id = k.document_id
    WHERE k.collection_id IN :cids AND d.status = 'ready'
    ORDER BY f.score DESC, k.id
    LIMIT :limit
    """
).bindparams(bindparam("cids", expanding=True))
_PG = text(
    f"""
    WITH q AS (SELECT to_tsquery('{PG_CONFIG}', :tsquery) AS query)
    SELECT {_COLUMNS}, ts_rank(k.search_vector, q.query, 1) AS score
    FROM q, knowledge_chunks AS k
    JOIN knowledge_documents AS d ON d.id = k.document_id
    WHERE k.search_vector @@ q.query AND k.collection_id IN :cids AND d.status = 'ready'
    ORDER BY score DESC, k.id
    LIMIT :limit
    """
).bindparams(bindparam("cids", expanding=True))
