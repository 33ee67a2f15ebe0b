"""Markdown to safe HTML, block by block, so a streaming reply costs the same per update at any length.

Safety: markdown-it with `html=False` escapes every tag a user or model writes; links keep only http(s), mailto
and relative targets (so `javascript:` and `data:` are dropped); images are shown as links and never fetched.
Fenced code is highlighted by Pygments into class-only spans (`chatui.highlight`), its language escaped.

Speed: a reply is cut into *blocks* at blank lines outside code fences (and, for pathological blocks, after about
4,000 characters). A finished block never changes, so it is rendered once and cached; only the growing last block is
rendered again on each update. The cutting depends only on the text, so a reloaded reply shows exactly the blocks
that streamed. A whole stored message's HTML is cached too (`render_message`), by a hash of its text and bounded in
bytes, so opening a conversation again renders nothing.
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

from chatui.highlight import code_block

MAX_BLOCK_CHARS = 4000
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
    return code_block(token.content, token.info)


def _render_code_block(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return code_block(tokens[idx].content, "")


def _render_table_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """A table scrolls sideways inside its own wrapper (focusable, so the keyboard can scroll it too)."""
    return '<div class="chatui-table" tabindex="0" role="region" aria-label="Table">' + str(
        renderer.renderToken(tokens, idx, options, env)
    )


def _render_table_close(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return str(renderer.renderToken(tokens, idx, options, env)) + "</div>\n"


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.add_render_rule("image", _render_image)
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_code_block)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    return md


_MD = _make_parser()


@lru_cache(maxsize=4096)
def render_block(source: str) -> str:
    """HTML for one block of Markdown (cached: finished blocks repeat across updates, tabs and reloads)."""
    return _MD.render(source)


def render_uncached(source: str) -> str:
    """HTML for the growing last block, which would only pollute the cache."""
    return _MD.render(source)


class BlockSplitter:
    """Cuts Markdown into blocks as text arrives: `feed()` returns the blocks it completed, `tail` is the rest."""

    def __init__(self, max_block_chars: int = MAX_BLOCK_CHARS) -> None:
        self.max_block_chars = max_block_chars
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
            self._line(data[start : end + 1], done)
            start = end + 1
        self._partial = data[start:]
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

    def _line(self, line: str, done: list[str]) -> None:
        if self._fence is None:
            if not line.strip():
                self._emit(done)
                return
            opened = _FENCE_OPEN.match(line)
            if opened:
                self._fence, self._fence_opener = opened.group(1), line
            self._append(line)
            if self._fence is None and self._size > self.max_block_chars:
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
