"""What a start does not load (issue 28, BENCHMARKS.md §12): the `openai` and `anthropic` SDKs (+53 MB, 1.2 s) wait
for the first reply through their provider, Alembic for a database that needs migrating, and numpy for an embedding
model (hybrid knowledge retrieval, off by default). Each check is a fresh
interpreter building the app the way `main.py` does, then listing the models of both providers, then telling which
of those modules it holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.fakes.anthropic import FakeAnthropic
from testing.fakes.openai import FakeOpenAI
from testing.live import ROOT

KEY = "sk-test-lazy-4f9a8b7c6d5e4f3a2b1c0d9e"
WATCHED = ("openai", "anthropic", "httpx2", "alembic", "mako", "numpy")

PROBE = f"""
import asyncio, json, sys
from chatui.app import create_app
from chatui.config import Settings

services = create_app(Settings(_env_file=None))

async def listed():
    models, _ = await services.models.models()
    await services.models.aclose()
    return [m.id for m in models if m.available]

ids = asyncio.run(listed())
print(json.dumps({{"listed": ids, "loaded": [name for name in {WATCHED!r} if name in sys.modules]}}))
"""


def start_and_list(data_dir: Path, openai: FakeOpenAI, anthropic: FakeAnthropic) -> dict[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATUI_", "OPENAI_", "ANTHROPIC_"))}
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(
        CHATUI_DATA_DIR=str(data_dir),
        CHATUI_LOCAL_MODEL="off",
        OPENAI_API_KEY=KEY,
        OPENAI_BASE_URL=f"{openai.url}/v1",  # type: ignore[attr-defined]
        ANTHROPIC_API_KEY=KEY,
        ANTHROPIC_BASE_URL=anthropic.url,  # type: ignore[attr-defined]
        OLLAMA_BASE_URL="http://127.0.0.1:9",  # nothing there: listed as unavailable at once
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow  # three fresh interpreters importing the app: ~5 s
def test_a_start_loads_no_provider_sdk_and_alembic_only_to_migrate(
    tmp_path: Path, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_openai.api_key = fake_anthropic.api_key = KEY  # the listings carry the key, or get a 401
    first = start_and_list(tmp_path / "data", fake_openai, fake_anthropic)
    again = start_and_list(tmp_path / "data", fake_openai, fake_anthropic)  # the same database, now current
    for run in (first, again):
        assert {"openai:gpt-4o-mini", "openai:gpt-4.1", "anthropic:claude-haiku-4-5"} <= set(run["listed"])
    assert first["loaded"] == ["alembic", "mako"]  # a new database is migrated
    assert again["loaded"] == []
