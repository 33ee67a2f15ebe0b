"""The Knowledge pages (issue 25): `/knowledge` lists the person's collections (and those shared with everyone),
creates them, takes files and shows each document's ingest (pending with its progress, ready with its passages,
failed with the reason; with an embedding model, how many of its passages are embedded);
`/knowledge/document/{id}?chunk=N` shows a document with passage N highlighted and scrolled to (where a reply's
citation leads).

Files go up the way the API takes them (`POST /api/knowledge/{id}/documents`, several at once, from
`static/cite.js`'s picker), not through a NiceGUI upload element: the API's limits then hold for the page too, and
the page only hears that the upload is in (`chatui_knowledge_uploaded`) and shows the documents again, then every
second while any is pending or not embedded yet.
"""

from __future__ import annotations

import html

from nicegui import ui

from chatui.bootstrap import Services
from chatui.knowledge.service import EmbeddingProgress
from chatui.ui.frame import page_frame
from chatui.ui.wording import counted
from storage import SignedIn
from storage.knowledge import ChunkRow, CollectionRow, DocumentRow

ACCEPT = ".pdf,.md,.markdown,.txt,.html,.htm,.py,.js,.ts,.go,.rs,.java,.c,.h,.cpp,.rb,.sh,.sql,.json,.yaml,.yml,.toml"
WINDOW = 300
"""Passages shown around the cited one in a very long document."""


class KnowledgeView:
    def __init__(self, services: Services, signed_in: SignedIn) -> None:
        self.services = services
        self.user = signed_in.user
        self.signed_in = signed_in
        self.pending = False

    async def build(self) -> None:
        page_frame(self.services, self.signed_in, "Knowledge", back=True)
        with ui.column().classes("chatui-column gap-3 py-4"):
            with ui.card().classes("chatui-card w-full gap-2"):
                ui.label("Knowledge").classes("text-base font-medium").props("role=heading aria-level=2")
                ui.label(
                    "Collections of your documents (PDF, Markdown, HTML, text, source code). Type # in the message "
                    "box to let a chat answer from one: the reply cites the passages it used."
                ).classes("text-sm")
                with ui.row().classes("w-full items-center gap-2 no-wrap"):
                    self.name = ui.input("New collection").props("outlined dense maxlength=200").classes("grow")
                    self.name.mark("new-collection-name").on("keydown.enter", self.create)
                    ui.button("Create", on_click=self.create).props("unelevated no-caps").mark("create-collection")
            self.list = ui.column().classes("w-full gap-3").mark("collections")
        ui.on("chatui_knowledge_uploaded", self.refresh)
        ui.timer(1.0, self._poll)
        await self.refresh()

    async def create(self) -> None:
        name = (self.name.value or "").strip()
        if not name:
            return
        await self.services.knowledge.create(self.user.id, name)
        self.name.value = ""
        await self.refresh()

    async def _poll(self) -> None:
        if self.pending:
            await self.refresh()

    async def refresh(self) -> None:
        collections = await self.services.knowledge.collections(self.user.id)
        shown = []
        for collection in collections:
            found = await self.services.knowledge.collection(self.user.id, collection.id)
            if found is not None:
                shown.append(found)
        progress = [await self.services.knowledge.embedding(c.id, docs) for c, docs in shown]
        embedding = any(p is not None and p.embedded < p.chunks for p in progress)
        self.pending = embedding or any(d.status == "pending" for _, docs in shown for d in docs)
        self.list.clear()
        with self.list:
            if not shown:
                ui.label("No collections yet: name one above.").classes("text-sm chatui-muted").mark("no-collections")
            for (collection, documents), embedded in zip(shown, progress, strict=True):
                self._collection(collection, documents, embedded)

    def _collection(
        self, collection: CollectionRow, documents: list[DocumentRow], embedding: EmbeddingProgress | None
    ) -> None:
        mine = collection.user_id == self.user.id
        with ui.card().classes("chatui-card w-full gap-1").mark("collection"):
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                ui.label(collection.name).classes("text-base font-medium grow").props("role=heading aria-level=3")
                if self.user.is_admin:
                    ui.switch(
                        "Shared with everyone",
                        value=collection.shared,
                        on_change=lambda e, c=collection: self.share(c, bool(e.value)),
                    ).props("dense").mark("share-collection")
                elif collection.shared:
                    ui.badge("Shared with everyone").props("outline")
                if mine:
                    pick = f"() => chatuiKnowledge.pick({collection.id!r}, {ACCEPT!r})"
                    add = ui.button("Add files", icon="upload_file").props("flat no-caps dense")
                    add.on("click", js_handler=pick).mark("add-files")
                    ui.button(icon="delete", on_click=lambda c=collection: self.delete(c)).props(
                        'flat round dense aria-label="Delete collection"'
                    ).mark("delete-collection")
            if not documents:
                ui.label("No documents yet." if mine else "No documents.").classes("text-sm chatui-muted")
            for document in documents:
                self._document(collection, document, mine, embedding)

    def _document(
        self, collection: CollectionRow, document: DocumentRow, mine: bool, embedding: EmbeddingProgress | None
    ) -> None:
        with ui.row().classes("w-full items-center no-wrap gap-2").mark("document"):
            with ui.column().classes("grow gap-0"):
                ui.label(document.name).classes("text-sm").mark("document-name")
                if document.status == "pending":
                    ui.label("Reading…").classes("chatui-doc-status chatui-muted").mark("document-status")
                    ui.linear_progress(value=document.progress, show_value=False).props("rounded size=4px")
                elif document.status == "ready":
                    passages = counted(document.chunk_count, "passage")
                    status = f"Ready · {passages}{_by_meaning(document, embedding)}"
                    ui.label(status).classes("chatui-doc-status chatui-muted").mark("document-status")
                else:
                    ui.label(f"Failed: {document.reason or 'it could not be read.'}").classes(
                        "chatui-doc-status chatui-error-text"
                    ).mark("document-status")
            if mine:
                ui.button(icon="close", on_click=lambda: self.delete_document(collection, document)).props(
                    f'flat round dense size=sm aria-label="Delete {html.escape(document.name)}"'
                ).mark("delete-document")

    async def share(self, collection: CollectionRow, shared: bool) -> None:
        """(Administrators.) Every account may read the collection, or only its owner."""
        await self.services.knowledge.set_shared(collection.id, shared)
        ui.notify(f"{collection.name} is {'now readable by every account' if shared else 'private again'}.")

    async def delete(self, collection: CollectionRow) -> None:
        await self.services.knowledge.delete(self.user.id, collection.id)
        ui.notify(f"Deleted {collection.name}.")
        await self.refresh()

    async def delete_document(self, collection: CollectionRow, document: DocumentRow) -> None:
        await self.services.knowledge.delete_document(self.user.id, collection.id, document.id)
        await self.refresh()


