"""What people paste beyond CommonMark, as markdown-it rules: LaTeX math and task lists.

**Math.** `$…$` and `\\(…\\)` inline, `$$…$$` and `\\[…\\]` displayed. The rule runs before markdown-it's backslash
escapes and emphasis, so the TeX reaches the page exactly as written (`\\\\`, `\\{`, `a_1 b_2` intact: markdown-it
alone turns `\\(x\\)` into `(x)` and `a_1 b_2` into emphasis). It becomes a `<span class="chatui-math">` holding the
escaped source, which the page's script typesets with KaTeX, served by this app (`static/katex/`,
`static/markdown.js`); without the script the reader sees the TeX itself. A `$` opens math only before a non-space
and closes it only after a non-space and before a non-digit (pandoc's rule), so prices ("$5 and $10") stay text.

The closing delimiters of a paragraph are found once (one regular-expression pass, cached) and looked up by
bisection, so a block full of unclosed `$` costs linear time, not a scan to its end per `$`.

**Task lists.** A list item that starts with `[ ]` or `[x]` shows a disabled checkbox, named for screen readers.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

_CLOSER = re.compile(r"\$\$|\$|\\[)\]]")
_OPENERS = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
_DISPLAY = {"$$", "\\["}
_TASK = re.compile(r"\[([ xX])\](?=\s|$)")


def _escaped(src: str, pos: int) -> bool:
    """Whether the character at `pos` follows an odd number of backslashes."""
    count = 0
    while pos - count - 1 >= 0 and src[pos - count - 1] == "\\":
        count += 1
    return count % 2 == 1


@lru_cache(maxsize=64)
def _closers(src: str) -> dict[str, tuple[int, ...]]:
    """Where each closing delimiter may stand in a paragraph's inline text (a `$` only where pandoc lets it close)."""
    found: dict[str, list[int]] = {"$$": [], "$": [], "\\)": [], "\\]": []}
    for match in _CLOSER.finditer(src):
        at, mark = match.start(), match.group()
        if mark == "$":
            after = src[at + 1 : at + 2]
            if at == 0 or src[at - 1].isspace() or _escaped(src, at) or after.isdigit():
                continue
        elif mark != "$$" and _escaped(src, at):
            continue
        found[mark].append(at)
    return {mark: tuple(positions) for mark, positions in found.items()}


def _math(state: StateInline, silent: bool) -> bool:
    src, pos, end = state.src, state.pos, state.posMax
    opener = src[pos : pos + 2]
    if opener not in _OPENERS:
        opener = src[pos]
        if opener != "$":
            return False
    closer = _OPENERS[opener]
    start = pos + len(opener)
    if start >= end or (opener == "$" and src[start].isspace()):
        return False
    positions = _closers(src)[closer]
    index = bisect_left(positions, start)
    if index == len(positions) or positions[index] + len(closer) > end:
        return False
    close = positions[index]
    content = src[start:close]
    if not content.strip():
        return False
    if not silent:
        token = state.push("math", "span", 0)
        token.content = content
        token.markup = opener
        token.info = "display" if opener in _DISPLAY else "inline"
    state.pos = close + len(closer)
    return True


def _render_math(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    kind = "chatui-math chatui-math-display" if token.info == "display" else "chatui-math"
    return f'<span class="{kind}">{escapeHtml(token.content)}</span>'


def _tasks(state: StateCore) -> None:
    """`[ ]` / `[x]` at the start of a list item's first paragraph becomes a checkbox token."""
    tokens = state.tokens
    for i in range(2, len(tokens)):
        inline = tokens[i]
        if inline.type != "inline" or tokens[i - 1].type != "paragraph_open" or tokens[i - 2].type != "list_item_open":
            continue
        first = inline.children[0] if inline.children else None
        match = _TASK.match(first.content) if first is not None and first.type == "text" else None
        if first is None or match is None:
            continue
        first.content = first.content[match.end() :].lstrip(" ")
        box = Token("task_checkbox", "input", 0)
        box.info = "done" if match.group(1) in "xX" else ""
        assert inline.children is not None
        inline.children.insert(0, box)
        tokens[i - 2].attrJoin("class", "chatui-task-item")


def _render_task(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    checked = " checked" if tokens[idx].info == "done" else ""
    return f'<input type="checkbox" class="chatui-task" disabled{checked} aria-label="Task"> '


def add_extras(md: MarkdownIt) -> None:
    """Math (before the escapes, which would eat its backslashes) and task lists."""
    md.inline.ruler.before("escape", "math", _math)
    md.core.ruler.after("inline", "task_lists", _tasks)
    md.add_render_rule("math", _render_math)
    md.add_render_rule("task_checkbox", _render_task)
