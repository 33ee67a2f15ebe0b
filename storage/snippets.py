"""A search hit's snippet: the text around its first match, and where the query's words are in it.

Built here from the message text rather than by the database (FTS5's `snippet()`, PostgreSQL's `ts_headline`): the
same on both backends, and cheaper — `ts_headline` parses the whole message again, and FTS5 re-runs a prefix query
for every snippet. Words are runs of letters and digits compared without case or accents, which is how FTS5's
`unicode61 remove_diacritics` tokenizer and PostgreSQL's `simple` configuration split and fold them (PostgreSQL does
not fold accents, so a match found there is always marked here too).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

WORD = re.compile(r"[^\W_]+")
AROUND = 16
"""Words in a snippet."""
BEFORE = 4
"""Words shown before the first match."""
LOOK_BACK = 200
"""Characters searched for the words before the first match."""
ELLIPSIS = "…"


def fold(word: str) -> str:
    """Lower case, without accents: `Café` → `cafe`."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


class Matcher:
    """The words of one query, to find and mark in the texts of its hits."""

    def __init__(self, terms: Iterable[tuple[str, bool]]) -> None:
        """`terms`: (text, is prefix) pairs; a prefix term's last word matches longer words too."""
        words: set[str] = set()
        prefixes: list[str] = []
        for text, prefix in terms:
            folded = [fold(w) for w in WORD.findall(text)]
            if prefix and folded:
                prefixes.append(folded.pop())
            words.update(folded)
        self.words = frozenset(words)
        self.prefixes = tuple(prefixes)
        alternatives = [re.escape(w) for w in sorted(words, key=len, reverse=True)]
        alternatives += [re.escape(p) + r"[^\W_]*" for p in prefixes]
        # A fast first look for the ASCII spelling; accented spellings are found word by word (`_first_slowly`).
        self._pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives or ["(?!)"]) + r")(?![^\W_])", re.I)

    def matches(self, word: str) -> bool:
        folded = fold(word)
        return folded in self.words or folded.startswith(self.prefixes)

    def ranges(self, text: str) -> list[tuple[int, int]]:
        """[start, end) of every matching word of `text`."""
        return [(t.start(), t.end()) for t in WORD.finditer(text) if self.matches(t.group())]

    def snippet(self, text: str) -> tuple[str, list[tuple[int, int]]]:
        """About `AROUND` words of `text` from a little before its first match, on one line, with the ranges."""
        first = self._first(text)
        start = 0
        if first > 0:
            before = list(WORD.finditer(text, max(0, first - LOOK_BACK), first))[-BEFORE:]
            start = before[0].start() if before else first
        window = list(itertools.islice(WORD.finditer(text, start), AROUND + 1))
        end = window[AROUND - 1].end() if len(window) > AROUND else len(text)
        snippet = " ".join(text[start:end].split())
        snippet = (ELLIPSIS if start > 0 else "") + snippet + (ELLIPSIS if end < len(text) else "")
        return snippet, self.ranges(snippet)

    def _first(self, text: str) -> int:
        found = self._pattern.search(text)
        if found is not None or text.isascii():
            return found.start() if found else 0
        return self._first_slowly(text)

    def _first_slowly(self, text: str) -> int:
        return next((t.start() for t in WORD.finditer(text) if self.matches(t.group())), 0)
