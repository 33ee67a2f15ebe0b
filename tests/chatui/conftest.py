"""The app's services built in-process (real SQLite file, fake Ollama over loopback HTTP), without pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatui.config import Settings
from chatui.services import Services, build_services
from tests.fakes.server import ScriptedProvider


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
    )
    built = build_services(settings)
    built.prepare()
    await built.start()
    yield built
    await built.stop()


@pytest.fixture
async def alice(services: Services):
    return await services.accounts.create_user("alice", await services.auth.hasher.hash("password123"))
