"""Knowledge as a person uses it (issue 25), with NiceGUI's `user` fixture: collections and their documents' states
on the Knowledge page, the administrator's share switch, `#` in the message box attaching and detaching a collection,
and a document opened at a passage."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.pages.test_chat_flow import register_and_sign_in
from tests.pages.test_prompts_ui import box

pytestmark = pytest.mark.usefixtures("app_env")
T = TypeVar("T")

GUIDE = b"# Guide\n\n## Roses\n\nPrune roses in late winter.\n\n## Tomatoes\n\nWater deeply twice a week.\n"


async def collection_with_files(user: User, name: str, *files: tuple[str, bytes]) -> str:
    cid = (await user.http_client.post("/api/knowledge", json={"name": name})).json()["id"]
    upload = [("file", (n, content, "application/octet-stream")) for n, content in files]
    assert (await user.http_client.post(f"/api/knowledge/{cid}/documents", files=upload)).status_code == 201
    for _ in range(200):
        documents = (await user.http_client.get(f"/api/knowledge/{cid}")).json()["documents"]
        if all(d["status"] != "pending" for d in documents):
            return str(cid)
        await asyncio.sleep(0.05)
    raise AssertionError("the documents were not read")


async def test_the_knowledge_page_shows_each_documents_state_and_the_admin_can_share(user: User) -> None:
    await register_and_sign_in(user)  # the first account: the administrator
    await collection_with_files(user, "Garden", ("guide.md", GUIDE), ("broken.pdf", b"%PDF-1.4 nothing"))
    await user.open("/knowledge")
    await user.should_see("Garden")
    await user.should_see("Ready · 2 passages")
    await user.should_see("Failed: The PDF is damaged and cannot be read.")
    user.find(marker="share-collection").click()
    await user.should_see("Garden is now readable by every account.")
    [listed] = (await user.http_client.get("/api/knowledge")).json()
    assert listed["shared"] is True

    user.find(marker="new-collection-name").type("Kitchen")
    user.find(marker="create-collection").click()
    await user.should_see("Kitchen", retries=20)
    assert [c["name"] for c in (await user.http_client.get("/api/knowledge")).json()] == ["Kitchen", "Garden"]


async def test_hash_attaches_a_collection_and_its_chip_detaches_it(user: User) -> None:
    await register_and_sign_in(user)
    cid = await collection_with_files(user, "Garden", ("guide.md", GUIDE))
    conversation_id = (await user.http_client.post("/api/conversations", json={})).json()["id"]
    await user.open(f"/chat/{conversation_id}")
    box(user).set_value("About #gar")
    await user.should_see(marker="knowledge-option")
    user.find(marker="knowledge-option").click()
    await user.should_see(marker="knowledge-chip", retries=20)
    assert box(user).value == "About"
    shown = (await user.http_client.get(f"/api/conversations/{conversation_id}")).json()
    assert shown["knowledge"] == [cid]

    chip = user.find(marker="knowledge-chip").elements.pop()
    assert isinstance(chip, ui.chip)
    chip.set_value(False)  # its ✕
    assert await attached_soon(user, conversation_id, []) == []
    assert await until(lambda: chips(user), []) == []


async def test_a_document_opens_at_its_cited_passage_and_a_missing_one_is_404(user: User) -> None:
    await register_and_sign_in(user)
    cid = await collection_with_files(user, "Garden", ("guide.md", GUIDE))
    [document] = (await user.http_client.get(f"/api/knowledge/{cid}")).json()["documents"]
    await user.open(f"/knowledge/document/{document['id']}?chunk=2")
    await user.should_see("Guide › Tomatoes")
    shown = user.find(marker="document").elements.pop()
    assert isinstance(shown, ui.html)
    assert '<mark id="chunk-2" class="chatui-passage-cited" data-cited="1">Water deeply twice a week.</mark>' in (
        shown.content
    )
    assert (await user.http_client.get("/knowledge/document/not-a-document")).status_code == 404


async def test_hash_offers_single_documents_too(user: User) -> None:
    await register_and_sign_in(user)
    cid = await collection_with_files(user, "Garden", ("guide.md", GUIDE))
    [document] = (await user.http_client.get(f"/api/knowledge/{cid}")).json()["documents"]
    conversation_id = (await user.http_client.post("/api/conversations", json={})).json()["id"]
    await user.open(f"/chat/{conversation_id}")
    box(user).set_value("#guide")
    await user.should_see("#guide.md")
    await user.should_see("in Garden")
    user.find(marker="knowledge-option").click()
    await user.should_see(marker="knowledge-chip", retries=20)
    shown = (await user.http_client.get(f"/api/conversations/{conversation_id}")).json()
    assert shown["knowledge"] == [document["id"]]


async def until(read: Callable[[], T | Awaitable[T]], wanted: T, seconds: float = 10) -> T:
    """What `read` gives once it gives `wanted`, or at the deadline (what it gives then, for the assertion to show):
    an event the test cannot await directly, polled instead of slept on."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = read()
        got = await value if inspect.isawaitable(value) else value
        if got == wanted or asyncio.get_running_loop().time() > deadline:
            return cast(T, got)
        await asyncio.sleep(0.02)


