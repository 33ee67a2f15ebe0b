"""`/ws/{conversation_id}`: send messages and read replies token by token, as the product's spec defines.

Handshake: the session cookie and a conversation of that user, (for browsers) this server's own Origin, and a free
slot under the per-user and per-session socket caps; anything else is refused with HTTP 403 before the upgrade. Every
frame re-checks the session (in memory), and the socket closes when the session is revoked or expires. Frames larger
than `CHATUI_WS_MAX_BYTES` are refused by uvicorn before they are read (close 1009).

    client → server   {"type": "message", "content": "...", ["attachments": ["<file id>", ...]]}
                                                                start a reply (files from POST /api/files)
                      {"type": "regenerate", ["model": "..."]}  a new version of the last reply (also: retry one
                                                                that ended in error, cancelled or interrupted)
                      {"type": "edit", "message_id": "...", "content": "...", ["attachments": [...]]}
                                                                a new version of a user message, then its reply
                                                                (without "attachments" it keeps the message's files)
                      {"type": "continue"}                      more of the last reply (stopped or cut off), appended
                                                                to that same message: its token frames carry only
                                                                the new text
                      {"type": "stop"}                          stop the reply streaming in this conversation
                      {"type": "resume"}                        replay the streaming reply so far, then follow it
                      {"type": "approve", "call_id": "...", "allow": true|false}
                                                                Allow / Deny a tool call waiting for approval
                      {"type": "ping"}                          → {"type": "pong"}
    server → client   {"type": "token", "token": "...", "message_id": "..."}   one per delta, in order
                      {"type": "reasoning", "content": "...", "message_id": "..."}
                                                                the model's reasoning, one per delta, before the
                                                                answer's tokens (a client that ignores it still works)
                      {"type": "tool_call", "call_id", "name", "arguments", "message_id"}   a call the model made
                      {"type": "tool_approval", "call_id", "name", "arguments"}   it waits for "approve"
                      {"type": "tool_result", "call_id", "content", "is_error", "message_id"}   its result (text)
                      {"type": "done", "message_id": "...", "parent_id": "...", "tokens": n,
                       "status": "done|cancelled|error|...", ["usage": {...}]}
                      {"type": "title", "title": "..."}         the conversation's title changed
                      {"type": "error", "error": "<readable>", "code": "<slug>", ["message_id": "..."]}

A socket follows *every* reply in its conversation, whoever started it (another tab, the UI). If a reply is already
streaming when the socket connects (or on `resume`), its text so far arrives first as token frames marked
`"replay": true`, then the live ones: no gap, no duplicate, and `done.tokens` still equals the token frames of the
reply. Its reasoning so far is replayed the same way, before its tokens. Errors are frames; the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from chatui.accounts.auth import COOKIE_NAME
from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError, ConversationNotFound, InvalidInput, Refusal, SendRefused
from chatui.conversations.reply_errors import error_for_reader
from chatui.engine.events import ConversationEvent, ReplyStarted, TitleChanged
from chatui.engine.generation import Generation
from chatui.web.client import same_origin
from storage import MessageStatus

log = logging.getLogger(__name__)
router = APIRouter()

MAX_FRAME_CHARS = 200_000
REFUSAL_CODES = {
    Refusal.EMPTY: "empty_message",
    Refusal.INVALID: "invalid_message",
    Refusal.TOO_LONG: "message_too_long",
    Refusal.BUSY: "busy",
    Refusal.RATE_LIMITED: "rate_limited",
    Refusal.UNAVAILABLE: "unavailable",
    Refusal.NOTHING_TO_REGENERATE: "nothing_to_regenerate",
    Refusal.NOTHING_TO_CONTINUE: "nothing_to_continue",
    Refusal.TOO_MANY_FILES: "too_many_files",
    Refusal.IMAGES_UNSUPPORTED: "images_unsupported",
}


def error_code(exc: ConversationError) -> tuple[str, dict[str, Any]]:
    """A refusal's `/ws` code (`REFUSAL_CODES`, `invalid_<field>`, `not_found`) and what its frame adds."""
    if isinstance(exc, SendRefused):
        return REFUSAL_CODES[exc.reason], ({"retry_after": exc.retry_after} if exc.retry_after else {})
    if isinstance(exc, InvalidInput):
        return f"invalid_{exc.field}", {}
    return "not_found", {}


