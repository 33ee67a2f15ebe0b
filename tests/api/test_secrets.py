"""Provider keys never reach a page, an API answer, a socket frame or the log — even when a server echoes them."""

from __future__ import annotations

import json

import httpx
from websockets.asyncio.client import connect

from testing.fakes.server import Script
from testing.live import LiveApp
from tests.api.conftest import Account

KEY = "sk-chatui-test-SECRET-4242-abcdefghijklmnop"


async def test_keys_never_leave_the_server(tmp_path, ollama_server, openai_server, fake_openai, fake_ollama):
    _, ollama = ollama_server
    _, openai = openai_server
    env = {
        "OLLAMA_BASE_URL": ollama.url,
        "OPENAI_BASE_URL": f"{openai.url}/v1",
        "OPENAI_API_KEY": KEY,
        "DEFAULT_MODEL": "openai:gpt-4o-mini",
    }
    fake_openai.models = ["gpt-4o-mini"]
    fake_openai.then(
        Script(status=401, error=f"Incorrect API key provided: {KEY}"),  # a careless server echoing the whole key
        Script(status=500, error=f"upstream rejected {KEY}"),
        Script(tokens=["fine"], error_after=1, error=f"mid-stream trouble with {KEY}"),
    )
    app = LiveApp(tmp_path / "data", env).start()
    seen: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=app.url) as client:
            account = await Account.sign_up(client, "keeper")
            conversation_id = await account.new_conversation()
            async with connect(f"{app.ws_url}/ws/{conversation_id}", additional_headers=account.cookie_header) as ws:
                for attempt in range(3):
                    await ws.send(json.dumps({"type": "message", "content": f"try {attempt}"}))
                    while True:
                        raw = await ws.recv()
                        seen.append(str(raw))
                        if json.loads(raw)["type"] == "done":
                            break
            errors = [json.loads(f)["error"] for f in seen if json.loads(f)["type"] == "error"]
            assert len(errors) == 3 and all(errors)  # each failure was reported, readably
            for path in ("/api/models", f"/api/conversations/{conversation_id}", f"/chat/{conversation_id}", "/"):
                response = await client.get(path)
                assert response.status_code == 200
                seen.append(response.text)
            seen.append((await client.get("/openapi.json")).text)
    finally:
        app.stop()
    seen.append(app.log())
    for text in seen:
        assert KEY not in text
        assert "SECRET-4242" not in text
