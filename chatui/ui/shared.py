"""The page of a share link, `/s/{token}`: the snapshot, read-only, and one action, **Continue this chat**.

The messages are drawn by the chat's own bubbles (the same Markdown rendering, code blocks, math and diagrams, under
the same CSP), with none of the chat's actions. The files of the snapshot load through the link's own route
(`/s/{token}/files/{id}`), never through `/api/files`, which serves only their owner. Search engines are told to stay
away twice: `<meta name="robots" content="noindex">` here and `X-Robots-Tag` on the response (`chatui.web.csp`).

Continue copies the snapshot into the viewer's account and opens the copy. Signed out, the button leads to sign-in,
which comes back here with `?continue=1`, and the page then copies at once (the session cookie is `SameSite=Strict`,
so a link from another site never arrives signed in to do that).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError
from chatui.files.errors import FileRefused
from chatui.ui.bubbles import stored_reply, user_bubble
from chatui.ui.frame import page_frame
from chatui.ui.wording import counted
from storage import Message, SignedIn
from storage.files import StoredFile
from storage.models import PartKind
from storage.parts import Part
from storage.shares import SharedConversation

PAGE = 100
"""Messages shown at first, and added by each **Show more**."""
NOINDEX = '<meta name="robots" content="noindex, nofollow">'


def _files(shared: SharedConversation, files: list[dict[str, object]]) -> list[StoredFile]:
    """The snapshot's record of a message's files, as the bubbles draw them (only the shown fields matter)."""
    return [
        StoredFile(
            id=str(f["id"]),
            user_id=shared.user_id,
            blob_id="",
            name=str(f["name"]),
            media_type=str(f["media_type"]),
            size=int(str(f["size"])),
            width=f["width"] if isinstance(f.get("width"), int) else None,  # type: ignore[arg-type]
            height=f["height"] if isinstance(f.get("height"), int) else None,  # type: ignore[arg-type]
            pages=None,
            created_at=shared.shared_at,
            attached_at=shared.shared_at,
        )
        for f in files
    ]


class SharedView:
    def __init__(self, services: Services, token: str, shared: SharedConversation, viewer: SignedIn | None) -> None:
        self.services = services
        self.token = token
        self.shared = shared
        self.viewer = viewer
        self.shown = 0

    def build(self) -> None:
        title = self.shared.title or "Shared conversation"
        frame = page_frame(self.services, None, title, theme=self.viewer.user.theme if self.viewer else "system")
        frame.title.mark("shared-title")
        ui.add_head_html(NOINDEX)
        with frame.actions:
            self._continue_button().props("unelevated no-caps").mark("continue-shared")
        with ui.column().classes("chatui-column gap-2 pb-4 chatui-messages chatui-shared").mark("shared-messages"):
            at = self.shared.shared_at
            when = f"{at.day} {at.strftime('%B %Y')}"
            ui.label(f"A read-only copy of this conversation, shared on {when}.").classes("chatui-muted text-sm").mark(
                "shared-note"
            )
            self.list = ui.column().classes("w-full gap-2")
            self.more = ui.button(on_click=self.show_more).props("flat no-caps").classes("self-center")
            self.more.mark("show-more")
            self.show_more()
            if not self.shared.messages:
                ui.label("This conversation had no messages when it was shared.").classes("chatui-muted")

    def show_more(self) -> None:
        """The next `PAGE` messages: a page builder has 3 s, and a long conversation's bubbles would take longer."""
        messages = self.shared.messages
        with self.list:
            for message in messages[self.shown : self.shown + PAGE]:
                self._message(message)
        self.shown = min(len(messages), self.shown + PAGE)
        left = len(messages) - self.shown
        self.more.text = f"Show {min(left, PAGE)} more of {counted(left, 'message')}"
        self.more.visible = left > 0

    def _continue_button(self) -> ui.button:
        if self.viewer is None:
            back = quote(f"/s/{self.token}?continue=1", safe="")
            return ui.button("Continue this chat", icon="login").props(f"href=/login?next={back}")
        return ui.button("Continue this chat", icon="forum", on_click=self.continue_chat)

    def _message(self, message: dict[str, object]) -> None:
        at = datetime.fromisoformat(str(message["created_at"]))
        files = message.get("files")
        if message["role"] == "user":  # in the chat's own places: the person's on the right, replies on the left
            shown = _files(self.shared, files if isinstance(files, list) else [])
            with ui.row().classes("w-full gap-1 chatui-entry chatui-entry-user"):
                user_bubble(str(message["content"]), at, shown, files_url=f"/s/{self.token}/files")
            return
        reasoning = message.get("reasoning")
        seconds = message.get("reasoning_seconds")
        thought = (
            Part(PartKind.REASONING, text=reasoning, data={"seconds": seconds} if seconds else None)
            if isinstance(reasoning, str) and reasoning
            else None
        )
        reply = Message(
            id="",
            role="assistant",
            content=str(message["content"]),
            status=str(message["status"]),
            model=message.get("model"),
            completion_tokens=message.get("completion_tokens"),
            cut_off=bool(message.get("cut_off")),
            created_at=at,
            error=None,
        )
        with ui.column().classes("w-full gap-0 chatui-entry"):
            stored_reply(reply, thought, admin=False)

    async def continue_chat(self) -> None:
        """Copy the snapshot into the viewer's account and open the copy."""
        assert self.viewer is not None
        try:
            conversation_id = await self.services.shares.continue_in(self.token, self.viewer.user.id)
        except (ConversationError, FileRefused) as refused:
            ui.notify(refused.message, type="warning")
            return
        ui.navigate.to(f"/chat/{conversation_id}")
