"""Hybrid retrieval in a live server (CHATUI_EMBEDDING_MODEL against the fake Ollama's `/api/embed`): embedding's
progress in `GET /api/knowledge/{id}`, and a chat whose question shares no word with the passage that answers it
asks the model with that passage (checked at the fake provider)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testing.fakes.server import Script, ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from testing.waiting import until
from tests.api.test_knowledge_chat import collection_with, system_prompt
from tests.api.test_search_api import send

ANSWER = b"# Car care\n\nAutomobile maintenance: change the engine oil every 5,000 miles.\n"
DISTRACTOR = b"# Front desk\n\nThe help desk service opens at nine.\n"
QUESTION = "How often does a car need servicing?"


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    yield from module_app(
        tmp_path_factory, ollama_server[1].url, "hybrid", CHATUI_EMBEDDING_MODEL="ollama:nomic-embed-text"
    )


async def all_embedded(account, cid: str, chunks: int, *, within: float = 10.0) -> dict:
    """The collection (`GET /api/knowledge/{cid}`) once its `chunks` chunks are embedded in the background."""

    async def embedded() -> dict | None:
        body = (await account.client.get(f"/api/knowledge/{cid}")).json()
        progress = body["embedding"]
        return body if progress["embedded"] == progress["chunks"] == chunks else None

    return await until(embedded, within=within, what=f"{chunks} chunks embedded in the background")


async def ask_with(account, live_app, fake_ollama, cid: str, question: str) -> tuple[str, str]:
    """A new chat with the collection attached asks `question`: the chat's id and the system prompt the fake got."""
    conversation_id = await account.new_conversation()
    await account.client.patch(f"/api/conversations/{conversation_id}", json={"knowledge": [cid]})
    fake_ollama.then(Script(tokens=["Every 5,000 miles [1]."]))
    await send(account, live_app, conversation_id, question)
    return conversation_id, system_prompt(fake_ollama.requests[-1])


async def test_progress_is_shown_and_a_question_in_other_words_gets_the_passage(live_app, make_account, fake_ollama):
    fake_ollama.embedder.synonyms = {"car": "automobile", "servicing": "maintenance", "often": "every"}
    alice = await make_account()
    cid = await collection_with(alice, ("car.md", ANSWER), ("desk.md", DISTRACTOR))
    body = await all_embedded(alice, cid, 2)
    assert body["embedding"] == {"model": "ollama:nomic-embed-text", "embedded": 2, "chunks": 2, "error": None}
    assert [d["embedded"] for d in body["documents"]] == [1, 1]
    assert sorted(fake_ollama.embedder.texts) == sorted(
        [
            "Car care\n\n" + ANSWER.decode().split("\n\n", 1)[1].strip(),
            "Front desk\n\n" + DISTRACTOR.decode().split("\n\n", 1)[1].strip(),
        ]
    )

    _, system = await ask_with(alice, live_app, fake_ollama, cid, QUESTION)
    assert "Automobile maintenance: change the engine oil every 5,000 miles." in system
    assert fake_ollama.embedder.texts[-1].startswith(QUESTION)  # the question was embedded, through /api/embed