async def attached_soon(user: User, conversation_id: str, wanted: list[str]) -> list[str]:
    """The conversation's attached knowledge as the API reads it, once it is `wanted` (or at the deadline)."""

    async def read() -> list[str]:
        return list((await user.http_client.get(f"/api/conversations/{conversation_id}")).json()["knowledge"])

    return await until(read, wanted)


def chips(user: User) -> list[tuple[str, str, str]]:
    """Each knowledge chip above the box as the person sees it: its name, what it is, and its icon."""
    shown = []
    try:
        found = user.find(marker="knowledge-chip").elements
    except AssertionError:  # none on the page
        return []
    for chip in found:
        assert isinstance(chip, ui.chip) and chip.props["removable"]
        [kind] = [child for child in chip.default_slot.children if isinstance(child, ui.label)]
        shown.append((chip.text, kind.text, str(chip.props["icon"])))
    return shown


async def test_a_single_document_is_shown_and_removed_like_a_collection_but_named_a_document(user: User) -> None:
    await register_and_sign_in(user)
    cid = await collection_with_files(user, "Garden", ("guide.md", GUIDE))
    [document] = (await user.http_client.get(f"/api/knowledge/{cid}")).json()["documents"]
    conversation_id = (await user.http_client.post("/api/conversations", json={})).json()["id"]
    patched = await user.http_client.patch(
        f"/api/conversations/{conversation_id}", json={"knowledge": [document["id"], cid]}
    )
    assert patched.status_code == 200
    await user.open(f"/chat/{conversation_id}")
    both = [("#Garden", "collection", "menu_book"), ("#guide.md", "document in Garden", "description")]
    assert await until(lambda: sorted(chips(user)), both) == both

    [chip] = [
        c for c in user.find(marker="knowledge-chip").elements if isinstance(c, ui.chip) and c.text == "#guide.md"
    ]
    chip.set_value(False)  # its ✕
    assert await attached_soon(user, conversation_id, [cid]) == [cid]
    # The chips are drawn when the save returns, which may be just after the API already reads the new list.
    assert await until(lambda: chips(user), [("#Garden", "collection", "menu_book")]) == [
        ("#Garden", "collection", "menu_book")
    ]

    box(user).set_value("#guide")  # offered again, as a document
    await user.should_see("in Garden")
    user.find(marker="knowledge-option").click()
    await user.should_see("Replies in this chat now answer from guide.md (document in Garden).")
    assert sorted(chips(user)) == both  # (`find` gives a set: in no particular order)


@pytest.fixture
def embedding_env(monkeypatch: pytest.MonkeyPatch, app_env: object) -> None:
    """Hybrid retrieval on, through the fake Ollama's `/api/embed`, retried quickly (before `user` builds the app)."""
    monkeypatch.setenv("CHATUI_EMBEDDING_MODEL", "ollama:nomic-embed-text")
    monkeypatch.setenv("CHATUI_EMBEDDING_RETRY_SECONDS", "0.2")


async def test_a_documents_embedding_shows_while_it_waits_and_when_done(embedding_env, user: User, fake_ollama) -> None:
    fake_ollama.embedder.status = 503  # the embedding model fails: the document is ready by its words all the same
    await register_and_sign_in(user)
    await collection_with_files(user, "Garden", ("guide.md", GUIDE))
    await user.open("/knowledge")
    await user.should_see("Ready · 2 passages · embedding 0 of 2, waiting:", retries=40)
    fake_ollama.embedder.status = 200  # back: the next retry embeds both, and the page follows on its own
    await user.should_see("Ready · 2 passages · searchable by meaning", retries=100)
