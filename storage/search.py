"""Full-text search over one user's messages and conversation titles, indexed in the database itself.

SQLite: two FTS5 external-content tables (`messages_fts` over `messages.content`, `conversations_fts` over
`conversations.title`), ranked with bm25, with prefix indexes for as-you-type queries. PostgreSQL: a stored
`search_vector` column on each table (generated from the text, `simple` configuration: no stemming, no stop words,
like FTS5's unicode61) with a GIN index, ranked with `ts_rank`. Both are built by the search-index migration (the
SQLite triggers are in `storage.search_index`) and kept out of the models: neither has a portable SQLAlchemy form,
so `storage.migrate.include_name` hides them from autogenerate.

A streaming reply is not in the index: its text changes every checkpoint. It enters the index when it ends (its
status leaves `streaming`), which the SQLite triggers and the PostgreSQL generated column both key on.

The query language is the same on both: words are ANDed, `"double quotes"` make a phrase, and the last word is a
prefix unless the query ends with a space or a closing quote (so results follow typing). Everything else — `*`,
`-`, `(`, `NEAR`, `OR`, `:` — is plain text: the user's words are always handed to the engine quoted, never as
query syntax, so no input can make a query fail.

Only the page of hits asked for gets a snippet (`storage.snippets`): plain text plus the code-point ranges of the
matches (`SearchHit.highlights`), never markup.

A word found in most messages would have every one of them scored, and an account's size would set the query's
cost. So scoring is bounded: SQLite scores the 1,000 newest matches (rowid order) from the index alone and keeps the
user's among the best (a phrase: 200 of its matches among the newest 5,000 messages holding its words); PostgreSQL,
which reads each candidate's row, scores the user's 200 newest matches (a phrase: among about the newest 2,000
messages holding its words, see `_pg_phrase_since`). A query with fewer matches scores them all.

What that means for a user: a query always finds its newest matches, best first among them, and every match when
there are fewer than those bounds. A word in thousands of messages ranks its best recent uses, not an old message
that would score higher. A phrase of words that are often together but rarely in that order (on an account of
100,000 messages: words together in 18,000, the phrase in 150) finds only its matches among the recent messages
holding the words (there, on PostgreSQL: 16), never a wrong one; an older match is found by adding a word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Executable, Row, bindparam, text

from storage.database import Repository, statements
from storage.models import UTCDateTime
from storage.organize import archived_among
from storage.snippets import WORD, Matcher

MAX_TERMS = 16
RANKED_CANDIDATES = 1_000
"""The newest matches that are scored (see the module docstring)."""
POOL = 200
"""SQLite: the best-scored matches looked up in `messages` to keep the user's own."""
PHRASE_WINDOW = 5_000
PHRASE_CANDIDATES = 200
"""SQLite: a phrase is looked for among the newest 5,000 messages holding all its words, and 200 matches scored."""
PG_RANKED_CANDIDATES = 200
"""PostgreSQL reads every candidate's row (SQLite scores from its index alone), so it scores fewer."""
PG_PHRASE_CHECKS = 2_000
"""PostgreSQL checks a phrase's word order by reading each row's vector: in about 2,000 of the newest messages
holding its words."""
PG_PHRASE_SAMPLE = 2_000
"""PostgreSQL: the newest messages in which a phrase's words are counted, to size the window of `PG_PHRASE_CHECKS`."""
PG_CONFIG = "simple"
PG_INDEXED_CHARS = 100_000
"""PostgreSQL indexes a message's first 100,000 characters (a tsvector holds at most 1 MB)."""

