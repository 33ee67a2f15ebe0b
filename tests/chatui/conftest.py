"""The app's services built in-process (real SQLite file, fake Ollama over loopback HTTP), without pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chatui.bootstrap import Services, build_services
from chatui.config import Settings
from chatui.conversations.service import ConversationService
from chatui.engine.engine import GenerationEngine
from providers import Provider
from storage import ConversationRepository, Database, User
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
class EngineOnly:
    """The app's own wiring (`build_services`) on a real SQLite file, with the in-process fake provider in place of
    the configured ones: no HTTP, no server, no pages."""

    services: Services
    provider: InProcessProvider

    @property
    def conversations(self) -> ConversationService:
        return self.services.conversations

    @property
    def engine(self) -> GenerationEngine:
        return self.services.engine

    @property
    def chats(self) -> ConversationRepository:
        return self.services.store.chats

    @property
    def db(self) -> Database:
        return self.services.store.db

    async def user(self, name: str = "alice") -> User:
        return await self.services.store.accounts.create_user(name, "hash")


async def engine_only_services(
    tmp_path: Path, extra_providers: dict[str, Provider] | None = None, **settings: Any
) -> AsyncIterator[EngineOnly]:
    """`extra_providers`: more in-process providers beside the `ollama` one (e.g. a `local` one)."""
    provider = InProcessProvider()
    built = build_services(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            **{
                "data_dir": tmp_path / "data",
                "checkpoint_seconds": 0.05,
                "provider_retries": 0,
                "messages_per_minute": 1000,
                **settings,
            },
        ),
        providers={"ollama": provider, **(extra_providers or {})},
    )
    built.prepare()
    await built.start()
    yield EngineOnly(built, provider)
    await built.stop()


@pytest.fixture
async def engine_only(tmp_path: Path) -> AsyncIterator[EngineOnly]:
    """Fast service tests: 1,000 messages a minute; no AI titles (see `engine_only_titled`)."""
    async for built in engine_only_services(tmp_path, ai_titles=False):
        yield built


@pytest.fixture
async def engine_only_titled(tmp_path: Path) -> AsyncIterator[EngineOnly]:
    """`engine_only` with AI titles on, capped at 0.5 s."""
    async for built in engine_only_services(tmp_path, ai_titles=True, ai_title_seconds=0.5):
        yield built
