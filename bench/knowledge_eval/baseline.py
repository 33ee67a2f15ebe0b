"""The BM25 baseline: chunks in an SQLite FTS5 table in a temporary database, ranked by FTS5's own `bm25()`.

The same engine and tokenizer as chatui's conversation search (`storage.search_index.TOKENIZER`:
`unicode61 remove_diacritics 2`, no stemming), so the figure is what the database's full-text engine gives with no
model. What differs from conversation search is the query: search ANDs the user's words (a person typing in a search
box wants every word), while a question is answered by a passage that holds only some of its words, so the baseline
ORs them and lets BM25's term weights (rare words count, "how"/"do"/"the" barely do) rank the passages.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from bench.knowledge_eval.chunking import Chunk

TOKENIZERS = {
    "unicode61": "unicode61 remove_diacritics 2",  # chatui's conversation search
    "porter": "porter unicode61 remove_diacritics 2",  # the same with English stemming, for comparison
}
_WORD = re.compile(r"\w+")


def or_query(question: str) -> str:
    """FTS5 MATCH text: each distinct word of the question quoted (never query syntax), joined with OR."""
    words = dict.fromkeys(w.lower() for w in _WORD.findall(question))
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


class Fts5Bm25:
    """Index chunks, then rank them for a question. A context manager: the temporary database goes at exit."""

    name = "BM25 (SQLite FTS5, baseline)"

    def __init__(self, *, tokenizer: str = "unicode61", heading_weight: float = 1.0) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="knowledge-eval-")
        self._db = sqlite3.connect(Path(self._dir.name) / "index.sqlite3")
        self._db.execute(f"CREATE VIRTUAL TABLE chunks USING fts5(heading, body, tokenize='{TOKENIZERS[tokenizer]}')")
        self._chunks: list[Chunk] = []
        self._weights = (heading_weight, 1.0)
        if tokenizer != "unicode61":
            self.name = f"BM25 (SQLite FTS5, {tokenizer} tokenizer)"

    def __enter__(self) -> Fts5Bm25:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._db.close()
        self._dir.cleanup()

    def index(self, chunks: Iterable[Chunk]) -> int:
        """Add the chunks (rowid = position in the list kept here); returns how many the index now holds."""
        with self._db:
            for chunk in chunks:
                self._chunks.append(chunk)
                self._db.execute(
                    "INSERT INTO chunks(rowid, heading, body) VALUES (?, ?, ?)",
                    (len(self._chunks), chunk.heading_path, chunk.text),
                )
        return len(self._chunks)

    def search(self, question: str, k: int) -> list[Chunk]:
        """The best `k` chunks for the question, best first (`[]` when it has no word to look for)."""
        match = or_query(question)
        if not match:
            return []
        rows = self._db.execute(
            "SELECT rowid FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks, ?, ?) LIMIT ?",
            (match, *self._weights, k),
        ).fetchall()
        return [self._chunks[rowid - 1] for (rowid,) in rows]
