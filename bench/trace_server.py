"""Run `main.py` unchanged, with timers around the steps of a reply, or with one setting changed (diagnosis only).

    CHATUI_BENCH_TRACE=/tmp/trace.jsonl python -m bench.trace_server --port 8001 --no-browser --data-dir DIR

With CHATUI_BENCH_TRACE, each wrapped call appends one JSON line `{"name", "start", "end"}` (time.perf_counter of the
server process; CLOCK_MONOTONIC, comparable with the client's) to that file. Wrapped: the socket's frame handler,
`engine.send` and its steps (throttle, three repository calls), the reply task, the provider stream's first event,
the first `publish` of each reply, every `/ws` `send_text`, checkpoints and each reply's final write.
`bench.ttft --trace`, `bench.concurrent_ws --trace` and `bench.ui_pages --trace` start the server this way.

Experiments (to test a recommended change without editing the app):

    CHATUI_BENCH_DB_POOL=1+0          SQLAlchemy pool_size + max_overflow of the app's engine (the app uses 8+8)
    CHATUI_BENCH_PROVIDER_LIMIT=none  the Ollama client's httpx connection limit (httpx's default is 100)
    CHATUI_BENCH_WS_DEFLATE=0         uvicorn's `ws_per_message_deflate` (on by default): no frame compression
    CHATUI_BENCH_WS_COALESCE=1        the `/ws` writer merges token frames already queued for one reply into one frame
                                      (breaks "one frame per delta": measures what fewer frames would gain, no more)
    CHATUI_BENCH_ONE_HOP=1            a message's database work (get_conversation + start_exchange + messages) and
                                      a reply's final write as ONE synchronous SQLAlchemy function each, on one
                                      dedicated DB thread (one event-loop round-trip instead of 6-24 aiosqlite hops)
"""

from __future__ import annotations

import functools
import json
import os
import runpy
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_TRACE = os.environ.get("CHATUI_BENCH_TRACE")
_out = open(_TRACE, "a", buffering=1) if _TRACE else None  # noqa: SIM115 - open for the process's lifetime


def _record(name: str, start: float, end: float) -> None:
    if _out is not None:
        _out.write(json.dumps({"name": name, "start": start, "end": end}) + "\n")


def span(owner: Any, attribute: str, name: str) -> None:
    """Time every await of `owner.attribute` (a coroutine function)."""
    original = getattr(owner, attribute)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            _record(name, start, time.perf_counter())

    setattr(owner, attribute, wrapper)


def first_item(owner: Any, attribute: str, name: str) -> None:
    """Time from calling `owner.attribute` (an async generator function) to its first item."""
    original: Callable[..., AsyncIterator[Any]] = getattr(owner, attribute)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        start = time.perf_counter()
        first = True
        async for item in original(*args, **kwargs):
            if first:
                _record(name, start, time.perf_counter())
                first = False
            yield item

    setattr(owner, attribute, wrapper)


def install() -> None:
    from starlette.websockets import WebSocket

    from chatui.api.ws import ConversationSocket
    from chatui.engine import GenerationEngine
    from chatui.generation import Generation
    from chatui.ratelimit import Throttle
    from providers.ollama import OllamaProvider
    from storage import ChatRepository

    span(ConversationSocket, "_handle", "ws.handle")
    span(GenerationEngine, "send", "engine.send")
    span(GenerationEngine, "_run", "engine._run (whole reply)")
    span(Throttle, "hit", "throttle.hit")
    span(ChatRepository, "prompt_history", "db.prompt_history")
    span(ChatRepository, "start_exchange", "db.start_exchange")
    span(ChatRepository, "messages", "db.messages")
    span(ChatRepository, "checkpoint", "db.checkpoint")
    span(ChatRepository, "finish_message", "db.finish_message")
    first_item(OllamaProvider, "stream", "provider.stream → first event")
    span(WebSocket, "send_text", "ws.send_text")

    publish = Generation.publish

    def traced_publish(self: Generation, text: str) -> None:
        if not self.chunks:
            now = time.perf_counter()
            _record("generation.first_publish", now, now)
        publish(self, text)

    Generation.publish = traced_publish  # type: ignore[method-assign]


def experiments() -> None:
    if os.environ.get("CHATUI_BENCH_WS_DEFLATE") == "0":
        import uvicorn.config

        config_init = uvicorn.config.Config.__init__

        def no_deflate(self: Any, *args: Any, **kwargs: Any) -> None:
            config_init(self, *args, **{**kwargs, "ws_per_message_deflate": False})

        uvicorn.config.Config.__init__ = no_deflate  # type: ignore[method-assign]
    if os.environ.get("CHATUI_BENCH_WS_COALESCE") == "1":
        coalesce_ws_frames()
    pool = os.environ.get("CHATUI_BENCH_DB_POOL")
    if pool:
        import storage.database

        size, overflow = (int(x) for x in pool.split("+"))
        create = storage.database.create_async_engine

        def create_engine(url: Any, **kwargs: Any) -> Any:
            if "pool_size" in kwargs:  # the app's engine (the start-up one uses NullPool)
                kwargs.update(pool_size=size, max_overflow=overflow)
            return create(url, **kwargs)

        storage.database.create_async_engine = create_engine  # type: ignore[assignment]
    if os.environ.get("CHATUI_BENCH_PROVIDER_LIMIT") == "none":
        import httpx

        from providers.ollama import OllamaProvider

        init = OllamaProvider.__init__

        def patched_init(self: OllamaProvider, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            timeout = self._client.timeout
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, limits=limits)

        OllamaProvider.__init__ = patched_init  # type: ignore[method-assign]


