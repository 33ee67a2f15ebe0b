"""What the engine makes of a message's files on their way to a provider (the app's own services on a real SQLite
file, the three providers' real clients against the wire-exact fakes): images turned upright, downscaled to each
provider's limit and stripped of their metadata, converted to a type it takes; the text of files within
CHATUI_ATTACHMENT_TEXT_MAX_CHARS, the cut said in the block and kept as a note on the file's part; images of older
messages as a line of text to a model that cannot see them; edits that change the files; regenerates that read
nothing again."""

from __future__ import annotations

import base64
import io
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatui.bootstrap import Services, build_services
from chatui.config import Settings
from chatui.conversations.errors import SendRefused
from chatui.engine import attachments as attachments_module
from testing import attachments
from testing.fakes.images import decode

MODELS = {"ollama": "ollama:llava:7b", "openai": "openai:gpt-4o-mini", "anthropic": "anthropic:claude-haiku-4-5"}


@pytest.fixture
async def services(tmp_path: Path, fake_ollama, fake_openai, fake_anthropic) -> AsyncIterator[Services]:
    fake_ollama.models = ["llava:7b", "llama3.2:3b"]
    fake_ollama.vision_models = {"llava:7b"}
    built = build_services(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path / "data",
            ollama_base_url=fake_ollama.url,
            openai_base_url=f"{fake_openai.url}/v1",
            openai_api_key="sk-test",
            anthropic_base_url=fake_anthropic.url,
            anthropic_api_key="sk-ant-test",
            provider_retries=0,
            messages_per_minute=1000,
            conversations_per_minute=1000,
            ai_titles=False,
            attachment_text_max_chars=1000,
        )
    )
    built.prepare()
    await built.start()
    yield built
    await built.stop()


@pytest.fixture
def fakes(fake_ollama, fake_openai, fake_anthropic) -> dict[str, Any]:
    return {"ollama": fake_ollama, "openai": fake_openai, "anthropic": fake_anthropic}


@pytest.fixture
async def alice(services: Services):
    return await services.store.accounts.create_user("alice", "hash")


async def upload(services: Services, user_id: str, name: str, content: bytes) -> str:
    """Through the upload's own path (multipart, sniffed, stored), as `POST /api/files` does."""
    request = httpx.Request("POST", "http://127.0.0.1/", files={"file": (name, content, "application/octet-stream")})

    async def body() -> AsyncIterator[bytes]:
        yield request.read()

    stored = await services.files.upload(user_id, request.headers["content-type"], body())
    return stored.id


async def ask(services: Services, user_id: str, conversation_id: str, content: str | None, **kwargs: Any) -> None:
    if content is None:
        generation = await services.conversations.regenerate(user_id, conversation_id)
    else:
        generation = await services.conversations.send(user_id, conversation_id, content, **kwargs)
    await generation.wait()
    assert generation.status == "done", generation.error


def user_turns(fake: Any) -> list[dict]:
    return [m for m in fake.requests[-1]["messages"] if m["role"] == "user"]


def stored_note(services: Services, file_id: str) -> dict | None:
    with sqlite3.connect(services.settings.data_dir / "database.db") as raw:
        rows = raw.execute("SELECT data FROM message_parts WHERE file_id = ?", (file_id,)).fetchall()
    return json.loads(rows[-1][0]) if rows and rows[-1][0] else None