class DocumentView:
    """One document, its passages in order, the cited one highlighted and scrolled into view."""

    def __init__(self, services: Services, signed_in: SignedIn) -> None:
        self.services = services
        self.signed_in = signed_in

    async def build(self, document: DocumentRow, chunks: list[ChunkRow], cited: int | None) -> None:
        page_frame(self.services, self.signed_in, document.name, back=True)
        at = next((i for i, chunk in enumerate(chunks) if chunk.id == cited), None)
        start = max(0, (at or 0) - WINDOW)
        shown = chunks[start : start + 2 * WINDOW]
        with ui.column().classes("chatui-column gap-2 py-4"):
            ui.label(document.name).classes("text-lg font-medium").props("role=heading aria-level=2")
            ui.label(f"{document.chunk_count} passages").classes("text-sm chatui-muted")
            if start:
                ui.label(f"… {start} passages before").classes("text-sm chatui-muted")
            ui.html(document_html(shown, cited), sanitize=False).classes("chatui-document w-full").mark("document")
        if at is not None:
            await ui.context.client.connected()
            ui.run_javascript(
                f"document.getElementById('chunk-{int(cited or 0)}')?.scrollIntoView({{block: 'center'}})"
            )


def document_html(chunks: list[ChunkRow], cited: int | None) -> str:
    """The passages as escaped text, each new heading and page marked, the cited passage in a `<mark>`."""
    out: list[str] = []
    heading: str | None = None
    page: int | None = None
    for chunk in chunks:
        if chunk.page is not None and chunk.page != page:
            page = chunk.page
            out.append(f'<div class="chatui-passage-page">Page {page}</div>')
        if chunk.heading and chunk.heading != heading:
            out.append(f'<div class="chatui-passage-heading">{html.escape(chunk.heading)}</div>')
        heading = chunk.heading
        text = html.escape(chunk.text[chunk.overlap :] if chunk.id != cited else chunk.text)
        if chunk.id == cited:
            out.append(f'<mark id="chunk-{chunk.id}" class="chatui-passage-cited" data-cited="1">{text}</mark>\n\n')
        else:
            out.append(f'<span id="chunk-{chunk.id}">{text}</span>\n\n')
    return "".join(out)


def _by_meaning(document: DocumentRow, embedding: EmbeddingProgress | None) -> str:
    """With an embedding model (hybrid retrieval): whether the document's passages are found by meaning yet."""
    if embedding is None:
        return ""
    done = embedding.per_document.get(document.id, 0)
    if done >= document.chunk_count:
        return " · searchable by meaning"
    waiting = f", waiting: {embedding.error}" if embedding.error else ""
    return f" · embedding {done} of {document.chunk_count}{waiting}"
