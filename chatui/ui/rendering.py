"""Markdown to safe HTML, block by block, so a streaming reply costs the same per update at any length.

Safety: markdown-it with `html=False` escapes every tag a user or model writes; links keep only http(s), mailto
and relative targets (so `javascript:` and `data:` are dropped); images are shown as links and never fetched.
Fenced code is highlighted by Pygments into class-only spans (`chatui.ui.highlight`), its language escaped.

Speed: a reply is cut into *blocks* at blank lines outside code fences, once a block holds 500 characters (and, for
pathological blocks, after about 4,000 characters or 200 lines, inside a line if need be). A block whose inline syntax
would cost markdown-it too much (thousands of unclosed brackets, emphasis runs) is shown as escaped plain text instead,
so no input stalls the server. A finished block never changes, so it is rendered once and cached; only the growing
last block is rendered again on each update. The cutting depends only on the text, so a reloaded reply shows exactly
the blocks that streamed. A whole stored message's HTML is cached too (`render_message`), by a hash of its text and
bounded in bytes, so opening a conversation again renders nothing.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

from chatui.ui.highlight import LIVE_HIGHLIGHT_CHARS, code_block
from chatui.ui.markdown_extras import add_extras

MAX_BLOCK_CHARS = 4000
# Each markdown-it render costs ~0.25 ms however short its text: a message of 2,000 one-line paragraphs took 0.5 s
# when each was a block. Short paragraphs are therefore kept together until a block holds this much.
MIN_BLOCK_CHARS = 500
# markdown-it checks every line of a paragraph against each block rule (~20 µs a line): 4,000 one-character lines made
# a 45 ms block. Outside code, a block also ends after this many lines.
MAX_BLOCK_LINES = 200
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_SAFE_SCHEMES = {"http", "https", "mailto"}
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _validate_link(url: str) -> bool:
    """Relative links and http(s)/mailto only; browsers ignore control characters and spaces inside a scheme."""
    scheme = _SCHEME.match(re.sub(r"[\x00-\x20]", "", url))
    return scheme is None or scheme.group(1).lower() in _SAFE_SCHEMES


def _render_image(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """An image becomes a plain link to it: nothing is loaded unless the reader clicks."""
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = renderer.renderInlineAsText(token.children or [], options, env) or "image"
    return (
        f'<a href="{escapeHtml(str(src))}" rel="noopener noreferrer nofollow" target="_blank">'
        f"[image: {escapeHtml(alt)}]</a>"
    )


def _render_link_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    tokens[idx].attrSet("target", "_blank")
    return str(renderer.renderToken(tokens, idx, options, env))


def _render_fence(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    live = bool(env and env.get("live"))
    colour = not live or len(token.content) <= LIVE_HIGHLIGHT_CHARS
    return code_block(token.content, token.info, colour=colour, diagram=not live)


def _render_code_block(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return code_block(tokens[idx].content, "")


def _render_table_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """A table scrolls sideways inside its own wrapper (focusable, so the keyboard can scroll it too)."""
    return '<div class="chatui-table" tabindex="0" role="region" aria-label="Table">' + str(
        renderer.renderToken(tokens, idx, options, env)
    )


def _render_table_close(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return str(renderer.renderToken(tokens, idx, options, env)) + "</div>\n"


class _SafeLinks(MarkdownIt):
    """markdown-it-py asks `validateLink` of every link and image address; overridden, it is the link policy."""

    def validateLink(self, url: str) -> bool:
        return _validate_link(url)


def _make_parser() -> MarkdownIt:
    md = _SafeLinks("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _render_image)
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_code_block)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    add_extras(md)
    return md


_MD = _make_parser()

# markdown-it's inline parsing is quadratic, or linear with a large constant, on some inputs: every unclosed `[` or
# `![` scans to the end of the block for its `]`, every `*`/`_` run becomes delimiters to balance. A 32,000-character
# `![![![...` took 0.8-2.9 s per render (issue 11). A block whose weighted count of such characters passes the limit
# is not given to markdown-it: its text is shown as written, escaped, its lines kept (a few string operations in C,
# whatever the input). Ordinary prose stays well below the limit (a 1,000-character paragraph with a few links,
# bold words and code spans weighs ~100).
_INLINE_WEIGHTS = str.maketrans({c: "\x01" for c in "[]<("} | {c: "\x02" for c in "*_~`&!\\|"})
MAX_INLINE_COST = 1024


def _inline_cost(source: str) -> int:
    """A cheap (one pass in C) upper estimate of the inline work a block asks of markdown-it."""
    weighted = source.translate(_INLINE_WEIGHTS)
    return 8 * weighted.count("\x01") + weighted.count("\x02")


def _outside_fences(source: str) -> str:
    """The block's text outside fenced code: markdown-it takes a fence's content literally (no inline parsing), so
    only the rest counts toward the inline cost; a long code block full of brackets is still a code block."""
    if "```" not in source and "~~~" not in source:
        return source
    kept: list[str] = []
    fence: str | None = None
    for line in source.splitlines(keepends=True):  # a block is at most ~4,000 characters and 200 lines
        if fence is None:
            opened = _FENCE_OPEN.match(line)
            if opened and not (opened.group(1)[0] == "`" and "`" in line[opened.end() :]):
                fence = opened.group(1)  # (a backtick fence's info string may not hold a backtick: not a fence)
            else:
                kept.append(line)
        elif _closes_fence(line, fence):
            fence = None
    return "".join(kept)


def _render(source: str, env: dict[str, Any] | None = None) -> str:
    if _inline_cost(_outside_fences(source)) > MAX_INLINE_COST:
        return _as_text(source)
    return _MD.render(source, env)


def _as_text(source: str) -> str:
    """A block shown as the plain text it is: every character escaped, line breaks kept, nothing a link."""
    return '<p class="chatui-plain">' + escapeHtml(source.strip()).replace("\n", "<br>\n") + "</p>\n"


@lru_cache(maxsize=4096)
def render_block(source: str) -> str:
    """HTML for one block of Markdown (cached: finished blocks repeat across updates, tabs and reloads)."""
    return _render(source)


def render_uncached(source: str) -> str:
    """HTML for the growing last block, which would only pollute the cache (a long code block in it is shown
    without colours until it is finished: see `chatui.ui.highlight.LIVE_HIGHLIGHT_CHARS`)."""
    return _render(source, {"live": True})


class BlockSplitter:
    """Cuts Markdown into blocks as text arrives: `feed()` returns the blocks it completed, `tail` is the rest."""

    def __init__(self, max_block_chars: int = MAX_BLOCK_CHARS, min_block_chars: int = MIN_BLOCK_CHARS) -> None:
        self.max_block_chars = max_block_chars
        self.min_block_chars = min_block_chars
        self._lines: list[str] = []
        self._size = 0
        self._partial = ""
        self._fence: str | None = None
        self._fence_opener = ""

    @property
    def tail(self) -> str:
        """The unfinished last block (what `close()` would return), to render after every update."""
        return "".join(self._lines) + self._partial

    def feed(self, text: str) -> list[str]:
        done: list[str] = []
        data = self._partial + text
        start = 0
        while True:
            end = data.find("\n", start)
            if end < 0:
                break
            self._pieces(data[start : end + 1], done)
            start = end + 1
        rest = data[start:]
        while self._fence is None and len(rest) > self.max_block_chars:  # cut where the whole line will be cut
            self._line(rest[: self.max_block_chars], done)
            rest = rest[self.max_block_chars :]
        self._partial = rest
        return done

    def close(self) -> str | None:
        """End of text: the last block, or None if nothing is left."""
        rest = self.tail
        self._lines, self._size, self._partial = [], 0, ""
        return rest if rest.strip() else None

    def _emit(self, done: list[str]) -> None:
        block = "".join(self._lines)
        self._lines, self._size = [], 0
        if block.strip():
            done.append(block)

    def _append(self, line: str) -> None:
        self._lines.append(line)
        self._size += len(line)

    def _pieces(self, line: str, done: list[str]) -> None:
        """Outside code, a line longer than a block is cut every `max_block_chars` characters: no block grows past
        about twice that, however the text is laid out (a 32,000-character line is otherwise one block)."""
        while self._fence is None and len(line) > self.max_block_chars:
            self._line(line[: self.max_block_chars], done)
            line = line[self.max_block_chars :]
        self._line(line, done)

    def _line(self, line: str, done: list[str]) -> None:
        if self._fence is None:
            if not line.strip():
                if self._size >= self.min_block_chars:
                    self._emit(done)
                elif self._lines:  # too short to be a block of its own: the next paragraph joins it
                    self._append(line)
                return
            opened = _FENCE_OPEN.match(line)
            if opened:
                self._fence, self._fence_opener = opened.group(1), line
            self._append(line)
            if self._fence is None and (self._size > self.max_block_chars or len(self._lines) >= MAX_BLOCK_LINES):
                self._emit(done)
            return
        if _closes_fence(line, self._fence):
            self._fence = None
        elif self._size > self.max_block_chars:  # close the fence here and open it again in the next block
            self._append(self._fence + "\n")
            self._emit(done)
            self._append(self._fence_opener)
        self._append(line)


def _closes_fence(line: str, fence: str) -> bool:
    stripped = line.strip()
    indent = len(line) - len(line.lstrip(" "))
    return indent <= 3 and len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def split_blocks(text: str) -> list[str]:
    """The blocks a whole text streams as."""
    splitter = BlockSplitter()
    blocks = splitter.feed(text)
    last = splitter.close()
    if last is not None:
        blocks.append(last)
    return blocks


def render_markdown(text: str) -> list[str]:
    """The HTML of each block of a whole text."""
    return [render_block(block) for block in split_blocks(text)]


MESSAGE_CACHE_BYTES = 32 * 1024 * 1024


class HtmlCache:
    """HTML by a hash of its Markdown source, least recently used first out, bounded by the characters it holds (not
    by a count: one long reply weighs what a thousand short ones do). Thread-safe: pages render on worker threads."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.chars = 0
        self._entries: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(source: str) -> bytes:
        return hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def get(self, key: bytes) -> str | None:
        with self._lock:
            html = self._entries.get(key)
            if html is not None:
                self._entries.move_to_end(key)
            return html

    def put(self, key: bytes, html: str) -> None:
        if len(html) > self.max_chars:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self.chars += len(html) - (len(old) if old is not None else 0)
            self._entries[key] = html
            while self.chars > self.max_chars:
                _, dropped = self._entries.popitem(last=False)
                self.chars -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)


