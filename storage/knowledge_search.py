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

from sqlalchemy import Connection, String, TextClause, bindparam, text

from storage.snippets import WORD

COMMON = 5_000
"""A word found in this many chunks or more is too common to look for beside rarer ones (see `retrieve`)."""
PG_COMMON = 1_000
"""PostgreSQL reads each match's row to rank it (SQLite ranks from its index), so fewer are scored: a word is common
there from 1,000 chunks. `ts_rank` weighs every word alike (it has no inverse document frequency), so leaving out
the common ones ranks the rare ones' chunks first, as BM25 would."""
CANDIDATES = 2_000
"""A question of common words only: the chunks holding all of them scored, at most this many (the newest)."""
POOL = 200
"""SQLite: the best-scored chunks looked up to keep those of the collections asked for."""
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


def _common(c: Connection, statement: TextClause, params: dict[str, object]) -> bool:
    """Whether the count (stopping at `COMMON`) reaches it."""
    return int(c.execute(statement, params).scalar() or 0) >= COMMON


def retrieve(
    c: Connection, collection_ids: Sequence[str], question: str, limit: int, document_ids: Sequence[str] = ()
) -> list[Passage]:
    """The `limit` best passages for `question` among the chunks of the collections and of the single documents
    given, best first (`[]` without words).

    What a query costs is the number of chunks it scores: every chunk holding any of its words. A word in a large
    share of the chunks adds almost nothing to a BM25 rank (its inverse document frequency is near zero) and would
    have tens of thousands scored, so words found in `COMMON` chunks or more (counted from the index, stopping at
    `COMMON`) are left out when rarer ones remain. A question of common words only looks for chunks holding all of
    them, and scores at most `COMMON` of those (the newest). The count is over the whole index, not the user's
    collections: on a server with many collections a word common elsewhere is dropped from a small one too.
    """
    words = query_words(question)
    if not words or not (collection_ids or document_ids) or limit <= 0:
        return []
    cids, dids = list(collection_ids), list(document_ids)
    if c.dialect.name == "sqlite":
        kept = [w for w in words if not _common(c, _SQLITE_COUNT, {"match": f'"{w}"', "cap": COMMON})]
        floor = 0
        match = " OR ".join(f'"{w}"' for w in kept)
        if not kept:  # every word is common: chunks holding all of them, among the newest `CANDIDATES` of those
            match = " ".join(f'"{w}"' for w in words)
            floor = c.execute(_SQLITE_FLOOR, {"match": match, "cap": CANDIDATES}).scalar() or 0
        pool = max(POOL, 4 * limit)
        params = {"match": match, "cids": cids, "dids": dids, "limit": limit, "floor": floor, "pool": pool}
        rows = c.execute(_SQLITE_POOLED, params).all()
        if len(rows) < limit:  # other collections' chunks crowded the pool: these collections' own, all scored
            rows = c.execute(_SQLITE, params).all()
    else:
        c.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")  # planned for these words (storage.search)
        common: dict[str, float] = dict(c.execute(_PG_COMMON, {"words": words, "common": PG_COMMON}).tuples().all())
        kept = [w for w in words if w not in common]
        if kept:
            tsquery = " | ".join(f"'{w}'" for w in kept)
            rows = c.execute(_PG, {"tsquery": tsquery, "cids": cids, "dids": dids, "limit": limit, "cap": None}).all()
        else:  # every word is common: the chunks holding the two rarest, `CANDIDATES` of them scored
            rarest = sorted(words, key=lambda w: common[w])[:2]
            tsquery = " | ".join(f"'{w}'" for w in rarest)
            params = {"tsquery": tsquery, "cids": cids, "dids": dids, "limit": limit, "cap": CANDIDATES}
            rows = c.execute(_PG, params).all()
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
        WHERE knowledge_fts MATCH :match AND rowid > :floor
    ) AS f
    CROSS JOIN knowledge_chunks AS k ON k.id = f.rowid
    JOIN knowledge_documents AS d ON d.id = k.document_id
    WHERE (k.collection_id IN :cids OR k.document_id IN :dids) AND d.status = 'ready'
    ORDER BY f.score DESC, k.id
    LIMIT :limit
    """
).bindparams(bindparam("cids", expanding=True, type_=String()), bindparam("dids", expanding=True, type_=String()))
_SQLITE_POOLED = text(
    f"""
    SELECT {_COLUMNS}, f.score
    FROM (
        SELECT rowid, -bm25(knowledge_fts, {HEADING_WEIGHT}, 1.0) AS score FROM knowledge_fts
        WHERE knowledge_fts MATCH :match AND rowid > :floor
        ORDER BY bm25(knowledge_fts, {HEADING_WEIGHT}, 1.0)
        LIMIT :pool
    ) AS f
    CROSS JOIN knowledge_chunks AS k ON k.id = f.rowid
    JOIN knowledge_documents AS d ON d.id = k.document_id
    WHERE (k.collection_id IN :cids OR k.document_id IN :dids) AND d.status = 'ready'
    ORDER BY f.score DESC, k.id
    LIMIT :limit
    """
).bindparams(bindparam("cids", expanding=True, type_=String()), bindparam("dids", expanding=True, type_=String()))
"""Scored from the index alone, the best `pool` then looked up (reading every match's row would cost more than
scoring it): the answer unless other collections' chunks took the pool's places."""
_SQLITE_COUNT = text(
    "SELECT count(*) FROM (SELECT rowid FROM knowledge_fts WHERE knowledge_fts MATCH :match LIMIT :cap)"
)
_SQLITE_FLOOR = text(
    "SELECT rowid FROM knowledge_fts WHERE knowledge_fts MATCH :match ORDER BY rowid DESC LIMIT 1 OFFSET :cap"
)
_PG = text(
    f"""
    WITH q AS (SELECT to_tsquery('{PG_CONFIG}', :tsquery) AS query),
    candidates AS (
        SELECT k.id FROM q, knowledge_chunks AS k
        WHERE k.search_vector @@ q.query AND (k.collection_id IN :cids OR k.document_id IN :dids)
        LIMIT :cap
    )
    SELECT {_COLUMNS}, ts_rank(k.search_vector, q.query, 1) AS score
    FROM q, candidates AS c
    JOIN knowledge_chunks AS k ON k.id = c.id
    JOIN knowledge_documents AS d ON d.id = k.document_id
    WHERE d.status = 'ready'
    ORDER BY score DESC, k.id
    LIMIT :limit
    """
).bindparams(bindparam("cids", expanding=True, type_=String()), bindparam("dids", expanding=True, type_=String()))
_PG_COMMON = text(
    f"""
    WITH stats AS (
        SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs, c.reltuples AS n
        FROM pg_stats AS s JOIN pg_class AS c ON c.relname = s.tablename
        JOIN pg_namespace AS ns ON ns.oid = c.relnamespace AND ns.nspname = s.schemaname
        WHERE s.schemaname = current_schema() AND s.tablename = 'knowledge_chunks' AND s.attname = 'search_vector'
    )
    SELECT w, chunks FROM (
        SELECT w, stats.freqs[array_position(stats.elems, (tsvector_to_array(to_tsvector('{PG_CONFIG}', w)))[1])]
                  * stats.n AS chunks
        FROM unnest(CAST(:words AS text[])) AS w, stats
    ) AS counted
    WHERE chunks >= :common
    """
)
"""The words of a question found in `PG_COMMON` chunks or more, with their estimated number of chunks, from the
planner's statistics of the column (ANALYZE keeps the most common lexemes of a tsvector column with their
frequencies: no index is read). Without statistics yet (a table never analysed), no word is."""
