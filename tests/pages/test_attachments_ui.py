"""Attachments on the chat page (issue 23): a message's files in its bubble — image thumbnails that open the image,
other files as chips that download, a file's truncation note under its chip — for stored messages and for one sent
from elsewhere while the page is open."""

from __future__ import annotations

from typing import Any

import pytest
from nicegui import app
from nicegui.testing import User

from testing.attachments import pdf, png
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script
from testing.waiting import until
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")

MODEL = "llama3.2:3b"


@pytest.fixture
def short_file_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files' text cut at 1,000 characters (the least allowed), so a small text file is cut and says so."""
    monkeypatch.setenv("CHATUI_ATTACHMENT_TEXT_MAX_CHARS", "1000")


async def upload(user: User, name: str, content: bytes) -> dict[str, Any]:
    response = await user.http_client.post("/api/files", files={"file": (name, content, "application/octet-stream")})
    assert response.status_code == 201, response.text
    return dict(response.json())


def files_html(user: User) -> str:
    return "".join(str(element.props.get("innerHTML", "")) for element in user.find(marker="message-files").elements)


async def test_a_stored_message_shows_thumbnails_chips_and_a_files_note(
    short_file_text: None, user: User, fake_ollama: FakeOllama
) -> None:
    fake_ollama.vision_models = {MODEL}
    fake_ollama.then(Script(tokens=["A red square, a report and notes."]))
    await register_and_sign_in(user)
    image = await upload(user, "screenshot.png", png(320, 200))
    report = await upload(user, "report.pdf", pdf(pages=2))
    notes = await upload(user, "notes.txt", ("line of notes\n" * 300).encode())
    me = (await user.http_client.get("/api/auth/me")).json()
    conversation, generation = await app.state.services.conversations.start(
        me["id"], "What are these?", attachments=[image["id"], report["id"], notes["id"]]
    )
    await generation.wait()

    await user.open(f"/chat/{conversation.id}")
    await user.should_see(marker="message-files")
    shown = files_html(user)
    assert f'<img src="/api/files/{image["id"]}" alt="screenshot.png" loading="lazy"' in shown
    assert 'width="160" height="100"' in shown  # its box is known before it loads: the page does not jump
    assert f'href="/api/files/{image["id"]}" target="_blank"' in shown  # opens the full image
    assert f'href="/api/files/{report["id"]}" download="report.pdf"' in shown and "picture_as_pdf" in shown
    assert 'download="notes.txt"' in shown and "4 KB" in shown
    assert "chatui-file-note" in shown and "text were sent to the model" in shown  # notes.txt was cut
    await user.should_see("What are these?")
    served = await user.http_client.get(f"/api/files/{image['id']}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"


async def test_a_message_sent_elsewhere_shows_its_files_once_stored(user: User, fake_ollama: FakeOllama) -> None:
    fake_ollama.vision_models = {MODEL}
    fake_ollama.then(Script(tokens=["First."]))
    fake_ollama.then(Script(tokens=["A picture."]))
    await register_and_sign_in(user)
    me = (await user.http_client.get("/api/auth/me")).json()
    conversations = app.state.services.conversations
    conversation, first = await conversations.start(me["id"], "Hello")
    await first.wait()
    await user.open(f"/chat/{conversation.id}")
    await user.should_see("First.")
    image = await upload(user, "cat.png", png(64, 48))
    await conversations.send(me["id"], conversation.id, "And this?", attachments=[image["id"]])  # another tab
    await user.should_see("A picture.", retries=50)
    await until(lambda: image["id"] in files_html(user), what="the question redrawn with its image")
    await user.should_see("And this?")


def tell(user: User, **detail: Any) -> None:
    """What `static/attach.js` tells the tray of an upload (the browser test drives the real script)."""
    user.find(marker="attach-tray").trigger("attach", {"detail": detail})


async def attach(user: User, key: str, name: str, content: bytes) -> dict[str, Any]:
    """A file added to the message box: its upload starts, then ends stored, as the browser reports it."""
    tell(user, key=key, state="uploading", name=name, size=len(content), progress=0)
    stored = await upload(user, name, content)
    tell(user, key=key, state="done", file=stored)
    return stored


async def test_sending_with_files_passes_their_ids_and_shows_them(user: User, fake_ollama: FakeOllama) -> None:
    fake_ollama.vision_models = {MODEL}
    fake_ollama.then(Script(tokens=["A red square."]))
    await register_and_sign_in(user)
    await user.should_see(marker="attach-button")
    tell(user, key="k1", state="uploading", name="square.png", size=2048, progress=0)
    await user.should_see("square.png")
    await user.should_see("2 KB")
    assert not next(iter(user.find(marker="send").elements)).enabled  # Send waits for the upload
    tell(user, key="k1", state="uploading", progress=0.5)
    image = await upload(user, "square.png", png(32, 32))
    tell(user, key="k1", state="done", file=image)
    assert next(iter(user.find(marker="send").elements)).enabled
    await attach(user, "k2", "report.pdf", pdf(pages=1))
    await send(user, "What is this?")
    await user.should_see("A red square.", retries=50)
    sent = fake_ollama.requests[-1]["messages"][-1]
    assert sent["images"] and "report.pdf" in sent["content"]  # the image to the model, the PDF's text in the prompt
    assert image["id"] in files_html(user) and "report.pdf" in files_html(user)
    await user.should_not_see(marker="attach-chip")  # the tray is empty again
    conversation = (await user.http_client.get("/api/conversations")).json()[0]
    question = (await user.http_client.get(f"/api/conversations/{conversation['id']}")).json()["messages"][0]
    assert [f["name"] for f in question["attachments"]] == ["square.png", "report.pdf"]


async def test_words_about_an_upload_heard_out_of_order_still_draw_its_chip_by_name(user: User) -> None:
    """Words the browser says before the page's socket is up can arrive in any order (NiceGUI retries each on a timer
    of its own): a later word arriving first still names the file, and the upload still ends."""
    await register_and_sign_in(user)
    await user.should_see(marker="attach-button")
    image = await upload(user, "square.png", png(32, 32))
    about = {"key": "k1", "name": "square.png", "size": 2048}
    tell(user, **about, state="done", file=image)  # its end first...
    tell(user, **about, state="uploading", progress=1.0)  # ...then its progress...
    tell(user, **about, state="uploading", progress=0)  # ...then its start
    await user.should_see("square.png")
    assert [label.text for label in user.find(marker="attach-name").elements] == ["square.png"]  # one chip, named
    assert next(iter(user.find(marker="send").elements)).enabled  # stored: Send does not wait for it
    user.find(marker="attach-remove").click()
    await user.should_not_see(marker="attach-chip")
    tell(user, **about, state="uploading", progress=1.0)  # a late word about a removed file draws nothing
    await user.should_not_see(marker="attach-chip")


async def test_a_refused_file_shows_the_servers_reason_and_can_be_removed(user: User) -> None:
    await register_and_sign_in(user)
    tell(user, key="k1", state="uploading", name="movie.mp4", size=1000, progress=0)
    refusal = await user.http_client.post("/api/files", files={"file": ("movie.mp4", b"\x00\x01" * 500, "video/mp4")})
    assert refusal.status_code == 415
    tell(user, key="k1", state="failed", detail=refusal.json()["detail"])
    await user.should_see(content="cannot be attached")
    user.find(marker="attach-remove").click()
    await user.should_not_see(marker="attach-chip")


async def test_more_files_than_a_message_carries_are_refused_on_their_chip(user: User) -> None:
    await register_and_sign_in(user)
    tray = app.state.services.settings.attachments_per_message
    for n in range(tray + 1):
        tell(user, key=f"k{n}", state="uploading", name=f"f{n}.txt", size=10, progress=0)
    await user.should_see(f"A message can carry {tray} files at most.")


async def test_an_image_to_a_model_that_cannot_see_is_refused_readably(user: User, fake_ollama: FakeOllama) -> None:
    fake_ollama.vision_models = set()
    await register_and_sign_in(user)
    await user.should_see(marker="attach-button")
    await attach(user, "k1", "cat.png", png(16, 16))
    await send(user, "What is this?")
    await user.should_see("cannot see images", retries=30)  # its notice
    await user.should_see(marker="attach-chip")  # kept, to send to another model
    assert (await user.http_client.get("/api/conversations")).json() == []  # nothing half-made
