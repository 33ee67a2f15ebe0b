"""The app's services built in-process (real SQLite file, fake Ollama over loopback HTTP), without pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from limits.aio.storage import MemoryStorage

from chatui.bootstrap import Services, build_services
from chatui.config import Settings
from chatui.conversations.service import ConversationService
from chatui.conversations.titles import TitleWriter
from chatui.coordination.throttles import Throttle
from chatui.engine.engine import EngineOptions, GenerationEngine
from chatui.engine.events import ConversationEvents
from providers.registry import ModelRegistry
from storage import AccountRepository, ConversationRepository, Database, SearchRepository, User, mark_interrupted
from storage.undo import UndoShelf
from testing.fakes.inprocess import InProcessProvider
from testing.fakes.server import ScriptedProvider


@pytest.fixture
async def services(tmp_path: Path, fake_ollama: ScriptedProvider) -> AsyncIterator[Services]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        ollama_base_url=fake_ollama.url,  # type: ignore[attr-defined]
        bcrypt_rounds=4,
        checkpoint_seconds=0.1,
        provider_retries=0,
        messages_per_minute=1000,
        conversations_per_minute=1000,
        ai_titles=False,  # on in the tests of titles only: elsewhere it would add provider requests
    )
    built = build_services(settings)
    built.prepare()
    await built.start()
    yield built
    await built.stop()


@pytest.fixture
async def alice(services: Services):
    return await services.store.accounts.create_user("alice", await services.auth.hasher.hash("password123"))


@dataclass
class Fast:
    """The conversation service and engine on a real SQLite file, with the in-process fake provider."""

    db: Database
    accounts: AccountRepository
    chats: ConversationRepository
    engine: GenerationEngine
    conversations: ConversationService
    provider: InProcessProvider
    events: ConversationEvents

    async def user(self, name: str = "alice") -> User:
        return await self.accounts.create_user(name, "hash")


@pytest.fixture
async def fast(tmp_path: Path) -> AsyncIterator[Fast]:
    """Fast service tests: no HTTP, no server; 1,000 messages a minute; no AI titles (see `fast_titled`)."""
    db = Database(f"sqlite:///{tmp_path / 'database.db'}")
    db.prepare(mark_interrupted)
    accounts, chats = AccountRepository(db), ConversationRepository(db)
    provider = InProcessProvider()
    models = ModelRegistry({"ollama": provider}, "ollama:llama3.2:3b")
    events = ConversationEvents()
    engine = GenerationEngine(
        chats,
        models,
        Throttle("messages", 1000, 60, MemoryStorage()),
        EngineOptions(checkpoint_seconds=0.05, provider_retries=0, prompt_max_chars=120_000),
        events,
    )
    conversations = ConversationService(
        chats,
        engine,
        models,
        events,
        accounts=accounts,
        max_message_chars=32_000,
        search=SearchRepository(db),
        shelf=UndoShelf(db),
    )
    await engine.start()
    yield Fast(db, accounts, chats, engine, conversations, provider, events)
    await conversations.aclose()
    await engine.shutdown()
    await db.close()


@pytest.fixture
async def fast_titled(fast: Fast) -> AsyncIterator[Fast]:
    """`fast` with AI titles on, capped at 0.5 s."""
    titles = TitleWriter(fast.chats, fast.engine.models, timeout=0.5)
    conversations = ConversationService(
        fast.chats,
        fast.engine,
        fast.engine.models,
        fast.events,
        titles,
        accounts=fast.accounts,
        max_message_chars=32_000,
        search=SearchRepository(fast.db),
        shelf=UndoShelf(fast.db),
    )
    yield replace(fast, conversations=conversations)
    await conversations.aclose()