message_cache = HtmlCache(MESSAGE_CACHE_BYTES // 2)  # str of mostly ASCII: about a byte a character, plus the keys


def cached_message(text: str) -> str | None:
    """The HTML of a whole message if it was rendered before, else None (cheap: a hash and a lookup)."""
    return message_cache.get(HtmlCache.key(text))


def render_message(text: str) -> str:
    """The HTML of a whole finished message (its blocks, joined), rendered once and then taken from the cache."""
    key = HtmlCache.key(text)
    html = message_cache.get(key)
    if html is None:
        html = "".join(render_block(block) for block in split_blocks(text))
        message_cache.put(key, html)
    return html


SHOWN_CHARS = 40_000
"""A stored message longer than this shows its first `SHOWN_CHARS` characters formatted, then **Show all**.

Formatting costs ~1 ms of the event loop per 1,000 characters (Markdown, highlighting): a 4.8 MB message imported
before imports were cut (`CHATUI_MAX_MESSAGE_CHARS`) took 9 s to open and stalled every other page meanwhile. Typed
messages stay under 32,000 characters, so only such old imports and very long replies are folded. **Show all** adds
the rest as plain text (escaping is linear and fast), never as Markdown."""


def shown_part(content: str) -> str:
    """What of a message is formatted on its page: all of it, or its first `SHOWN_CHARS` characters (cut at a
    paragraph's end when there is one in their second half)."""
    if len(content) <= SHOWN_CHARS:
        return content
    shown = content[:SHOWN_CHARS]
    cut = shown.rfind("\n\n", SHOWN_CHARS // 2)
    return shown[:cut] if cut > 0 else shown
