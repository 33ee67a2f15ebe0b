"""The conversation calls on every reply's path, as prepared Core statements built once (see `storage.database`
for why they run `grouped`): the `/ws` ownership check, where a new reply goes and what it is asked with, the write
of the new messages, checkpoints of streaming text, the reply's final write and the title written after it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, String, bindparam, func, insert, select, update

from storage.database import Repository, grouped, statements
from storage.errors import ConversationGone, MessageGone, NothingToContinue, NothingToRegenerate
from storage.files import attachments_of, mark_attached, owned_files
from storage.models import Conversation, Message, MessagePart, MessageStatus, PartKind, new_id, utcnow
from storage.parts import Part, message_parts, note_files, parts_rows, replace_parts, write_parts
from storage.reply_context import Anchor, ContinuedReply, ReplyContext
from storage.tree import path_turns


class Replies(Repository):
    """The hot-path part of `ConversationRepository`."""

    @grouped
    def current_title(self, c: Connection, user_id: str, conversation_id: str) -> str | None:
        """The conversation's title (None: untitled, or not the user's), read after every first reply."""
        title: str | None = c.execute(_TITLE_OF, {"cid": conversation_id, "uid": user_id}).scalar()
        return title

    @grouped
    def conversation_owner(self, c: Connection, conversation_id: str) -> str | None:
        """The id of the account the conversation belongs to (None: no such conversation). The check of every `/ws`
        handshake: a prepared statement in a shared transaction, read alongside the session (one trip for both)."""
        owner: str | None = c.execute(_OWNER, {"cid": conversation_id}).scalar()
        return owner

    @grouped
    def replace_title(self, c: Connection, conversation_id: str, expected: str, title: str) -> bool:
        """Set the title only if it is still `expected` (nobody renamed the conversation meanwhile)."""
        result = c.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.title == expected)
            .values(title=title)
        )
        return result.rowcount > 0

    def context_in(
        self,
        c: Connection,
        user_id: str,
        conversation_id: str,
        anchor: Anchor,
        message_id: str | None = None,
        *,
        max_chars: int | None = None,
        file_ids: Sequence[str] | None = None,
    ) -> ReplyContext:
        """Where a new reply goes and what it is asked with (see `Anchor`; `message_id` is the edited message).

        `max_chars` bounds the turns to the newest that fit (`storage.tree.path_turns`); None reads the whole path.
        `file_ids`: the files of the new user message (checked to be the user's); None on an EDIT keeps the edited
        message's.

        `ConversationGone`, `MessageGone` (EDIT of a message that is not a user message of this conversation),
        `NothingToRegenerate` or `NothingToContinue`.
        """
        row = c.execute(_CONVERSATION_OF, {"cid": conversation_id, "uid": user_id}).one_or_none()
        if row is None:
            raise ConversationGone(conversation_id)
        parent: str | None
        edited_files: list[str] = []
        continued = None
        if anchor is Anchor.CONTINUE:
            last = c.execute(_REPLY, {"mid": row.active_message_id or "", "cid": conversation_id}).one_or_none()
            if last is None or last.role != "assistant" or last.status == MessageStatus.STREAMING:
                raise NothingToContinue(conversation_id)
            if not (last.content or "").strip():
                raise NothingToContinue(conversation_id)
            parent = last.parent_id
            continued = ContinuedReply(last.id, last.content, last.completion_tokens)
        elif anchor is Anchor.SEND:
            parent = row.active_message_id
        elif anchor is Anchor.EDIT:
            edited = c.execute(_MESSAGE, {"mid": message_id or "", "cid": conversation_id}).one_or_none()
            if edited is None or edited.role != "user":
                raise MessageGone(message_id)
            parent = edited.parent_id
            edited_files = list(c.execute(_FILES_OF, {"mid": edited.id}).scalars())
        else:
            leaf = c.execute(_MESSAGE, {"mid": row.active_message_id or "", "cid": conversation_id}).one_or_none()
            parent = leaf.parent_id if leaf is not None and leaf.role == "assistant" else getattr(leaf, "id", None)
            if parent is None:
                raise NothingToRegenerate(conversation_id)
        turns = path_turns(c, conversation_id, parent, max_chars=max_chars)
        files = attachments_of(c, [turn.id for turn in turns if turn.role == "user"])
        carried = edited_files if file_ids is None and anchor is Anchor.EDIT else list(file_ids or ())
        new_files = owned_files(c, user_id, carried) if anchor in (Anchor.SEND, Anchor.EDIT) else []
        return ReplyContext(
            model=row.model,
            system_prompt=row.system_prompt,
            temperature=row.temperature,
            max_tokens=row.max_tokens,
            top_p=row.top_p,
            seed=row.seed,
            reasoning_effort=row.reasoning_effort,
            tools=list(row.tools or []),
            knowledge=list(row.knowledge or []),
            parent_id=parent,
            turns=turns,
            edited_file_ids=edited_files,
            files=files,
            new_files=new_files,
            continued=continued,
        )

    reply_context = grouped(context_in)

    @grouped
    def open_exchange(
        self,
        c: Connection,
        user_id: str,
        conversation_id: str,
        content: str,
        model_of: Callable[[str], str],
        title: str | None,
        ids: tuple[str, str],
        max_chars: int | None = None,
    ) -> tuple[ReplyContext, str | None]:
        """SEND of a message without files: `reply_context`, and the write of `start_exchange` in the same
        transaction when nothing may still refuse the reply before its messages are stored (no files on the path, no
        knowledge collection, no reasoning effort to ask the model about): one trip to the database thread before
        the provider is asked, instead of a read before and a write racing the provider's first token for the GIL
        (BENCHMARKS.md §1). `model_of` turns the chat's model into the reply's; `ids`: the user message's and the
        reply's. Returns the context and the model the messages were stored with (None: nothing was written)."""
        context = self.context_in(c, user_id, conversation_id, Anchor.SEND, max_chars=max_chars, file_ids=())
        if context.files or context.knowledge or context.reasoning_effort:
            return context, None
        model = model_of(context.model)
        self.exchange_in(
            c,
            user_id,
            conversation_id,
            content,
            model,
            title,
            parent_id=context.parent_id,
            user_message_id=ids[0],
            assistant_message_id=ids[1],
        )
        return context, model

    @grouped
    def resume_reply(
        self, c: Connection, user_id: str, conversation_id: str, message_id: str, model: str
    ) -> str | None:
        """CONTINUE's write: the reply streams again (checkpoints write to it, a crash marks it `interrupted` with its
        text) from the model given; its parts go until its final write (a streaming reply of text has none:
        PARTS.md). Returns its reasoning, if it had any, for the reply to keep. `ConversationGone`; `MessageGone` if
        the reply is no longer there, or streams already."""
        touched = c.execute(_BUMP, {"cid": conversation_id, "uid": user_id, "now": utcnow()})
        if touched.rowcount == 0:
            raise ConversationGone(conversation_id)
        resumed = c.execute(_RESUME, {"mid": message_id, "cid": conversation_id, "model": model})
        if resumed.rowcount == 0:
            raise MessageGone(message_id)
        reasoning: str | None = c.execute(_REASONING_OF, {"mid": message_id}).scalar()
        replace_parts(c, message_id, [])
        return reasoning

    def exchange_in(
        self,
        c: Connection,
        user_id: str,
        conversation_id: str,
        content: str | None,
        model: str,
        title_if_untitled: str | None,
        *,
        parent_id: str | None = None,
        remember_model: bool = True,
        user_message_id: str | None = None,
        assistant_message_id: str | None = None,
        file_ids: Sequence[str] = (),
    ) -> tuple[str | None, str]:
        """Save the user's message (unless `content` is None: a new reply to `parent_id`) with its files (the
        caller checked they are the user's), and an empty `streaming` assistant message under it, make that reply
        the active leaf; returns their ids.

        Also moves the conversation to the top of the list, remembers the model (with `remember_model`) and gives
        an untitled conversation its title. Raises `ConversationGone` if the conversation is not the user's (any
        more).
        """
        now = utcnow()
        reply_id = assistant_message_id or new_id()
        touched = c.execute(
            _TOUCH,
            {
                "cid": conversation_id,
                "uid": user_id,
                "now": now,
                "model": model if remember_model else None,
                "title": title_if_untitled,
                "leaf": reply_id,
            },
        )
        if touched.rowcount == 0:
            raise ConversationGone(conversation_id)
        common = {"conversation_id": conversation_id, "completion_tokens": None, "prompt_tokens": None, "error": None}
        rows: list[dict[str, Any]] = []
        question_id = None
        parts: list[dict[str, Any]] = []
        if content is not None:
            question_id = user_message_id or new_id()
            parts = parts_rows(question_id, message_parts(content, file_ids))
            rows.append(
                {
                    **common,
                    "id": question_id,
                    "parent_id": parent_id,
                    "role": "user",
                    "content": content,
                    "status": MessageStatus.DONE,
                    "model": None,
                    "created_at": now,
                }
            )
        rows.append(
            {
                **common,
                "id": reply_id,
                "parent_id": question_id or parent_id,
                "role": "assistant",
                "content": "",
                "status": MessageStatus.STREAMING,
                "model": model,
                "created_at": now + timedelta(microseconds=1),
            }
        )
        c.execute(_INSERT_MESSAGE, rows)
        write_parts(c, parts)  # the reply's are written when it ends (storage.parts)
        if content is not None:
            mark_attached(c, file_ids)
        return question_id, reply_id

    start_exchange = grouped(exchange_in)

    @statements
    def note_files(self, c: Connection, message_id: str, notes: Mapping[str, Mapping[str, Any]]) -> None:
        """Keep, on the message's file parts, what became of each file on its way to the model (`data`, PARTS.md):
        `notes` maps a file id to its part's data."""
        note_files(c, message_id, notes)

    @statements
    def checkpoint(
        self, c: Connection, contents: Mapping[str, str], parts: Mapping[str, Sequence[Part]] | None = None
    ) -> None:
        """Write the text so far of several streaming replies at once (a finished or deleted reply is skipped).

        A reply that thinks or calls tools (`parts`: its parts so far, reasoning, text and tool steps) also gets its
        parts written, so a crash keeps them (a call without its result reads as interrupted); a reply of text
        alone keeps no part rows until it ends (PARTS.md), and its checkpoint stays one UPDATE.
        """
        if contents:
            c.execute(_CHECKPOINT, [{"mid": k, "text": v} for k, v in contents.items()])
        for message_id, written in (parts or {}).items():
            if c.execute(_IS_STREAMING, {"mid": message_id}).first() is not None:
                replace_parts(c, message_id, written)

    @grouped
    def finish_message(
        self,
        c: Connection,
        message_id: str,
        *,
        content: str,
        status: str,
        completion_tokens: int | None,
        prompt_tokens: int | None = None,
        error: str | None = None,
        reasoning: Part | None = None,
        cut_off: bool = False,
        parts: Sequence[Part] | None = None,
        sources: Part | None = None,
    ) -> None:
        """Write a reply's final state, once: its text, and its parts (its reasoning if it thought, then one text
        part; or `parts`, a reply's with tool steps; then the knowledge passages it was given; none if it was
        deleted)."""
        finished = c.execute(
            _FINISH,
            {
                "mid": message_id,
                "content": content,
                "status": status,
                "completion_tokens": completion_tokens,
                "prompt_tokens": prompt_tokens,
                "error": error,
                "cut_off": cut_off,
            },
        )
        if finished.rowcount:
            written = parts if parts is not None else [*([reasoning] if reasoning else []), Part.of_text(content)]
            replace_parts(c, message_id, [*written, *([sources] if sources else [])])


_conversations, _messages, _parts = Conversation.__table__, Message.__table__, MessagePart.__table__
_CONVERSATION_OF = select(
    _conversations.c.model,
    _conversations.c.system_prompt,
    _conversations.c.temperature,
    _conversations.c.max_tokens,
    _conversations.c.top_p,
    _conversations.c.seed,
    _conversations.c.reasoning_effort,
    _conversations.c.tools,
    _conversations.c.knowledge,
    _conversations.c.active_message_id,
).where(_conversations.c.id == bindparam("cid"), _conversations.c.user_id == bindparam("uid"))
_TITLE_OF = select(_conversations.c.title).where(
    _conversations.c.id == bindparam("cid"), _conversations.c.user_id == bindparam("uid")
)
_OWNER = select(_conversations.c.user_id).where(_conversations.c.id == bindparam("cid"))
_MESSAGE = select(_messages.c.id, _messages.c.parent_id, _messages.c.role).where(
    _messages.c.id == bindparam("mid"), _messages.c.conversation_id == bindparam("cid")
)
_REPLY = select(
    _messages.c.id,
    _messages.c.parent_id,
    _messages.c.role,
    _messages.c.status,
    _messages.c.content,
    _messages.c.completion_tokens,
).where(_messages.c.id == bindparam("mid"), _messages.c.conversation_id == bindparam("cid"))
_BUMP = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("cid"), _conversations.c.user_id == bindparam("uid"))
    .values(updated_at=bindparam("now"))
)
_RESUME = (
    update(_messages)
    .where(
        _messages.c.id == bindparam("mid"),
        _messages.c.conversation_id == bindparam("cid"),
        _messages.c.status != MessageStatus.STREAMING,
    )
    .values(status=MessageStatus.STREAMING, model=bindparam("model"), error=None, cut_off=False)
)
_REASONING_OF = select(_parts.c.text).where(
    _parts.c.message_id == bindparam("mid"), _parts.c.kind == PartKind.REASONING
)
_FILES_OF = (
    select(_parts.c.file_id)
    .where(_parts.c.message_id == bindparam("mid"), _parts.c.kind == PartKind.FILE)
    .order_by(_parts.c.position)
)
_TOUCH = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("cid"), _conversations.c.user_id == bindparam("uid"))
    .values(
        updated_at=bindparam("now"),
        model=func.coalesce(bindparam("model", type_=String), _conversations.c.model),
        title=func.coalesce(_conversations.c.title, bindparam("title", type_=String)),
        active_message_id=bindparam("leaf"),
    )
)
_INSERT_MESSAGE = insert(_messages)
_CHECKPOINT = (
    update(_messages)
    .where(_messages.c.id == bindparam("mid"), _messages.c.status == MessageStatus.STREAMING)
    .values(content=bindparam("text"))
)
_IS_STREAMING = select(_messages.c.id).where(
    _messages.c.id == bindparam("mid"), _messages.c.status == MessageStatus.STREAMING
)
_FINISH = (
    update(_messages)
    .where(_messages.c.id == bindparam("mid"))
    .values(
        content=bindparam("content"),
        status=bindparam("status"),
        completion_tokens=bindparam("completion_tokens"),
        prompt_tokens=bindparam("prompt_tokens"),
        error=bindparam("error"),
        cut_off=bindparam("cut_off"),
    )
)
