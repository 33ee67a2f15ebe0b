"""Imported conversations that continue here: the model it was written with may not exist on this server.

An imported conversation whose model cannot answer here is moved, when it is opened, to the model a new chat would
start on (`ModelRegistry.model_for_new_chat`), so the next message gets an answer instead of a provider error; the
page then says which model wrote it. Imported replies keep their own model's name (`chatui.transfer.formats`), which
is where "written with" comes from. A conversation made here is never moved: its model is the one its owner chose,
and the provider banner says what is wrong with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatui.conversations.service import ConversationService


@dataclass(frozen=True, slots=True)
class Carried:
    """What an imported conversation was written with, and the model it continues on now."""

    written_with: str
    model: str
    moved: bool
    """True when it was just moved off a model that cannot answer here."""

    @property
    def note(self) -> str | None:
        """The line the page shows, or None when it continues on the model that wrote it."""
        if self.written_with == self.model:
            return None
        return f"Imported: written with {self.written_with}; it continues on {self.model}."


async def carry_on(conversations: ConversationService, user_id: str, conversation_id: str) -> Carried | None:
    """None for a conversation made here; for an imported one, moved to a model that answers when its own cannot."""
    conversation = await conversations.get(user_id, conversation_id)
    imported, written_with = await conversations.chats.import_origin(user_id, conversation_id)
    if not imported:
        return None
    models, _ = await conversations.models.models()
    available = {m.id for m in models if m.available}
    model, moved = conversation.model, False
    if model not in available:
        new_chat = await conversations.models.model_for_new_chat()
        if new_chat.id in available and new_chat.id != model:
            await conversations.update_settings(user_id, conversation_id, model=new_chat.id)
            model, moved = new_chat.id, True
    return Carried(written_with or conversation.model, model, moved)
