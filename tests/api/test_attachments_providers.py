"""A message's files reach each provider in that provider's own wire format, through `/ws` on a live server and the
real clients (httpx for Ollama, the `openai` and `anthropic` SDKs) to the wire-exact fakes: images as Ollama's
`images`, OpenAI's `image_url` data URLs and Anthropic's base64 `image` blocks; text files and PDFs as delimited
blocks of their text. A model that cannot see images is refused before anything is stored; a regenerate sends the
files again; a PDF that would keep its reader busy for minutes is cut at its time limit while the server answers."""

from __future__ import annotations

import base64
import io
import json
import sqlite3
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from testing import attachments
from testing.fakes.anthropic import FakeAnthropic
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import Script, ScriptedProvider, ThreadedServer
from testing.live import LiveApp, all_providers_app
from testing.probe import HealthProbe
from tests.api.conftest import Account
from tests.api.test_tree_ws import detail, frame, until_done

PNG = attachments.png(64, 48)
JPEG = attachments.jpeg(64, 48)
NOTES = b"# Notes\nThe sky is green here.\n"
PDF = attachments.pdf(2)
PDF_SECONDS = 6
"""The server's PDF text time limit here: the heavy PDF waits it out once; the two-page one must be read well within it
even on a machine crowded with other tests (at 2 s, a loaded machine cut it)."""
NOTES_BLOCK = '<file name="notes.md" type="text/markdown">\n# Notes\nThe sky is green here.\n</file>'
PDF_BLOCK = (
    '<file name="report.pdf" type="application/pdf">\n'
    "--- page 1 ---\nPage 1 of the report.\n\n--- page 2 ---\nPage 2 of the report.\n</file>"
)
QUESTION = "What do these show?"
MODELS = {"ollama": "ollama:llava:7b", "openai": "openai:gpt-4o-mini", "anthropic": "anthropic:claude-haiku-4-5"}


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory,
    ollama_server: tuple[ScriptedProvider, ThreadedServer],
    openai_server: tuple[FakeOpenAI, ThreadedServer],
    anthropic_server: tuple[FakeAnthropic, ThreadedServer],
) -> Iterator[LiveApp]:
    yield from all_providers_app(
        tmp_path_factory,
        ollama_server[1].url,
        openai_server[1].url,
        anthropic_server[1].url,
        "to-providers",
        OPENAI_API_KEY="sk-test-key",
        CHATUI_PDF_TEXT_SECONDS=str(PDF_SECONDS),
        CHATUI_TEXT_ONLY_MODELS="openai:gpt-4.1",
    )


@pytest.fixture
def fakes(fake_ollama, fake_openai, fake_anthropic) -> dict[str, Any]:
    fake_ollama.models = ["llava:7b", "llama3.2:3b"]
    fake_ollama.vision_models = {"llava:7b"}
    return {"ollama": fake_ollama, "openai": fake_openai, "anthropic": fake_anthropic}


async def upload(account: Account, name: str, content: bytes) -> str:
    response = await account.client.post("/api/files", files={"file": (name, content, "application/octet-stream")})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def send(live_app: LiveApp, account: Account, conversation_id: str, frame_: dict) -> dict:
    async with account.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps(frame_))
        _, done = await until_done(ws)
    assert done["status"] == "done", done
    return done


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def last_user_message(fake: ScriptedProvider) -> dict:
    return [m for m in fake.requests[-1]["messages"] if m["role"] == "user"][-1]


def on_the_wire(provider: str) -> dict:
    """What the last user message must be, exactly, in each provider's format."""
    text = "\n\n".join([QUESTION, NOTES_BLOCK, PDF_BLOCK])
    if provider == "ollama":
        return {"role": "user", "content": text, "images": [b64(PNG), b64(JPEG)]}
    if provider == "openai":
        return {
            "role": "user",
            "content": [
                {"type": "text", "text": QUESTION},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(PNG)}"}},
                {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{b64(JPEG)}"}},
                {"type": "text", "text": NOTES_BLOCK},
                {"type": "text", "text": PDF_BLOCK},
            ],
        }
    return {
        "role": "user",
        "content": [
            {"type": "text", "text": QUESTION},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64(PNG)}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": b64(JPEG)}},
            {"type": "text", "text": NOTES_BLOCK},
            {"type": "text", "text": PDF_BLOCK},
        ],
    }


@pytest.mark.parametrize("provider", sorted(MODELS))
async def test_each_provider_gets_each_kind_in_its_wire_format_and_again_on_regenerate(
    live_app, make_account, fakes, provider
):
    fake = fakes[provider]
    fake.default = Script(tokens=["Two squares."])
    alice = await make_account()
    files = [
        await upload(alice, "square.png", PNG),
        await upload(alice, "photo.jpg", JPEG),
        await upload(alice, "notes.md", NOTES),
        await upload(alice, "report.pdf", PDF),
    ]
    conversation_id = await alice.new_conversation(model=MODELS[provider])
    await send(live_app, alice, conversation_id, {"type": "message", "content": QUESTION, "attachments": files})
    assert last_user_message(fake) == on_the_wire(provider)
    if provider != "ollama":  # decoded by the fake as the API would: the bytes uploaded, untouched
        assert [(i.media_type, i.data) for i in fake.images[-1]] == [("image/png", PNG), ("image/jpeg", JPEG)]

    await send(live_app, alice, conversation_id, {"type": "regenerate"})
    assert len(fake.requests) == 2
    assert last_user_message(fake) == on_the_wire(provider)


