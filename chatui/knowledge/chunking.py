"""Blocks to passages: along headings and pages first, then paragraphs, with a small overlap.

A chunk holds whole paragraphs up to `TARGET_CHARS` (about 250 tokens: enough to answer from, small enough that
eight fit a prompt). A chunk never spans two sections (heading paths) or two pages, so its citation names one place.
A paragraph longer than a chunk is cut at sentence or line ends (at `TARGET_CHARS` at worst). Within a section, each
chunk after the first starts with the last `OVERLAP_CHARS` of the one before (cut at a word), so a sentence that
straddles a cut is whole in one of them; `NewChunk.overlap` says how many characters are repeated, so the document
can be shown again without them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from chatui.knowledge.extract import Block
from storage.knowledge import NewChunk

TARGET_CHARS = 1_000
OVERLAP_CHARS = 150
HEADING_SEPARATOR = " › "

_CUTS = re.compile(r"(?<=[.!?])\s+|\n")


def chunks(blocks: list[Block]) -> list[NewChunk]:
    out: list[NewChunk] = []
    parts: list[str] = []
    size = 0
    place: tuple[tuple[str, ...], int | None] | None = None
    carried = ""

    def close() -> None:
        nonlocal parts, size, carried
        if parts:
            body = "\n\n".join(parts)
            text = (carried + " " + body) if carried else body
            out.append(NewChunk(text, _heading(place), place[1] if place else None, len(carried) + 1 if carried else 0))
            carried = _tail(body)
        parts, size = [], 0

    for block in blocks:
        where = (block.headings, block.page)
        if where != place:
            close()
            place, carried = where, ""
        for piece in _pieces(block.text):
            if parts and size + len(piece) + 2 > TARGET_CHARS:
                close()
            parts.append(piece)
            size += len(piece) + 2
    close()
    return out


def _heading(place: tuple[tuple[str, ...], int | None] | None) -> str | None:
    return HEADING_SEPARATOR.join(place[0]) if place and place[0] else None


def _tail(text: str) -> str:
    """The last `OVERLAP_CHARS` of a chunk, starting at a word."""
    if len(text) <= OVERLAP_CHARS:
        return text
    tail = text[-OVERLAP_CHARS:]
    space = tail.find(" ")
    return tail[space + 1 :] if 0 <= space < len(tail) - 1 else tail


def _pieces(text: str) -> Iterator[str]:
    """A paragraph as it is, or cut at sentence and line ends into pieces of at most `TARGET_CHARS`."""
    if len(text) <= TARGET_CHARS:
        yield text
        return
    piece = ""
    position = 0
    for match in [*_CUTS.finditer(text), None]:
        end = match.start() if match else len(text)
        sentence = text[position:end]
        position = match.end() if match else len(text)
        while len(sentence) > TARGET_CHARS:  # no sentence end for a whole chunk: cut it where it must be
            if piece:
                yield piece
                piece = ""
            yield sentence[:TARGET_CHARS]
            sentence = sentence[TARGET_CHARS:]
        if piece and len(piece) + len(sentence) + 1 > TARGET_CHARS:
            yield piece
            piece = ""
        piece = f"{piece} {sentence}" if piece else sentence
    if piece.strip():
        yield piece