@pytest.mark.parametrize(("provider", "edge"), [("ollama", 1568), ("openai", 2048), ("anthropic", 1568)])
async def test_a_large_photo_is_turned_upright_downscaled_and_stripped_for_each_provider(
    services, alice, fakes, provider, edge
):
    photo = attachments.jpeg(3000, 2000, orientation=6)  # shown turned: 2000 wide, 3000 high; a camera's EXIF
    assert decode(base64.b64encode(photo).decode()).exif
    image_id = await upload(services, alice.id, "photo.jpg", photo)
    conversation = await services.conversations.create(alice.id, MODELS[provider])
    await ask(services, alice.id, conversation.id, "What is it?", attachments=[image_id])
    (seen,) = fakes[provider].images[-1]
    assert (seen.media_type, seen.width, seen.height, seen.exif) == ("image/jpeg", edge * 2 // 3, edge, False)
    from PIL import Image

    with Image.open(io.BytesIO(seen.data)) as received:
        top_right = received.convert("RGB").getpixel((received.width - 5, 5))
        top_left = received.convert("RGB").getpixel((5, 5))
    assert top_right[0] > 200 and top_right[2] < 80, top_right  # the yellow corner, where the camera's viewer had it
    assert top_left[2] > 150, top_left


async def test_an_image_of_a_type_the_provider_does_not_take_is_converted(services, alice, fakes):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 128, 0, 128)).save(out, "WEBP")
    webp = await upload(services, alice.id, "leaf.webp", out.getvalue())
    conversation = await services.conversations.create(alice.id, MODELS["ollama"])  # Ollama: PNG and JPEG only
    await ask(services, alice.id, conversation.id, "Colour?", attachments=[webp])
    (seen,) = fakes["ollama"].images[-1]
    assert (seen.media_type, seen.width, seen.height) == ("image/png", 40, 30)


async def test_an_image_over_the_providers_bytes_is_encoded_smaller_until_it_fits(services, alice, fakes):
    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (1500, 1500), os.urandom(1500 * 1500 * 3)).save(out, "PNG")
    assert len(out.getvalue()) > 5 * 1024 * 1024  # over Anthropic's 5 MB even before base64
    heavy = await upload(services, alice.id, "noise.png", out.getvalue())
    conversation = await services.conversations.create(alice.id, MODELS["anthropic"])
    await ask(services, alice.id, conversation.id, "Anything there?", attachments=[heavy])
    (seen,) = fakes["anthropic"].images[-1]
    assert seen.media_type == "image/jpeg" and seen.size <= 3_750_000 and max(seen.width, seen.height) <= 1500


async def test_text_over_the_limit_is_cut_said_in_the_block_and_kept_on_the_files_part(services, alice, fakes):
    report = attachments.pdf(40, "Page {n} of a long report about the weather up in the hills.")
    pdf = await upload(services, alice.id, "report.pdf", report)
    notes = await upload(services, alice.id, "notes.txt", b"Also read me.")
    conversation = await services.conversations.create(alice.id, MODELS["openai"])
    await ask(services, alice.id, conversation.id, "Summarise.", attachments=[pdf, notes])
    sent = user_turns(fakes["openai"])[-1]["content"]  # text alone: one string
    cut = (
        "Only the first 1,000 characters of this file's text were sent to the model "
        "(CHATUI_ATTACHMENT_TEXT_MAX_CHARS: the text of one message's files)."
    )
    untold = "Not sent to the model: the other files of this message took all the text one message can send."
    question, pdf_block = sent.split("\n\n", 1)[0], sent.split("\n\n", 1)[1].rsplit("\n\n", 1)[0]
    notes_block = sent.rsplit("\n\n", 1)[1]
    assert question == "Summarise."
    opening = '<file name="report.pdf" type="application/pdf">\n'
    assert pdf_block.startswith(f"{opening}--- page 1 ---\nPage 1 of a long report")
    assert pdf_block.endswith(f"\n[{cut}]\n</file>")
    assert len(pdf_block) == len(opening) + 1000 + len(f"\n[{cut}]\n</file>")
    assert notes_block == f'<file name="notes.txt" type="text/plain">\n[{untold}]\n</file>'
    assert stored_note(services, pdf) == {"truncated": True, "note": cut}
    assert stored_note(services, notes) == {"truncated": True, "note": untold}