def coalesce_ws_frames() -> None:
    """CHATUI_BENCH_WS_COALESCE: the writer of `chatui.api.ws.ConversationSocket`, merging queued token frames."""
    from starlette.websockets import WebSocketDisconnect

    from chatui.api.ws import ConversationSocket

    def mergeable(first: dict[str, Any], other: Any) -> bool:
        return (
            isinstance(other, dict)
            and other.get("type") == "token"
            and other.get("message_id") == first.get("message_id")
            and other.get("replay") == first.get("replay")
        )

    async def _write(self: ConversationSocket) -> None:
        try:
            while True:
                frame = await self._outbox.get()
                if frame is None:
                    break
                if frame.get("type") == "token":
                    parts = [frame["token"]]
                    while not self._outbox.empty() and mergeable(frame, self._outbox._queue[0]):  # type: ignore[attr-defined]
                        parts.append(self._outbox.get_nowait()["token"])  # type: ignore[index]
                    frame = {**frame, "token": "".join(parts)}
                await self.websocket.send_text(json.dumps(frame))
            if self._closing:
                await self.websocket.close(code=1008)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass

    ConversationSocket._write = _write  # type: ignore[method-assign]


def one_hop() -> None:
    """CHATUI_BENCH_ONE_HOP: see the module docstring. Same SQL and ORM models, different threading."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timedelta

    from sqlalchemy import create_engine, event, select, update
    from sqlalchemy.orm import sessionmaker

    from chatui import engine as engine_module
    from chatui.generation import Generation
    from providers.registry import qualify_model_id
    from storage import ChatRepository, ConversationGone
    from storage.chats import Exchange
    from storage.database import _set_sqlite_pragmas
    from storage.models import Conversation, Message, MessageStatus, new_id, utcnow

    executor = ThreadPoolExecutor(1, thread_name_prefix="chatui-db")
    sync_sessions: dict[str, sessionmaker[Any]] = {}

    def sessions_for(chats: ChatRepository) -> sessionmaker[Any]:
        url = chats._sessions.kw["bind"].url
        key = str(url)
        if key not in sync_sessions:
            sync_engine = create_engine(url.set(drivername="sqlite"))
            event.listen(sync_engine, "connect", _set_sqlite_pragmas)
            sync_sessions[key] = sessionmaker(sync_engine, expire_on_commit=False)
        return sync_sessions[key]

    def start_sync(sessions: Any, user_id: str, conversation_id: str, content: str, model: str | None, default: str):
        now = utcnow()
        with sessions() as s, s.begin():
            conversation = s.execute(
                select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)
            ).scalar_one_or_none()
            if conversation is None:
                raise ConversationGone(conversation_id)
            model_id = qualify_model_id(model or conversation.model or default)
            user_message = Message(
                id=new_id(),
                conversation_id=conversation_id,
                role="user",
                content=content,
                status=MessageStatus.DONE,
                created_at=now,
            )
            assistant_message = Message(
                id=new_id(),
                conversation_id=conversation_id,
                role="assistant",
                content="",
                status=MessageStatus.STREAMING,
                model=model_id,
                created_at=now + timedelta(microseconds=1),
            )
            s.add_all([user_message, assistant_message])
            conversation.updated_at = now
            conversation.model = model_id
            if conversation.title is None:
                conversation.title = engine_module.title_from_message(content)
            s.flush()
            history = list(
                s.execute(
                    select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at)
                ).scalars()
            )
        return Exchange(user_message, assistant_message, conversation), history, model_id

    import dataclasses

    generation_fields = {f.name for f in dataclasses.fields(Generation)}

    async def _start(
        self: Any, user_id: str, conversation_id: str, content: str, model: str | None, session_id: str | None = None
    ) -> Generation:
        loop = asyncio.get_running_loop()
        exchange, history, model_id = await loop.run_in_executor(
            executor, start_sync, sessions_for(self.chats), user_id, conversation_id, content, model,
            self.models.default_model,
        )  # fmt: skip
        extra = {"session_id": session_id} if "session_id" in generation_fields else {}
        generation = Generation(
            conversation_id=conversation_id,
            user_id=user_id,
            message_id=exchange.assistant_message.id,
            user_message_id=exchange.user_message.id,
            user_content=content,
            model=model_id,
            **extra,
        )
        self._active[conversation_id] = generation
        prompt = engine_module._prompt(history, exclude=generation.message_id)
        generation.task = asyncio.create_task(self._run(generation, prompt), name=f"reply-{generation.message_id}")
        for watcher in list(self._watchers.get(conversation_id, ())):
            watcher(generation)
        return generation

    def finish_sync(sessions: Any, message_id: str, values: dict[str, Any]) -> None:
        with sessions() as s, s.begin():
            s.execute(update(Message).where(Message.id == message_id).values(**values))

    async def finish_message(self: ChatRepository, message_id: str, **values: Any) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(executor, finish_sync, sessions_for(self), message_id, values)

    engine_module.GenerationEngine._start = _start  # type: ignore[method-assign]
    ChatRepository.finish_message = finish_message  # type: ignore[method-assign]


if __name__ == "__main__":
    if os.environ.get("CHATUI_BENCH_SWITCH_INTERVAL"):
        sys.setswitchinterval(float(os.environ["CHATUI_BENCH_SWITCH_INTERVAL"]))
    experiments()
    if os.environ.get("CHATUI_BENCH_ONE_HOP") == "1":
        one_hop()
    if _out is not None:
        install()
    sys.argv = [str(ROOT / "main.py"), *sys.argv[1:]]
    runpy.run_path(str(ROOT / "main.py"), run_name="__main__")