async def test_the_files_of_earlier_messages_are_sent_with_later_ones(live_app, make_account, fakes):
    fake = fakes["anthropic"]
    alice = await make_account()
    image = await upload(alice, "square.png", PNG)
    conversation_id = await alice.new_conversation(model=MODELS["anthropic"])
    await send(live_app, alice, conversation_id, {"type": "message", "content": "Look.", "attachments": [image]})
    await send(live_app, alice, conversation_id, {"type": "message", "content": "And the colour?"})
    first, reply, second = fake.requests[-1]["messages"]
    assert first["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": b64(PNG)},
    }
    assert (reply["role"], second) == ("assistant", {"role": "user", "content": "And the colour?"})


@pytest.mark.parametrize(
    ("model", "words"),
    [
        ("ollama:llama3.2:3b", "ollama:llama3.2:3b cannot see images"),  # Ollama's /api/show says so
        ("openai:gpt-4.1", "openai:gpt-4.1 cannot see images"),  # CHATUI_TEXT_ONLY_MODELS says so
    ],
)
async def test_a_model_that_cannot_see_images_is_refused_before_anything_is_stored(
    live_app, make_account, fakes, model, words
):
    alice = await make_account()
    image = await upload(alice, "square.png", PNG)
    conversation_id = await alice.new_conversation(model=model)
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "What is it?", "attachments": [image]}))
        refused = await frame(ws)
        assert refused["type"] == "error" and refused["code"] == "images_unsupported", refused
        assert words in refused["error"] and "message_id" not in refused
        await ws.send(json.dumps({"type": "message", "content": "Then just hello."}))
        _, done = await until_done(ws)
    assert done["status"] == "done"
    assert [m["content"] for m in (await detail(alice, conversation_id))["messages"]] == ["Then just hello.", "8."]
    sent = [request["messages"][-1]["content"] for fake in fakes.values() for request in fake.requests]
    assert sent == ["Then just hello."]


def slow_pdf() -> bytes:
    """A valid two-page PDF whose second page's compressed content stream unpacks to 900,000 text-showing operators:
    small to upload, ~14 s of pypdf's work on a quiet 2-core machine. Kept under pypdf's own budget of 2,000,000
    tokens a stream (1,800,000 here): past it pypdf gives up in ~5 s, and a fast machine would see "damaged"
    instead of the time limit."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, NumberObject, StreamObject

    reader = PdfReader(io.BytesIO(attachments.pdf(2)))
    writer = PdfWriter(clone_from=reader)
    heavy = StreamObject()
    heavy._data = zlib.compress(b"(x) Tj\n" * 900_000, 9)
    heavy[NameObject("/Filter")] = NameObject("/FlateDecode")
    heavy[NameObject("/Length")] = NumberObject(len(heavy._data))
    writer.pages[1][NameObject("/Contents")] = writer._add_object(heavy)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def note_of(live_app: LiveApp, file_id: str) -> dict:
    with sqlite3.connect(live_app.data_dir / "database.db") as raw:
        (data,) = raw.execute("SELECT data FROM message_parts WHERE file_id = ?", (file_id,)).fetchone()
    return dict(json.loads(data))


async def test_a_pdf_that_takes_too_long_is_cut_at_its_time_limit_and_the_server_keeps_answering(
    live_app, make_account, fakes
):
    fake = fakes["openai"]
    alice = await make_account()
    pdf = await upload(alice, "heavy.pdf", slow_pdf())
    conversation_id = await alice.new_conversation(model=MODELS["openai"])
    assert live_app.process is not None
    with HealthProbe(live_app.url, live_app.process.pid) as felt:
        await send(live_app, alice, conversation_id, {"type": "message", "content": "Summarise.", "attachments": [pdf]})
    assert felt.failures == 0 and felt.p95 < 0.25 and felt.worst < 1.0, felt.summary()
    said = f"Reading this PDF's text took longer than {PDF_SECONDS} s: only page 1 of 2 was sent to the model."
    page = "--- page 1 ---\nPage 1 of the report."
    block = f'<file name="heavy.pdf" type="application/pdf">\n{page}\n[{said}]\n</file>'
    assert last_user_message(fake)["content"] == f"Summarise.\n\n{block}"  # text alone: one string
    assert note_of(live_app, pdf) == {"truncated": True, "note": said}
    (attached,) = (await detail(alice, conversation_id))["messages"][0]["attachments"]
    assert (attached["id"], attached["note"]) == (pdf, said)