async def test_an_older_image_is_a_line_of_text_to_a_model_that_cannot_see(services, alice, fakes):
    image = await upload(services, alice.id, "square.png", attachments.png())
    conversation = await services.conversations.create(alice.id, MODELS["ollama"])
    await ask(services, alice.id, conversation.id, "Look.", attachments=[image])
    await ask(services, alice.id, conversation.id, "And now in words?", model="ollama:llama3.2:3b")
    first, second = user_turns(fakes["ollama"])
    assert first == {
        "role": "user",
        "content": "Look.\n\n[An image, square.png, was attached here; this model cannot see images.]",
    }
    assert second == {"role": "user", "content": "And now in words?"}


async def test_an_edit_can_take_files_away_and_bring_others(services, alice, fakes):
    fake = fakes["anthropic"]
    image = await upload(services, alice.id, "square.png", attachments.png())
    notes = await upload(services, alice.id, "notes.md", b"Green sky.")
    conversation = await services.conversations.create(alice.id, MODELS["anthropic"])
    await ask(services, alice.id, conversation.id, "v1", attachments=[image])
    original = (await services.store.chats.messages(conversation.id))[0].id
    assert len(fake.images[-1]) == 1

    generation = await services.conversations.edit(alice.id, conversation.id, original, "v2", attachments=[])
    await generation.wait()
    assert (user_turns(fake)[-1]["content"], fake.images[-1]) == ("v2", [])

    generation = await services.conversations.edit(alice.id, conversation.id, original, "v3", attachments=[notes])
    await generation.wait()
    block = '<file name="notes.md" type="text/markdown">\nGreen sky.\n</file>'
    assert user_turns(fake)[-1]["content"] == f"v3\n\n{block}"
    assert fake.images[-1] == []


async def test_a_regenerate_reads_and_fits_nothing_again(services, alice, fakes, monkeypatch):
    reads: list[int] = []
    real_read = attachments_module.read_pdf_text

    async def counted(data: bytes, **bounds: Any) -> Any:
        reads.append(len(data))
        return await real_read(data, **bounds)

    monkeypatch.setattr(attachments_module, "read_pdf_text", counted)
    pdf = await upload(services, alice.id, "report.pdf", attachments.pdf(3))
    conversation = await services.conversations.create(alice.id, MODELS["anthropic"])
    await ask(services, alice.id, conversation.id, "Summarise.", attachments=[pdf])
    first = user_turns(fakes["anthropic"])[-1]
    await ask(services, alice.id, conversation.id, None)
    assert user_turns(fakes["anthropic"])[-1] == first
    assert len(reads) == 1


async def test_text_only_models_and_the_message_answered_decide_the_refusal(services, alice, fakes):
    image = await upload(services, alice.id, "square.png", attachments.png())
    conversation = await services.conversations.create(alice.id, "ollama:llama3.2:3b")
    with pytest.raises(SendRefused) as refused:
        await services.conversations.send(alice.id, conversation.id, "What is it?", attachments=[image])
    assert refused.value.reason == "images_unsupported"
    assert "ollama:llama3.2:3b cannot see images" in refused.value.message
    assert await services.store.chats.messages(conversation.id) == []
    assert fakes["ollama"].requests == []


async def test_the_local_model_is_refused_images_before_it_is_loaded_or_anything_is_stored(tmp_path: Path):
    from providers.local import LocalProvider
    from tests.chatui.conftest import engine_only_services

    local = LocalProvider(tmp_path / "never-loaded.gguf")  # not started: asking it must not need the model
    async for built in engine_only_services(tmp_path, {"local": local}, ai_titles=False):
        alice = await built.user()
        image = await upload(built.services, alice.id, "square.png", attachments.png())
        conversation = await built.conversations.create(alice.id, "local:never-loaded")
        with pytest.raises(SendRefused) as refused:
            await built.conversations.send(alice.id, conversation.id, "What is it?", attachments=[image])
        assert refused.value.reason == "images_unsupported"
        assert refused.value.message.startswith("local:never-loaded cannot see images.")
        assert await built.chats.messages(conversation.id) == []
        assert built.provider.calls == []
