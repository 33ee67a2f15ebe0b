"""Imported chats that continue: one whose model is not available here opens on the model a new chat would start
on and says which model wrote it; its imported replies keep their model's name."""

from __future__ import annotations

import json

import pytest
from nicegui import ElementFilter, ui
from nicegui.testing import User

from testing.exports import chatgpt_conversation, chatui_conversation
from testing.fakes.server import Script, ScriptedProvider
from testing.waiting import until
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")


async def import_export(user: User, content: dict | list) -> str:
    """Import through the API, as the account menu's Import does; the one conversation's id."""
    files = {"file": ("export.json", json.dumps(content).encode(), "application/json")}
    started = await user.http_client.post("/api/import", files=files)
    assert started.status_code == 202, started.text
    job = started.json()["job_id"]

    async def ended() -> dict | None:
        state = (await user.http_client.get(f"/api/import/{job}")).json()
        return None if state["status"] == "running" else state

    state = await until(ended, within=20, what="the import ending")
    assert state["status"] == "done", state
    [conversation] = (await user.http_client.get("/api/conversations")).json()
    return str(conversation["id"])


def picker_value(user: User) -> str:
    with user:
        [picker] = ElementFilter(kind=ui.select)
    return str(picker.value)


async def test_an_import_on_a_model_missing_here_continues_on_a_new_chats_model(
    user: User, fake_ollama: ScriptedProvider
) -> None:
    exported = chatui_conversation(1, 2, 40)
    exported["model"] = "openai:gpt-4o"  # not configured here
    exported["messages"][1]["model"] = "openai:gpt-4o"
    await register_and_sign_in(user)
    conversation = await import_export(user, {"format": "chatui/1", "conversations": [exported]})

    await user.open(f"/chat/{conversation}")
    await user.should_see("Imported: written with openai:gpt-4o; it continues on ollama:llama3.2:3b.", retries=30)
    await user.should_not_see(marker="provider-banner")  # nothing wrong: it answers
    assert picker_value(user) == "ollama:llama3.2:3b"
    stored = (await user.http_client.get(f"/api/conversations/{conversation}")).json()
    assert stored["model"] == "ollama:llama3.2:3b"
    assert [m["model"] for m in stored["messages"]] == [None, "openai:gpt-4o"]  # the imported reply keeps its name

    fake_ollama.then(Script(tokens=["It", " continues."]))
    await send(user, "And then?")
    await user.should_see("It continues.", retries=50)
    replies = (await user.http_client.get(f"/api/conversations/{conversation}")).json()["messages"]
    assert replies[-1]["model"] == "ollama:llama3.2:3b" and replies[1]["model"] == "openai:gpt-4o"


async def test_a_chatgpt_import_says_which_model_wrote_it(user: User) -> None:
    await register_and_sign_in(user)
    conversation = await import_export(user, [chatgpt_conversation()])
    await user.open(f"/chat/{conversation}")
    await user.should_see("Imported: written with openai:gpt-4o; it continues on ollama:llama3.2:3b.", retries=30)
    note = user.find(marker="dismiss-note")
    note.click()
    await user.should_not_see(marker="fallback-note", retries=10)


async def test_a_conversation_made_here_is_never_moved(user: User, fake_ollama: ScriptedProvider) -> None:
    await register_and_sign_in(user)
    fake_ollama.then(Script(tokens=["Hi."]))
    await send(user, "Hello")
    await user.should_see("Hi.", retries=50)
    [conversation] = (await user.http_client.get("/api/conversations")).json()
    fake_ollama.models = ["qwen2.5:0.5b"]  # its model is gone now
    await user.http_client.get("/api/models?refresh=true")
    await user.open(f"/chat/{conversation['id']}")
    await user.should_see("The model llama3.2:3b is not pulled", retries=30)  # the banner, not a silent move
    await user.should_not_see("Imported:")
    assert picker_value(user) == "ollama:llama3.2:3b"
