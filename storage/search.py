"""Full-text search over one user's messages and conversation titles, indexed in the database itself.

SQLite: two FTS5 external-content tables (`messages_fts` over `messages.content`, `conversations_fts` over
`conversations.title`), ranked with bm25, with prefix indexes for as-you-type queries. PostgreSQL: a stored
`search_vector` column on each table (generated from the text, `simple` configuration: no stemming, no stop words,
like FTS5's unicode61) with a GIN index, ranked with `ts_rank`. Both are built by migration 0003 (see there for the
triggers) and kept out of the models: neither has a portable SQLAlchemy form, so `storage.migrate.include_name`
hides them from autogenerate.

A streaming reply is not in the index: its text changes every checkpoint. It enters the index when it ends (its
status leaves `streaming`), which the SQLite triggers and the PostgreSQL generated column both key on.

The query language is the same on both: words are ANDed, `"double quotes"` make a phrase, and the last word is a
prefix unless the query ends with a space or a closing quote (so results follow typing). Everything else — `*`,
`-`, `(`, `NEAR`, `OR`, `:` — is plain text: the user's words are always handed to the engine quoted, never as
query syntax, so no input can make a query fail.

Snippets come back as plain text plus the code-point ranges of the matches (`SearchHit.highlights`): the engine
marks matches with two private-use characters, which are turned into offsets here and never reach a client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, text

from storage.database import Repository, statements
from storage.models import UTCDateTime

MAX_TERMS = 16
SNIPPET_TOKENS = 16
RANKED_CANDIDATES = 1_000
"""A word in most messages would have every one of them scored: the ranking is among the user's 1,000 most
recently written matches (rowid order on SQLite, `created_at` on PostgreSQL); a rarer query ranks all of them."""
START, STOP = "\ue000", "\ue001"
"""Match markers asked of the engine; stripped from the snippet (any in the message text itself are dropped)."""
PG_CONFIG = "simple"
PG_INDEXED_CHARS = 100_000
"""PostgreSQL indexes a message's first 100,000 characters (a tsvector holds at most 1 MB)."""

_TERM = re.compile(r'"([^"]*)"?|(\S+)')
_PG_WORD = re.compile(r"[^\W_]+")
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
        words = [w.lower() for w in _PG_WORD.findall(term.text)]
        if not words:
            continue
        quoted = [f"'{w}'" for w in words]
        if term.prefix:
            quoted[-1] += ":*"
        parts.append(" <-> ".join(quoted) if len(quoted) > 1 else quoted[0])
        if len(quoted) > 1:
            parts[-1] = f"({parts[-1]})"
    return " & ".join(parts)


