"""The chat page's messages, built only near the viewport: a window of a few pages over a conversation of any length.

A conversation opens at its end with the last `page_size` messages (or around one message, `/chat/{id}?message=`);
"Load older messages" at the top and "Load newer messages" at the bottom fetch the next page when they come near the
viewport (they click themselves, `chatui.autoload` in chatui.js) and the window drops the far end's messages beyond
`keep` of them, so a page holds a bounded number of elements however long the history. The script keeps the message
at the top of the view where it is while pages come and go.

Pages of the conversation's active path come one at a time (`ConversationService.path`), and a stored
message's HTML is rendered once (`chatui.ui.rendering.render_message`, cached by content): opening a long conversation
costs one page, not the history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import MessageNotFound
from chatui.engine.generation import Generation
from chatui.ui.bubbles import AssistantBubble, stored_reply, user_bubble
from chatui.ui.rendering import cached_message, render_message, shown_part
from storage import Message
from storage.files import StoredFile
from storage.parts import Part

PAGE_SIZE = 30
KEEP_PAGES = 4


@dataclass
class MessagePage:
    messages: list[Message]
    has_older: bool
    has_newer: bool


class MessageList:
    """The messages of one conversation on one page. `on_live(generation, bubble)` is called for a reply that is
    still streaming when its message is shown, so the page can follow it; `spawn` runs a task owned by the page."""

    def __init__(
        self,
        services: Services,
        user_id: str,
        on_live: Callable[[Generation, AssistantBubble], None],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        on_row: Callable[[str, str, str, str, bool], None] | None = None,
        page_size: int = PAGE_SIZE,
        keep_pages: int = KEEP_PAGES,
        *,
        admin: bool = True,
    ) -> None:
        self.services = services
        self.admin = admin
        """Whether the reader is an administrator (a failed reply's error then keeps its fix)."""
        self.user_id = user_id
        self.on_live = on_live
        self.spawn = spawn
        self.on_row = on_row
        """Draws the action row under a message (id, role, content, status, cut off), inside its entry."""
        self.siblings: dict[str, list[str]] = {}
        """Each shown message's versions (oldest first), from the pages read."""
        self.reasoning: dict[str, Part] = {}
        """The reasoning of replies read but not yet shown (issue 24); dropped once shown."""
        self.steps: dict[str, list[Part]] = {}
        self.sources: dict[str, list[dict[str, Any]]] = {}
        """The knowledge sources of replies read but not yet shown (issue 25)."""
        """The text and tool parts of replies read that called tools, not yet shown (issue 24); dropped once shown."""
        self.files: dict[str, list[StoredFile]] = {}
        """The files of the shown messages that have any (an edit starts from them)."""
        self.ratings: dict[str, tuple[str, str | None]] = {}
        """The person's rating (`up`/`down`) and comment of each reply shown that has one."""
        self.file_notes: dict[str, dict[str, str]] = {}
        self.outgoing: tuple[str, list[StoredFile]] | None = None
        """What this page is sending (text, files): its question is drawn with them at once, without a read."""
        self.page_size = page_size
        self.keep = page_size * keep_pages
        self.conversation_id: str | None = None
        self.entries: list[tuple[str, ui.element]] = []
        """(message id, its bubble) in written order: what the window holds."""
        self.shown: set[str] = set()
        self.live: dict[str, Generation] = {}
        self.has_older = False
        self.has_newer = False
        self.target: ui.element | None = None
        """The bubble of the message the window was opened at (`open(at=)`), highlighted and centred."""
        self.on_window: Callable[[], None] | None = None
        """Told when the window has moved (the page's jump buttons show for a chat longer than it)."""
        self._lock = asyncio.Lock()

    def build(self) -> None:
        with ui.column().classes("chatui-column gap-2 pb-4 chatui-messages").mark("messages") as self.element:
            self.older = self._sentinel("Load older messages", self.load_older, "load-older")
            self.rows = ui.column().classes("w-full gap-2 chatui-rows")
            self.empty_state = ui.label("Ask anything to start a conversation.").classes(
                "chatui-muted self-center mt-16"
            )
            self.newer = self._sentinel("Load newer messages", self.load_newer, "load-newer")

    @staticmethod
    def _sentinel(text: str, load: Callable[[], Coroutine[Any, Any, None]], marker: str) -> ui.button:
        button = ui.button(text, on_click=load).props("flat dense no-caps").classes("self-center chatui-autoload")
        button.mark(marker).visible = False
        return button

    # -- queries --------------------------------------------------------------------------------------------------

    def has(self, message_id: str) -> bool:
        return message_id in self.shown

    @property
    def at_end(self) -> bool:
        return not self.has_newer

    def continues(self, generation: Generation) -> bool:
        """Whether a reply that started goes on from the end of what is shown (a message sent after it), rather
        than somewhere above it (a regenerate, an edit), where the path must be shown afresh."""
        if generation.user_message_id is None:
            return False
        last = self.entries[-1][0] if self.entries else None
        return self.has_newer or generation.user_parent_id == last

    # -- opening and paging ---------------------------------------------------------------------------------------

    async def open(
        self, conversation_id: str, live: Generation | None, at: str | None = None, *, start: bool = False
    ) -> bool:
        """Show the conversation's last page, its first (`start`), or the page around message `at` (highlighted);
        False if `at` is not one of its messages (then the last page is shown). `live` is the reply streaming now,
        taken *before* this call, so a reply that ends meanwhile is shown whole from the database."""
        async with self._lock:
            self.conversation_id = conversation_id
            page = await self._fetch(around=at) if at else await self._fetch(first=True) if start else None
            found = bool(page and page.messages)
            if not found:
                page = await self._fetch()
            assert page is not None
            self._clear()
            self.has_older, self.has_newer = page.has_older, page.has_newer
            await self._insert(page.messages, 0, live)
            self.target = None
            if found and at:
                entry = next(element for message_id, element in self.entries if message_id == at)
                self.target = entry.default_slot.children[0] if entry.default_slot.children else entry
                self.target.classes("chatui-target chatui-highlight")
            self._update_sentinels()
            return found or at is None

    async def load_older(self) -> None:
        if self._lock.locked() or not self.has_older or not self.entries:
            return
        async with self._lock:
            page = await self._fetch(before=self.entries[0][0])
            self.has_older = page.has_older
            await self._insert(page.messages, 0, None)
            self._trim(from_top=False)
            self._update_sentinels()

    async def load_newer(self) -> None:
        if self._lock.locked() or not self.has_newer or not self.entries:
            return
        async with self._lock:
            page = await self._fetch(after=self.entries[-1][0])
            self.has_newer = page.has_newer
            live = self.services.conversations.current(self.conversation_id)
            await self._insert(page.messages, len(self.entries), live)
            self._trim(from_top=True)
            self._update_sentinels()

    def add_exchange(self, generation: Generation) -> AssistantBubble | None:
        """A reply that just started: its question and bubble at the end. If the window is not at the end, it moves
        there instead (the new messages come with the last page and the reply is followed through `on_live`), and
        None is returned."""
        self.shown.update((generation.user_message_id, generation.message_id))
        if self.has_newer:
            self.spawn(self._reopen_at_end(generation))
            return None
        self.empty_state.visible = False
        assert generation.user_message_id is not None and generation.user_content is not None
        files = self._outgoing_files(generation.user_content)
        with self.rows:
            with self._entry("user") as question:
                asked = user_bubble(generation.user_content, files=files or ())
                self._row(generation.user_message_id, "user", generation.user_content, "done")
            with self._entry("assistant") as reply:
                bubble = AssistantBubble(generation.model, admin=self.admin)
        self.siblings[generation.user_message_id] = [generation.user_message_id]
        self.siblings[generation.message_id] = [generation.message_id]
        self.entries += [(generation.user_message_id, question), (generation.message_id, reply)]
        self.live[generation.message_id] = generation
        if files is not None:
            self.files[generation.user_message_id] = files
        else:  # sent elsewhere (another tab, /ws): its files, if any, are read once it is stored
            self.spawn(self._add_files(generation, asked))
        self._trim(from_top=True)
        self._update_sentinels()
        return bubble

    def _outgoing_files(self, content: str) -> list[StoredFile] | None:
        outgoing, self.outgoing = self.outgoing, None
        return outgoing[1] if outgoing is not None and outgoing[0] == content else None

    async def _add_files(self, generation: Generation, bubble: ui.chat_message) -> None:
        """Redraw a question sent from elsewhere with its files, once the database has them."""
        user_message_id = generation.user_message_id
        if user_message_id is None or not await generation.stored or self.conversation_id is None:
            return
        try:
            page = await self.services.conversations.path(
                self.user_id, self.conversation_id, limit=1, around=user_message_id
            )
        except MessageNotFound:
            return
        files = page.attachments.get(user_message_id)
        entry = self.entry(user_message_id)
        if not files or entry is None or bubble.is_deleted:
            return
        self.files[user_message_id] = files
        with entry:
            replacement = user_bubble(generation.user_content or "", files=files)
        replacement.move(entry, target_index=0)
        bubble.delete()

    async def _reopen_at_end(self, generation: Generation) -> None:
        assert self.conversation_id is not None
        with self.rows:  # a task of its own: the page's context is not there by itself
            await self.open(self.conversation_id, generation)
            self.rows.client.run_javascript("chatui.toBottom()")

    # -- the window -----------------------------------------------------------------------------------------------

    async def _fetch(
        self, *, before: str | None = None, after: str | None = None, around: str | None = None, first: bool = False
    ) -> MessagePage:
        """One page of the conversation, in written order (the seam for paging over a tree's active path)."""
        assert self.conversation_id is not None
        try:
            page = await self.services.conversations.path(
                self.user_id,
                self.conversation_id,
                limit=self.page_size,
                before=before,
                after=after,
                around=around,
                first=first,
            )
        except MessageNotFound:
            return MessagePage([], False, False)
        self.siblings.update(page.siblings)
        self.reasoning.update(page.reasoning)
        self.steps.update(page.steps)
        self.sources.update(page.sources)
        self.files.update(page.attachments)
        self.file_notes.update(page.notes)
        replies = [m.id for m in page.messages if m.role == "assistant"]
        rated = await self.services.organizer.ratings(self.user_id, replies)
        self.ratings.update({message_id: (f.rating, f.comment) for message_id, f in rated.items()})
        return MessagePage(page.messages, page.has_before, page.has_after)

    async def _insert(self, messages: list[Message], index: int, live: Generation | None) -> None:
        """Bubbles for `messages`, placed from position `index` of the window on."""
        messages = [m for m in messages if m.id not in self.shown]
        if not messages:
            return
        live_id = live.message_id if live is not None else None
        await _render_off_the_loop([m.content for m in messages if m.id != live_id])
        new: list[tuple[str, ui.element]] = []
        with self.rows:
            for message in messages:
                self.shown.add(message.id)
                with self._entry(message.role) as entry:
                    if message.role == "user":
                        user_bubble(
                            message.content,
                            message.created_at,
                            self.files.get(message.id, ()),
                            self.file_notes.get(message.id),
                        )
                    elif live is not None and message.id == live.message_id:
                        bubble = AssistantBubble(live.model, message.created_at, admin=self.admin)
                        self.live[message.id] = live
                        self.on_live(live, bubble)
                    else:
                        reasoning, steps = self.reasoning.pop(message.id, None), self.steps.pop(message.id, ())
                        sources = self.sources.pop(message.id, ())
                        stored_reply(message, reasoning, steps, admin=self.admin, sources=sources)
                    if live is None or message.id != live.message_id:
                        self._row(message.id, message.role, message.content, message.status, message.cut_off)
                new.append((message.id, entry))
        if index < len(self.entries):
            for offset, (_, element) in enumerate(new):
                element.move(self.rows, target_index=index + offset)
        self.entries[index:index] = new
        self.empty_state.visible = False

    @staticmethod
    def _entry(role: str) -> ui.element:
        """One message's place in the window: its bubble and its row of actions (`chatui.ui.actions`): under a reply;
        beside the person's own message, which sits on the right (a row, wrapping only for the inline editor)."""
        if role == "user":
            return ui.row().classes("w-full gap-1 chatui-entry chatui-entry-user")
        return ui.column().classes("w-full gap-0 chatui-entry")

    def _row(self, message_id: str, role: str, content: str, status: str, cut_off: bool = False) -> None:
        if self.on_row is not None:
            self.on_row(message_id, role, content, status, cut_off)

    def entry(self, message_id: str) -> ui.element | None:
        """The element holding this message's bubble and row, if it is in the window."""
        return next((element for shown, element in self.entries if shown == message_id), None)

    def _trim(self, *, from_top: bool) -> None:
        """Drop messages at the far end beyond `keep` (never a reply that is still streaming)."""
        excess = len(self.entries) - self.keep
        if excess <= 0:
            return
        if from_top:
            dropped, self.entries = self.entries[:excess], self.entries[excess:]
            self.has_older = True
        else:
            kept = len(self.entries) - excess
            while kept < len(self.entries) and self._streaming(self.entries[kept][0]):
                kept += 1
            dropped, self.entries = self.entries[kept:], self.entries[:kept]
            self.has_newer = self.has_newer or bool(dropped)
        for message_id, element in dropped:
            self.shown.discard(message_id)
            self.files.pop(message_id, None)
            self.file_notes.pop(message_id, None)
            self.ratings.pop(message_id, None)
            self.live.pop(message_id, None)
            self.rows.remove(element)

    def _streaming(self, message_id: str) -> bool:
        generation = self.live.get(message_id)
        return generation is not None and not generation.finished

    def _clear(self) -> None:
        self.rows.clear()
        self.entries.clear()
        self.shown.clear()
        self.live.clear()
        self.empty_state.visible = True

    def _update_sentinels(self) -> None:
        for button, shown in ((self.older, self.has_older), (self.newer, self.has_newer)):
            button.visible = shown
            button.props["data-loads"] = int(button.props.get("data-loads", 0)) + 1  # chatui.js: "the page is in"
            button.update()
        if self.on_window is not None:
            self.on_window()


async def _render_off_the_loop(contents: list[str]) -> None:
    """Render what the cache lacks on a worker thread, so a page of never-seen messages does not hold the loop."""
    missing = [text for text in contents if text and cached_message(shown_part(text)) is None]
    if missing:
        await asyncio.to_thread(lambda: [render_message(shown_part(text)) for text in missing])