_TERM = re.compile(r'"([^"]*)"?|(\S+)')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """One word or quoted phrase of a query; `prefix` for the last one while it is still being typed."""

    text: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A message (or, with `message_id` None, a conversation's title) that matches."""

    conversation_id: str
    conversation_title: str | None
    message_id: str | None
    role: str | None
    snippet: str
    highlights: list[tuple[int, int]]
    created_at: datetime
    score: float
    archived: bool = False
    """The conversation is archived: search finds it, marked, though the list no longer shows it."""


def parse_query(query: str) -> list[SearchTerm]:
    """Words and quoted phrases, in order; terms without a letter or digit are dropped (they match nothing)."""
    query = _CONTROL.sub(" ", query)  # a NUL ends FTS5's string early, and PostgreSQL refuses it
    terms: list[SearchTerm] = []
    for match in _TERM.finditer(query):
        phrase, word = match.groups()
        term = phrase if word is None else word
        if any(ch.isalnum() for ch in term):
            terms.append(SearchTerm(term.strip()))
    still_typing = not query[-1:].isspace() and not (query.endswith('"') and query.count('"') % 2 == 0)
    if terms and still_typing and len(terms) <= MAX_TERMS:
        terms[-1] = SearchTerm(terms[-1].text, prefix=True)
    return terms[:MAX_TERMS]


def fts5_query(terms: list[SearchTerm]) -> str:
    """FTS5 MATCH text: each term a quoted string (so it is only ever text), implicit AND, `*` for a prefix."""
    return " ".join('"' + t.text.replace('"', '""') + '"' + ("*" if t.prefix else "") for t in terms)


def tsquery_text(terms: list[SearchTerm]) -> str:
    """`to_tsquery` text: each word quoted, a phrase's words joined with `<->`, terms with `&`, `:*` for a prefix.

    Words are runs of letters and digits only, so no quote or operator of the user's ever reaches the parser.
    """
    parts = []
    for term in terms:
        words = [w.lower() for w in WORD.findall(term.text)]
        if not words:
            continue
        quoted = [f"'{w}'" for w in words]
        if term.prefix:
            quoted[-1] += ":*"
        parts.append(" <-> ".join(quoted) if len(quoted) > 1 else quoted[0])
        if len(quoted) > 1:
            parts[-1] = f"({parts[-1]})"
    return " & ".join(parts)


class SearchRepository(Repository):
    """Ranked matches among one user's messages and titles, best first."""

    @statements
    def search(self, c: Connection, user_id: str, query: str, *, limit: int, offset: int = 0) -> list[SearchHit]:
        """Up to `limit` hits after the first `offset`; `[]` for a query with nothing to look for."""
        terms = parse_query(query)
        if not terms:
            return []
        wanted = offset + limit
        if c.dialect.name == "sqlite":
            match = fts5_query(terms)
            base, candidates = _phrase_window(c, terms)
            rows = _sqlite_messages(c, user_id, match, wanted, base, candidates)
            rows += _sqlite_titles(c, user_id, match, wanted)
        else:
            tsquery = tsquery_text(terms)
            if not tsquery:
                return []
            c.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")  # plan for these words (see below)
            rows = _pg_messages(c, user_id, terms, tsquery, wanted) + _pg_ranked(
                c, _PG_TITLES, user_id, tsquery, wanted
            )
        rows.sort(key=lambda r: (-r.score, -r.created_at.timestamp(), r.message_id or ""))
        page = rows[offset:wanted]
        texts = _texts(c, [r.message_id for r in page if r.message_id is not None])
        matcher = Matcher((t.text, t.prefix) for t in terms)
        archived = archived_among(c, list({r.conversation_id for r in page}))
        hits = []
        for row in page:
            if row.message_id is None:
                snippet, highlights = row.title or "", matcher.ranges(row.title or "")
            else:
                snippet, highlights = matcher.snippet(texts.get(row.message_id, ""))
            hits.append(
                SearchHit(
                    conversation_id=row.conversation_id,
                    conversation_title=row.title,
                    message_id=row.message_id,
                    role=row.role,
                    snippet=snippet,
                    highlights=highlights,
                    created_at=row.created_at,
                    score=float(row.score),
                    archived=row.conversation_id in archived,
                )
            )
        return hits


_TEXTS = text(f"SELECT id, substr(content, 1, {PG_INDEXED_CHARS}) FROM messages WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


def _texts(c: Connection, message_ids: list[str]) -> dict[str, str]:
    """The text of the page's messages (the first 100,000 characters: where a match can be shown)."""
    return dict(c.execute(_TEXTS, {"ids": message_ids}).tuples().all()) if message_ids else {}


# -- SQLite (FTS5) ----------------------------------------------------------------------------------------------------
# Every query answers rows of (message_id, conversation_id, role, created_at, title, score), higher scores better.

_SQLITE_FLOOR_ANY = text(
    "SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match AND rowid > :base "
    "ORDER BY rowid DESC LIMIT 1 OFFSET :candidates"
)
_SQLITE_FLOOR_OWN = text(
    """
    SELECT f.rowid FROM messages_fts AS f
    JOIN messages AS m ON m.rowid = f.rowid
    JOIN conversations AS c ON c.id = m.conversation_id
    WHERE messages_fts MATCH :match AND c.user_id = :uid
    ORDER BY f.rowid DESC
    LIMIT 1 OFFSET :candidates
    """
)
_SQLITE_COLUMNS = "SELECT m.id AS message_id, m.conversation_id, m.role, m.created_at, c.title, f.score AS score"
_SQLITE_POOLED = text(
    _SQLITE_COLUMNS
    + """
    FROM (
        SELECT rowid, -bm25(messages_fts) AS score FROM messages_fts
        WHERE messages_fts MATCH :match AND rowid > :floor
        ORDER BY bm25(messages_fts) LIMIT :pool
    ) AS f
    JOIN messages AS m ON m.rowid = f.rowid
    JOIN conversations AS c ON c.id = m.conversation_id
    WHERE c.user_id = :uid
    ORDER BY f.score DESC, m.created_at DESC
    LIMIT :wanted
    """
).columns(created_at=UTCDateTime)
_SQLITE_OWN = text(
    _SQLITE_COLUMNS
    + """
    FROM (SELECT rowid, -bm25(messages_fts) AS score FROM messages_fts WHERE messages_fts MATCH :match) AS f
    JOIN messages AS m ON m.rowid = f.rowid
    JOIN conversations AS c ON c.id = m.conversation_id
    WHERE c.user_id = :uid AND f.rowid > :floor
    ORDER BY f.score DESC, m.created_at DESC
    LIMIT :wanted
    """
).columns(created_at=UTCDateTime)
_SQLITE_COUNT = text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH :match AND rowid > :floor")
_SQLITE_TITLES = text(
    """
    SELECT NULL AS message_id, c.id AS conversation_id, NULL AS role, c.created_at, c.title,
           -bm25(conversations_fts) AS score
    FROM conversations_fts AS f
    JOIN conversations AS c ON c.rowid = f.rowid
    WHERE conversations_fts MATCH :match AND c.user_id = :uid
    ORDER BY bm25(conversations_fts)
    LIMIT :wanted
    """
).columns(created_at=UTCDateTime)


def _phrase_window(c: Connection, terms: list[SearchTerm]) -> tuple[int, int]:
    """The rowid above which matches are looked for, and how many of the newest are scored.

    A phrase costs more: FTS5 checks its words' positions in every message that holds all of them (two common words
    share most messages), and reads them again to score it. So a phrase is looked for among the newest
    `PHRASE_WINDOW` messages that hold all its words, and `PHRASE_CANDIDATES` of its matches are scored.
    """
    if not any(len(WORD.findall(t.text)) > 1 for t in terms):
        return 0, RANKED_CANDIDATES
    words = [SearchTerm(w, t.prefix and w == WORD.findall(t.text)[-1]) for t in terms for w in WORD.findall(t.text)]
    params = {"match": fts5_query(words), "base": 0, "candidates": PHRASE_WINDOW}
    return int(c.execute(_SQLITE_FLOOR_ANY, params).scalar() or 0), PHRASE_CANDIDATES


def _sqlite_messages(
    c: Connection, user_id: str, match: str, wanted: int, base: int, candidates: int
) -> list[Row[Any]]:
    """Scored from the index alone first (bm25 without touching `messages` is cheap), then the best `pool` are
    looked up to keep the user's own. Only when other users' messages crowd this user's out of that pool are the
    user's own newest matches scored instead (slower: each one is looked up)."""
    pool = max(POOL, 4 * wanted)
    params = {"match": match, "base": base, "candidates": candidates}
    floor = c.execute(_SQLITE_FLOOR_ANY, params).scalar_one_or_none()
    params = {"match": match, "uid": user_id, "floor": floor or base, "pool": pool, "wanted": wanted}
    rows = list(c.execute(_SQLITE_POOLED, params).all())
    if len(rows) < wanted and (floor is not None or c.execute(_SQLITE_COUNT, params).scalar_one() > pool):
        params["floor"] = c.execute(_SQLITE_FLOOR_OWN, {**params, "candidates": RANKED_CANDIDATES}).scalar() or 0
        rows = list(c.execute(_SQLITE_OWN, params).all())
    return rows


def _sqlite_titles(c: Connection, user_id: str, match: str, wanted: int) -> list[Row[Any]]:
    return list(c.execute(_SQLITE_TITLES, {"match": match, "uid": user_id, "wanted": wanted}).all())


# -- PostgreSQL (tsvector + GIN) --------------------------------------------------------------------------------------

_PG_MESSAGES_SQL = f"""
    SELECT id AS message_id, conversation_id, role, created_at, title,
           ts_rank(search_vector, to_tsquery('{PG_CONFIG}', :tsquery)) AS score
    FROM (
        SELECT m.id, m.conversation_id, m.role, m.created_at, m.search_vector, c.title
        FROM messages AS m
        JOIN conversations AS c ON c.id = m.conversation_id
        WHERE m.search_vector @@ to_tsquery('{PG_CONFIG}', :tsquery) AND c.user_id = :uid {{window}}
        ORDER BY m.created_at DESC
        LIMIT :candidates
    ) AS candidates
    ORDER BY score DESC, created_at DESC
    LIMIT :wanted
    """
_PG_MESSAGES = text(_PG_MESSAGES_SQL.format(window="")).columns(created_at=UTCDateTime)
_PG_PHRASE_MESSAGES = text(_PG_MESSAGES_SQL.format(window="AND m.created_at >= :since")).columns(created_at=UTCDateTime)
"""The query is written out (not taken from a CTE) and planned for each search (`force_custom_plan`: psycopg
prepares a statement run often, and PostgreSQL would then reuse one plan for every word), so that the planner sees
the words and their frequencies: a common word is read newest first along `ix_messages_created` until enough match,
a rare one through the GIN index. For a phrase, `:since` bounds the messages looked at (see `_pg_phrase_since`),
and the statement runs with bitmap scans only (`_BITMAPS_ONLY`)."""
_PG_SAMPLE = text(
    "SELECT max(created_at), min(created_at) FROM "
    "(SELECT created_at FROM messages ORDER BY created_at DESC LIMIT :n) AS newest"
)
_PG_COUNT_SINCE = text(
    f"""
    SELECT count(*) FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id
    WHERE m.search_vector @@ to_tsquery('{PG_CONFIG}', :words) AND c.user_id = :uid AND m.created_at >= :since
    """
)
_BITMAPS_ONLY = ("SET LOCAL enable_indexscan = off", "SET LOCAL enable_seqscan = off")
_PLANS_ANY = ("SET LOCAL enable_indexscan = on", "SET LOCAL enable_seqscan = on")
"""A phrase is looked up through the GIN index (which finds the messages holding its words, exactly and without
reading them) and, among those, through `ix_messages_created` (the window): both as bitmaps, ANDed. Only then is
each remaining row read to check the words' order. The planner would rather walk `ix_messages_created` and check
every message of the window, as it does not count the cost of reading a message's stored vector (TOASTed: ~6 µs
each), so the other plans are turned off for these statements."""
_PG_TITLES = text(
    f"""
    WITH q AS (SELECT to_tsquery('{PG_CONFIG}', :tsquery) AS query)
    SELECT NULL AS message_id, c.id AS conversation_id, NULL AS role, c.created_at, c.title,
           ts_rank(c.search_vector, q.query) AS score
    FROM q, conversations AS c
    WHERE c.search_vector @@ q.query AND c.user_id = :uid
    ORDER BY score DESC
    LIMIT :wanted
    """
).columns(created_at=UTCDateTime)


def _pg_messages(c: Connection, user_id: str, terms: list[SearchTerm], tsquery: str, wanted: int) -> list[Row[Any]]:
    candidates = max(PG_RANKED_CANDIDATES, wanted)
    params: dict[str, Any] = {"tsquery": tsquery, "uid": user_id, "wanted": wanted, "candidates": candidates}
    if not any(len(WORD.findall(t.text)) > 1 for t in terms):
        return list(c.execute(_PG_MESSAGES, params).all())
    words = tsquery_text([SearchTerm(w, t.prefix) for t in terms for w in WORD.findall(t.text)])
    params["since"] = _pg_phrase_since(c, user_id, words)
    with _bitmaps_only(c):
        return list(c.execute(_PG_PHRASE_MESSAGES, params).all())


@contextmanager
def _bitmaps_only(c: Connection) -> Iterator[None]:
    for statement in _BITMAPS_ONLY:
        c.exec_driver_sql(statement)
    try:
        yield
    finally:
        for statement in _PLANS_ANY:
            c.exec_driver_sql(statement)


_FOREVER = datetime.min.replace(tzinfo=UTC)


def _pg_phrase_since(c: Connection, user_id: str, words: str) -> datetime:
    """The time after which a phrase is looked for: a window that should hold about `PG_PHRASE_CHECKS` of the
    user's messages holding all the phrase's words (each of them is read to check the order).

    How often the words are found together is counted among the newest `PG_PHRASE_SAMPLE` messages (from the GIN
    index and `ix_messages_created` alone: cheap), and the window is that sample's time span stretched to hold
    `PG_PHRASE_CHECKS` of them, as if messages came at a steady pace (an estimate: walking the index to the exact
    n-th newest message would cost more than the search). Words rarely found together give every message.
    """
    newest: datetime | None
    oldest: datetime
    newest, oldest = c.execute(_PG_SAMPLE, {"n": PG_PHRASE_SAMPLE}).one()
    if newest is None:
        return _FOREVER
    with _bitmaps_only(c):
        holding = c.execute(_PG_COUNT_SINCE, {"words": words, "uid": user_id, "since": oldest}).scalar_one()
    if holding == 0:
        return _FOREVER
    stretch = PG_PHRASE_CHECKS / holding
    try:
        return newest - (newest - oldest) * stretch if stretch > 1 else oldest
    except OverflowError:  # before the year 1
        return _FOREVER


def _pg_ranked(c: Connection, statement: Executable, user_id: str, tsquery: str, wanted: int) -> list[Row[Any]]:
    params = {"tsquery": tsquery, "uid": user_id, "wanted": wanted, "candidates": max(PG_RANKED_CANDIDATES, wanted)}
    return list(c.execute(statement, params).all())