def split_marks(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """The snippet without markers, and the [start, end) code-point ranges they enclosed."""
    plain: list[str] = []
    highlights: list[tuple[int, int]] = []
    length, start = 0, None
    for part in re.split(f"([{START}{STOP}])", marked):
        if part == START:
            start = length
        elif part == STOP:
            if start is not None and length > start:
                highlights.append((start, length))
            start = None
        elif part:
            plain.append(part)
            length += len(part)
    return "".join(plain), highlights


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
            hits = _sqlite_messages(c, user_id, match, wanted) + _sqlite_titles(c, user_id, match, wanted)
        else:
            tsquery = tsquery_text(terms)
            if not tsquery:
                return []
            hits = _pg_messages(c, user_id, tsquery, wanted) + _pg_titles(c, user_id, tsquery, wanted)
        hits.sort(key=lambda h: (-h.score, -h.created_at.timestamp(), h.message_id or ""))
        return hits[offset:wanted]


def _hit(row: object, snippet: str, *, message: bool) -> SearchHit:
    plain, highlights = split_marks(snippet)
    return SearchHit(
        conversation_id=row.conversation_id,  # type: ignore[attr-defined]
        conversation_title=row.title,  # type: ignore[attr-defined]
        message_id=row.message_id if message else None,  # type: ignore[attr-defined]
        role=row.role if message else None,  # type: ignore[attr-defined]
        snippet=plain,
        highlights=highlights,
        created_at=row.created_at,  # type: ignore[attr-defined]
        score=float(row.score),  # type: ignore[attr-defined]
    )


# -- SQLite (FTS5) ----------------------------------------------------------------------------------------------------
# Ranked first, snippets after: the snippet of every match would otherwise be built before the sort picks a page.

_SQLITE_FLOOR = text(
    """
    SELECT f.rowid FROM messages_fts AS f
    JOIN messages AS m ON m.rowid = f.rowid
    JOIN conversations AS c ON c.id = m.conversation_id
    WHERE messages_fts MATCH :match AND c.user_id = :uid
    ORDER BY f.rowid DESC
    LIMIT 1 OFFSET :candidates
    """
)
_SQLITE_MESSAGES = text(
    """
    SELECT f.rowid AS fts_rowid, m.id AS message_id, m.conversation_id, m.role, m.created_at, c.title,
           -bm25(messages_fts) AS score
    FROM messages_fts AS f
    JOIN messages AS m ON m.rowid = f.rowid
    JOIN conversations AS c ON c.id = m.conversation_id
    WHERE messages_fts MATCH :match AND c.user_id = :uid AND f.rowid > :floor
    ORDER BY bm25(messages_fts), m.created_at DESC
    LIMIT :wanted
    """
).columns(created_at=UTCDateTime)
_SQLITE_MESSAGE_SNIPPETS = text(
    f"""
    SELECT rowid, snippet(messages_fts, 0, '{START}', '{STOP}', '…', {SNIPPET_TOKENS})
    FROM messages_fts WHERE messages_fts MATCH :match AND rowid IN :rowids
    """
).bindparams(bindparam("rowids", expanding=True))
_SQLITE_TITLES = text(
    f"""
    SELECT c.id AS conversation_id, c.title, c.created_at, -bm25(conversations_fts) AS score,
           highlight(conversations_fts, 0, '{START}', '{STOP}') AS marked
    FROM conversations_fts AS f
    JOIN conversations AS c ON c.rowid = f.rowid
    WHERE conversations_fts MATCH :match AND c.user_id = :uid
    ORDER BY bm25(conversations_fts)
    LIMIT :wanted
    """
).columns(created_at=UTCDateTime)


def _sqlite_messages(c: Connection, user_id: str, match: str, wanted: int) -> list[SearchHit]:
    params = {"match": match, "uid": user_id, "candidates": RANKED_CANDIDATES}
    floor = c.execute(_SQLITE_FLOOR, params).scalar_one_or_none()  # walking the index newest first is cheap
    rows = c.execute(_SQLITE_MESSAGES, {**params, "floor": floor or 0, "wanted": wanted}).all()
    if not rows:
        return []
    snippets = dict(
        c.execute(_SQLITE_MESSAGE_SNIPPETS, {"match": match, "rowids": [r.fts_rowid for r in rows]}).tuples().all()
    )
    return [_hit(r, snippets.get(r.fts_rowid, ""), message=True) for r in rows]


def _sqlite_titles(c: Connection, user_id: str, match: str, wanted: int) -> list[SearchHit]:
    rows = c.execute(_SQLITE_TITLES, {"match": match, "uid": user_id, "wanted": wanted}).all()
    return [_hit(r, r.marked, message=False) for r in rows]


# -- PostgreSQL (tsvector + GIN) --------------------------------------------------------------------------------------

_HEADLINE = f'StartSel={START}, StopSel={STOP}, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "'
_PG_MESSAGES = text(
    f"""
    WITH q AS (SELECT to_tsquery('{PG_CONFIG}', :tsquery) AS query),
    candidates AS (
        SELECT m.id, m.conversation_id, m.role, m.created_at, m.search_vector, c.title
        FROM q, messages AS m
        JOIN conversations AS c ON c.id = m.conversation_id
        WHERE m.search_vector @@ q.query AND c.user_id = :uid
        ORDER BY m.created_at DESC
        LIMIT :candidates
    ),
    ranked AS (
        SELECT id, conversation_id, role, created_at, title, ts_rank(search_vector, q.query) AS score
        FROM candidates, q
        ORDER BY score DESC, created_at DESC
        LIMIT :wanted
    )
    SELECT r.id AS message_id, r.conversation_id, r.role, r.created_at, r.title, r.score,
           ts_headline('{PG_CONFIG}', left(m.content, {PG_INDEXED_CHARS}), q.query, :headline) AS marked
    FROM ranked AS r JOIN messages AS m ON m.id = r.id, q
    ORDER BY r.score DESC, r.created_at DESC
    """
).columns(created_at=UTCDateTime)
_PG_TITLES = text(
    f"""
    WITH q AS (SELECT to_tsquery('{PG_CONFIG}', :tsquery) AS query)
    SELECT c.id AS conversation_id, c.title, c.created_at, ts_rank(c.search_vector, q.query) AS score,
           ts_headline('{PG_CONFIG}', c.title, q.query, :headline) AS marked
    FROM q, conversations AS c
    WHERE c.search_vector @@ q.query AND c.user_id = :uid
    ORDER BY score DESC
    LIMIT :wanted
    """
).columns(created_at=UTCDateTime)


def _pg_messages(c: Connection, user_id: str, tsquery: str, wanted: int) -> list[SearchHit]:
    params = {
        "tsquery": tsquery,
        "uid": user_id,
        "wanted": wanted,
        "candidates": RANKED_CANDIDATES,
        "headline": _HEADLINE,
    }
    return [_hit(r, r.marked, message=True) for r in c.execute(_PG_MESSAGES, params)]


def _pg_titles(c: Connection, user_id: str, tsquery: str, wanted: int) -> list[SearchHit]:
    params = {"tsquery": tsquery, "uid": user_id, "wanted": wanted, "headline": _HEADLINE + ", HighlightAll=true"}
    return [_hit(r, r.marked, message=False) for r in c.execute(_PG_TITLES, params)]
