"""The sources under a reply that used knowledge (issue 25): each passage it was given, numbered as it cites them,
linked to the document at that passage (`/knowledge/document/{id}?chunk={chunk}`, highlighted there).

The block carries the links by number (`data-links`), and `static/cite.js` turns each `[n]` of the reply's text
into a link to passage n once the reply is drawn (a stored one, or a live one when it ends), so the reply's text is
rendered (and cached) as it was written. Built here as escaped HTML: names and headings come from uploaded files.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from nicegui import ui


def passage_url(document_id: str, chunk_id: int) -> str:
    return f"/knowledge/document/{quote(document_id, safe='')}?chunk={int(chunk_id)}"


def where(source: Mapping[str, Any]) -> str:
    """`name › heading, page n`."""
    text = str(source.get("document_name") or "document")
    if source.get("heading"):
        text += f" › {source['heading']}"
    if source.get("page"):
        text += f", page {source['page']}"
    return text


def sources_html(sources: Sequence[Mapping[str, Any]]) -> str:
    if not sources:
        return ""
    links = {str(s["n"]): passage_url(str(s["document_id"]), int(s["chunk_id"])) for s in sources}
    items = "".join(
        f'<li><a class="chatui-source" href="{html.escape(links[str(s["n"])])}" target="_blank" rel="noopener" '
        f'title="{html.escape(str(s.get("excerpt") or ""))}">[{int(s["n"])}] {html.escape(where(s))}</a></li>'
        for s in sources
    )
    return (
        f'<div class="chatui-sources" data-links="{html.escape(json.dumps(links))}">'
        f'<div class="chatui-sources-title">Sources</div><ol>{items}</ol></div>'
    )


def show_sources(sources: Sequence[Mapping[str, Any]]) -> None:
    """The sources block in the current container (a reply's bubble)."""
    if sources:
        ui.html(sources_html(sources), sanitize=False).mark("reply-sources")