@router.websocket("/ws/{conversation_id}")
async def conversation_socket(websocket: WebSocket, conversation_id: str) -> None:
    services: Services = websocket.app.state.services
    origin = websocket.headers.get("origin")
    if origin is not None and not same_origin(origin, websocket.headers.get("host")):
        await websocket.close()  # before accept: the upgrade is answered with HTTP 403
        return
    # The session and the conversation's owner are read together (one trip to the database, in one group), or
    # not at all when both were checked in the last seconds (`resolve_socket`, `ConversationService.owner`).
    signed_in, owner = await asyncio.gather(
        services.auth.resolve_socket(websocket.cookies.get(COOKIE_NAME)),
        services.conversations.owner(conversation_id[:64]),
    )
    if signed_in is None or owner != signed_in.user.id:  # signed out, or not this user's conversation: the same 403
        await websocket.close()
        return
    release = await services.sockets.acquire(signed_in.user.id, signed_in.session.id)
    if release is None:  # this user or session holds its maximum of sockets already
        await websocket.close()
        return
    try:
        await websocket.accept()
        session = ConversationSocket(
            websocket, services, signed_in.user.id, signed_in.session.id, conversation_id, admin=signed_in.user.is_admin
        )
        unsubscribe_revoked = services.auth.on_revoked(signed_in, session.close_revoked)
        try:
            await session.run()
        finally:
            unsubscribe_revoked()
    finally:
        release()


class Outbox:
    """The frames waiting for a socket's writer, in order; `None` ends them (what follows it is dropped).

    An `asyncio.Queue` with one reader, minus what a token does not need: the writer takes everything waiting at
    once (one wake-up for a burst of tokens), and its wait is a future of the loop kept here, because on Python 3.11
    each `Queue.get` that waits asks `asyncio.get_running_loop()`, a `getpid` system call, once per token.
    """

    __slots__ = ("_frames", "_loop", "_waiter")

    def __init__(self) -> None:
        self._frames: list[str | None] = []
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, frame: str | None) -> None:
        self._frames.append(frame)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(self) -> list[str] | None:
        """Every frame waiting (after waiting for one); None once the end was put and all before it taken."""
        while not self._frames:
            self._waiter = self._loop.create_future()
            await self._waiter
        frames, self._frames = self._frames, []
        if None in frames:
            frames = frames[: frames.index(None)]
            self._frames = [None]
        # None only ever ends the list, and was cut off above: what is left is text (no copy on a token's path)
        return cast("list[str]", frames) or None


