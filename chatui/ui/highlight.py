"""Code blocks: Pygments highlighting on the server, the language shown, and a Copy code button.

The HTML carries only class names (no inline styles, no script): the colours come from one stylesheet for both
themes (`stylesheet()`, served at `HIGHLIGHT_CSS_URL`), and the Copy code button works through one delegated
listener in `static/chatui.js`. A streaming reply's growing code block is highlighted again on each update of its
bubble (`chatui.ui.pacing`: 0.1 s or slower), never per token, while it is short (`LIVE_HIGHLIGHT_CHARS`); a
finished block is rendered once (cached with its block in `chatui.ui.rendering`).
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it.common.utils import escapeHtml
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

HIGHLIGHT_CSS_URL = "/chatui-highlight.css"
LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
SCOPE = ".chatui-code pre"

_FORMATTER = HtmlFormatter(nowrap=True)

LIVE_HIGHLIGHT_CHARS = 1500
"""A code block still being written is coloured on each update only up to this size (Pygments takes ~1-2 ms per
1,000 characters of Python here, more under load); past it, it shows plain until it is finished, then coloured once."""


@lru_cache(maxsize=256)
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def code_block(code: str, info: str, *, colour: bool = True, diagram: bool = True) -> str:
    """A fenced code block: a head with the language and the Copy code button, then the (highlighted) code.

    A finished `mermaid` block (`diagram`) is marked `chatui-mermaid`: the page's script draws it once the reply is
    done (`static/markdown.js`) and keeps this source for Copy code; a block still streaming stays code."""
    language = info.strip().split(maxsplit=1)[0][:40] if info.strip() else ""
    lexer = _lexer(language.lower()) if language and colour else None
    body = pygments_highlight(code, lexer, _FORMATTER) if lexer is not None else escapeHtml(code)
    label = escapeHtml(language) if language else "text"
    kind = "chatui-code chatui-mermaid" if diagram and language.lower() == "mermaid" else "chatui-code"
    return (
        f'<div class="{kind}">'
        f'<div class="chatui-code-head"><span class="chatui-code-lang">{label}</span>'
        '<button type="button" class="chatui-copy">Copy code</button></div>'
        f'<pre tabindex="0"><code class="highlight">{body}</code></pre></div>\n'
    )


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """Token colours: Pygments' `default` style in the light theme, `github-dark` in the dark one."""
    light = HtmlFormatter(style=LIGHT_STYLE).get_style_defs(SCOPE)
    dark = HtmlFormatter(style=DARK_STYLE).get_style_defs(f".body--dark {SCOPE}")
    # Only the token rules: the styles' own backgrounds and line-number rules would fight the theme's code colours.
    # `.err` frames every character the lexer did not expect in red, which a half-streamed block is full of.
    lines = (light + "\n" + dark).splitlines()
    keep = [line for line in lines if line.startswith((SCOPE, f".body--dark {SCOPE}")) and " .err " not in line]
    return "\n".join(line for line in keep if "{ background" not in line) + "\n"
