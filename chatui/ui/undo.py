"""Undo a deletion for a few seconds: the notice that offers it.

The conversation service keeps what it deleted (in the database, in the deletion's own transaction: any instance
can bring it back, `ConversationService.restore`). When the deleted conversation was the open one, the page goes to
`/?undo=<token>`, so the offer follows it there.
"""

from __future__ import annotations

from nicegui import ui

from chatui.bootstrap import Services


async def offer_undo(services: Services, user_id: str, token: str) -> None:
    """A small notice at the foot of the page: "Conversation deleted · Undo", gone after the few seconds."""
    seconds = await services.conversations.undo_seconds_left(user_id, token)
    if seconds <= 0:
        return
    with ui.context.client.layout:
        notice = ui.element("div").classes("chatui-toast").props("role=status").mark("undo-notice")
    with notice:
        ui.label("Conversation deleted")

        async def undo() -> None:
            notice.delete()
            restored = await services.conversations.restore(user_id, token)
            if restored is None:
                ui.notify("Too late to undo: the conversation is gone.", type="warning")
                return
            ui.navigate.to(f"/chat/{restored}")

        ui.button("Undo", on_click=undo).props("flat dense no-caps").mark("undo-delete")
    ui.timer(seconds, lambda: None if notice.is_deleted else notice.delete(), once=True)