class ConversationSocket:
    """One accepted socket: a reader loop, one writer, and a follower task per reply."""

    def __init__(
        self,
        websocket: WebSocket,
        services: Services,
        user_id: str,
        session_id: str,
        conversation_id: str,
        *,
        admin: bool = False,
    ) -> None:
        self.websocket = websocket
        self.admin = admin
        """Whether the user runs the server: a reply's error then keeps its fix (`error_for_reader`)."""
        self.services = services
        self.conversations = services.conversations
        self.user_id = user_id
        self.session_id = session_id
        self.conversation_id = conversation_id
        self._outbox = Outbox()  # serialized frames; None ends the writer
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._closing = False

    async def run(self) -> None:
        writer = asyncio.create_task(self._write())
        unwatch = self.conversations.subscribe(self.conversation_id, self._event)
        current = await self.conversations.attach(self.conversation_id)
        if current is not None:
            self._follow(current, replay=True)
        try:
            while not self._closing:
                try:
                    received = await self.websocket.receive()
                except (WebSocketDisconnect, RuntimeError):
                    break
                if received["type"] == "websocket.disconnect":
                    break
                if not self.services.auth.alive(self.session_id):  # revoked or expired since the last frame
                    self.close_revoked()
                    break
                text = received.get("text")
                if text is None:
                    self._error("binary_frame", "Frames must be text (JSON), not binary.")
                    continue
                await self._handle(text)
        finally:
            unwatch()
            for task in self._followers.values():
                task.cancel()
            self._outbox.put_nowait(None)
            with contextlib.suppress(Exception):
                await writer

    def close_revoked(self) -> None:
        """The session ended (revoked or expired): close with a policy-violation code."""
        self._closing = True
        self._error("signed_out", "Your session has ended; sign in again.")
        self._outbox.put_nowait(None)

    def _event(self, event: ConversationEvent) -> None:
        if isinstance(event, ReplyStarted):
            self._follow(event.generation, replay=False)
        elif isinstance(event, TitleChanged):
            self._send({"type": "title", "title": event.title})

    def _send(self, frame: dict[str, Any]) -> None:
        self._outbox.put_nowait(json.dumps(frame))

    def _error(self, code: str, error: str, message_id: str | None = None, **extra: Any) -> None:
        frame: dict[str, Any] = {"type": "error", "error": error, "code": code, **extra}
        if message_id is not None:
            frame["message_id"] = message_id
        self._send(frame)

    async def _write(self) -> None:
        send = self.websocket.send_text
        try:
            while (frames := await self._outbox.take()) is not None:
                for frame in frames:
                    await send(frame)
            if self._closing:
                await self.websocket.close(code=1008)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass

    async def _handle(self, text: str) -> None:
        if len(text) > MAX_FRAME_CHARS:
            self._error("message_too_long", f"Frames are limited to {MAX_FRAME_CHARS:,} characters.")
            return
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
            self._error("invalid_json", "That frame is not valid JSON.")
            return
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "message":
            await self._message(frame.get("content"), frame.get("attachments", []))
        elif kind == "regenerate":
            await self._regenerate(frame.get("model"))
        elif kind == "edit":
            await self._edit(frame.get("message_id"), frame.get("content"), frame.get("attachments"))
        elif kind == "continue":
            async with self._refusals():
                await self.conversations.continue_reply(self.user_id, self.conversation_id, session_id=self.session_id)
        elif kind == "stop":
            if self.conversations.stop(self.user_id, self.conversation_id) is None:
                self._error("not_streaming", "No reply is being written in this conversation.")
        elif kind == "resume":
            current = await self.conversations.attach(self.conversation_id)
            if current is None:
                self._error("not_streaming", "No reply is being written in this conversation.")
            elif current.message_id not in self._followers:
                self._follow(current, replay=True)
        elif kind == "approve":
            call_id, allow = frame.get("call_id"), frame.get("allow")
            if not isinstance(call_id, str) or not isinstance(allow, bool):
                self._error("invalid_approval", '"call_id" must be a string and "allow" true or false.')
            elif not self.conversations.approve(self.user_id, self.conversation_id, call_id[:200], allow):
                self._error("not_waiting", "No tool call is waiting for approval under that id.")
        elif kind == "ping":
            self._send({"type": "pong"})
        else:
            self._error(
                "unknown_type",
                'Frame types are "message", "regenerate", "edit", "continue", "stop", "resume", "approve" and "ping".',
            )

    async def _message(self, content: Any, attachments: Any) -> None:
        if not isinstance(content, str):
            self._error("invalid_message", '"content" must be a string.')
            return
        if not _file_ids(attachments):
            self._error("invalid_attachments", '"attachments" must be a list of file ids (from POST /api/files).')
            return
        async with self._refusals():
            await self.conversations.send(
                self.user_id, self.conversation_id, content, session_id=self.session_id, attachments=attachments
            )

    async def _regenerate(self, model: Any) -> None:
        if model is not None and not isinstance(model, str):
            self._error("invalid_model", '"model" must be a string.')
            return
        async with self._refusals():
            await self.conversations.regenerate(self.user_id, self.conversation_id, model, session_id=self.session_id)

    async def _edit(self, message_id: Any, content: Any, attachments: Any) -> None:
        if not isinstance(message_id, str):
            self._error("not_found", '"message_id" must name a message of this conversation.')
            return
        if not isinstance(content, str):
            self._error("invalid_message", '"content" must be a string.')
            return
        if attachments is not None and not _file_ids(attachments):
            self._error("invalid_attachments", '"attachments" must be a list of file ids (from POST /api/files).')
            return
        async with self._refusals():
            await self.conversations.edit(
                self.user_id,
                self.conversation_id,
                message_id[:64],
                content,
                session_id=self.session_id,
                attachments=attachments,
            )

    @contextlib.asynccontextmanager
    async def _refusals(self) -> AsyncIterator[None]:
        """The service's refusals as error frames (the socket stays open unless the conversation is gone)."""
        try:
            yield
        except ConversationNotFound:
            self._error("not_found", "This conversation no longer exists.")
            self._closing = True
            self._outbox.put_nowait(None)
        except ConversationError as exc:
            code, extra = error_code(exc)
            self._error(code, exc.message, **extra)

    def _follow(self, generation: Generation, *, replay: bool) -> None:
        """Forward one reply's tokens; with `replay`, what was written before now is marked as such."""
        if generation.message_id in self._followers:
            return
        replayed = (len(generation.chunks), len(generation.reasoning)) if replay else (0, 0)
        task = asyncio.create_task(self._forward(generation, *replayed))
        self._followers[generation.message_id] = task
        task.add_done_callback(lambda _: self._followers.pop(generation.message_id, None))

    async def _forward(self, generation: Generation, replayed: int, thoughts_replayed: int = 0) -> None:
        message_id = generation.message_id
        # Token frames are the bulk of the traffic: built from a template rather than a dict per token.
        live = '{"type": "token", "token": %s, "message_id": "' + message_id + '"}'
        replay = '{"type": "token", "token": %s, "message_id": "' + message_id + '", "replay": true}'
        thought = '{"type": "reasoning", "content": %s, "message_id": "' + message_id + '"%s}'
        put, dumps, index, thoughts, queued, stepped = self._outbox.put_nowait, json.dumps, 0, 0, None, 0
        async for batch in generation.follow():
            if not batch:  # its place in the local model's line changed, it thought, or a tool step
                events = generation.tool_events
                while stepped < len(events) and events[stepped].at <= index:
                    frame = events[stepped].frame
                    put(dumps(frame if frame["type"] == "tool_approval" else {**frame, "message_id": message_id}))
                    stepped += 1
                while thoughts < len(generation.reasoning):
                    marked = ', "replay": true' if thoughts < thoughts_replayed else ""
                    put(thought % (dumps(generation.reasoning[thoughts]), marked))
                    thoughts += 1
                if generation.queued != queued:
                    queued = generation.queued
                    self._send({"type": "queued", "position": queued or 0, "message_id": message_id})
            for token in batch:
                put((replay if index < replayed else live) % dumps(token))
                index += 1
        if generation.status == MessageStatus.DELETED:
            self._error("not_found", "This conversation was deleted.", message_id)
            self._closing = True
        elif generation.error:
            code = "provider_error" if generation.status == MessageStatus.ERROR else generation.status
            error = error_for_reader(generation.error, admin=self.admin) or generation.error
            self._error(code, error, message_id, reason=generation.error_code or code)
        done: dict[str, Any] = {
            "type": "done",
            "message_id": message_id,
            "parent_id": generation.parent_id,
            "tokens": generation.token_frames,
            "status": generation.status,
        }
        if generation.usage is not None:
            done["usage"] = {
                "prompt_tokens": generation.usage.prompt_tokens,
                "completion_tokens": generation.usage.completion_tokens,
            }
        self._send(done)
        if self._closing:
            self._outbox.put_nowait(None)


def _file_ids(value: Any) -> bool:
    """Whether a frame's `attachments` is a list of file ids (each a short string: a uuid)."""
    return isinstance(value, list) and all(isinstance(item, str) and 0 < len(item) <= 64 for item in value)
