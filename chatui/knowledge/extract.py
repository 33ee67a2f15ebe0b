"""A document's text as blocks (page, heading path, paragraph), by kind: PDF, HTML, Markdown, plain text, source.

The kind is found from the bytes first (`%PDF-`; anything else must be UTF-8 text without NUL) and then the name
(HTML, Markdown and source code are text with a name that says so, or, for HTML, a doctype). HTML is read as text
by the standard library's parser: scripts, styles and markup dropped, its `h1`…`h6` kept as the headings the chunker
follows. Markdown keeps its `#` headings (a `#` inside a fenced code block is code). Source code and plain text are
paragraphs as they are.

Blocking (decoding a 20 MB file, parsing HTML): the ingest calls these in a thread. PDFs are read by
`chatui.files.pdftext` in a process of its own (see there why).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

HTML_NAMES = frozenset({"html", "htm", "xhtml"})
MARKDOWN_NAMES = frozenset({"md", "markdown", "mdx", "mkd"})
_CODE = (
    "py pyi js mjs ts tsx jsx go rs java kt c h cc cpp hpp cs rb php swift scala sh bash zsh sql r lua pl hs ex exs "
    "clj css scss vue svelte toml yaml yml json ini cfg xml proto tf dart m zig nim jl"
)
CODE_NAMES = frozenset(_CODE.split())
UNSUPPORTED = "This kind of file cannot be added: add PDF, Markdown, HTML, text or source code files."

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_PARAGRAPHS = re.compile(r"\n\s*\n")


class Unreadable(Exception):
    """The document cannot be read; the message is the reason shown to the person."""


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph (or a code block, kept whole) with the headings above it and its page (PDF only)."""

    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None


def kind_of(name: str, head: bytes) -> str:
    """`pdf`, `html`, `markdown`, `code` or `text` (text is checked to be UTF-8 when it is decoded)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if (
        extension in HTML_NAMES
        or head.lstrip()[:15].lower() in (b"<!doctype html>", b"<html>")
        or (head.lstrip()[:9].lower() == b"<!doctype" and b"html" in head[:40].lower())
    ):
        return "html"
    if extension in MARKDOWN_NAMES:
        return "markdown"
    if extension in CODE_NAMES:
        return "code"
    return "text"


def decode(data: bytes) -> str:
    """The bytes as UTF-8 text (a BOM dropped); `Unreadable` for binary files and other encodings."""
    if b"\x00" in data:
        raise Unreadable(UNSUPPORTED)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("The file is not UTF-8 text: save it as UTF-8, or as a PDF.") from None


def text_blocks(kind: str, text: str) -> list[Block]:
    """The blocks of a text document of this kind (`html`, `markdown`, `code`, `text`)."""
    if kind == "html":
        return markdown_blocks(html_to_markdown(text))
    if kind == "markdown":
        return markdown_blocks(text)
    return [Block(p) for p in _paragraphs(text)]


def pdf_blocks(pages: list[str]) -> list[Block]:
    """A PDF's pages' paragraphs, each with its page number (from 1)."""
    return [Block(p, page=number) for number, page in enumerate(pages, 1) for p in _paragraphs(page)]


def markdown_blocks(text: str) -> list[Block]:
    """Paragraphs under their heading path; a fenced code block is one block, whatever lines it holds."""
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        path = tuple(title for _, title in headings)
        blocks.extend(Block(p, path) for p in _paragraphs("\n".join(lines)))
        lines.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            if not fenced:
                flush()
            fenced = not fenced
            lines.append(line)
            if not fenced:
                blocks.append(Block("\n".join(lines).strip(), tuple(title for _, title in headings)))
                lines.clear()
            continue
        heading = None if fenced else _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            headings = [(lvl, title) for lvl, title in headings if lvl < level] + [(level, heading.group(2))]
        else:
            lines.append(line)
    flush()
    return blocks


def _paragraphs(text: str) -> Iterator[str]:
    for paragraph in _PARAGRAPHS.split(text):
        if paragraph.strip():
            yield paragraph.strip("\n").rstrip()


class _HtmlText(HTMLParser):
    """HTML to Markdown-like text: headings as `#` lines, blocks as paragraphs, everything invisible dropped."""

    SKIP = frozenset({"script", "style", "head", "template", "noscript", "svg", "nav", "footer"})
    BLOCKS = frozenset(
        {"p", "div", "section", "article", "main", "li", "tr", "table", "ul", "ol", "pre", "blockquote", "dd", "dt"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self.BLOCKS:
            self.out.append("\n\n")
            self.pre += tag == "pre"
        elif tag == "br":
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCKS:
            self.out.append("\n\n")
            self.pre -= tag == "pre" and self.pre > 0

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_markdown(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    lines = [line.strip() if not line.startswith("    ") else line for line in text.split("\n")]
    # a heading line is `# title` alone on its line (its text came in pieces)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
