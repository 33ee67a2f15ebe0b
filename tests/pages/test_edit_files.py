"""Editing a message changes its files (issue 23): the editor shows the message's files as removable chips and has a
paperclip of its own; the new version (a branch beside the original) carries the files the editor held when it was
submitted, and the original keeps its own."""

from __future__ import annotations

from typing import Any

import pytest
from nicegui import app, ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from testing.attachments import pdf, png
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script
from tests.pages.test_attachments_ui import upload
from tests.pages.test_chat_flow import register_and_sign_in

pytestmark = pytest.mark.usefixtures("app_env")

MODEL = "llama3.2:3b"


def tell_editor(user: User, **detail: Any) -> None:
    """What `static/attach.js` tells the editor's tray (a file picked, dropped or pasted inside the editor)."""
    user.find(marker="edit-attach-tray").trigger("attach", {"detail": detail})


def chips(user: User, tray: str) -> list[str]:
    """The file names on a tray's chips, in the order shown."""
    with user.scope(marker=tray) as element:
        return [d.text for d in element.descendants() if isinstance(d, ui.label) and "attach-name" in d._markers]


def remove_chip(user: User, name: str) -> None:
    """Click the remove button of the editor's chip for `name` (its accessible name says which file)."""
    with user.scope(marker="edit-attach-tray"):
        buttons = [b for b in user.find(marker="attach-remove").elements if name in str(b.props.get("aria-label"))]
    assert len(buttons) == 1, buttons
    UserInteraction(user, set(buttons), None).click()


def save_enabled(user: User) -> bool:
    button = next(iter(user.find(marker="save-edit").elements))
    assert isinstance(button, ui.button)
    return button.enabled


async def a_question_with_files(user: User, fake_ollama: FakeOllama) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A conversation whose question carries an image and a PDF, opened; returns (its id, the image, the PDF)."""
    fake_ollama.vision_models = {MODEL}
    fake_ollama.then(Script(tokens=["A square and a report."]))
    await register_and_sign_in(user)
    image = await upload(user, "square.png", png(32, 32))
    report = await upload(user, "report.pdf", pdf(pages=1))
    me = (await user.http_client.get("/api/auth/me")).json()
    conversation, generation = await app.state.services.conversations.start(
        me["id"], "What are these?", attachments=[image["id"], report["id"]]
    )
    await generation.wait()
    await user.open(f"/chat/{conversation.id}")
    await user.should_see("A square and a report.")
    return conversation.id, image, report


async def question_files(user: User, conversation_id: str) -> list[str]:
    """The file names of the question on the conversation's active path, as REST lists them."""
    detail = (await user.http_client.get(f"/api/conversations/{conversation_id}")).json()
    return [f["name"] for f in detail["messages"][0]["attachments"]]


async def test_an_edit_can_remove_a_file_and_add_another(user: User, fake_ollama: FakeOllama) -> None:
    conversation_id, _, _ = await a_question_with_files(user, fake_ollama)
    user.find(marker="edit").click()
    await user.should_see(marker="edit-attach-button")
    assert chips(user, "edit-attach-tray") == ["square.png", "report.pdf"]
    assert chips(user, "attach-tray") == []  # the message box's tray is another

    remove_chip(user, "report.pdf")
    tell_editor(user, key="e1", state="uploading", name="notes.txt", size=12, progress=0)
    await user.should_see("notes.txt")
    assert not save_enabled(user)  # Save waits for the upload, as Send does
    notes = await upload(user, "notes.txt", b"Some notes.\n")
    tell_editor(user, key="e1", state="done", file=notes)
    assert save_enabled(user)
    assert chips(user, "edit-attach-tray") == ["square.png", "notes.txt"]
    assert chips(user, "attach-tray") == []

    editor = user.find(marker="edit-text")
    editor.clear()
    editor.type("And now?")
    fake_ollama.then(Script(tokens=["A square and notes."]))
    user.find("Save & submit").click()
    await user.should_see("A square and notes.", retries=50)
    await user.should_not_see(marker="editor")
    sent = fake_ollama.requests[-1]["messages"][-1]
    assert sent["images"] and "notes.txt" in sent["content"] and "report.pdf" not in sent["content"]
    assert await question_files(user, conversation_id) == ["square.png", "notes.txt"]

    user.find(marker="previous-version").click()  # the original keeps its own files
    await user.should_see("A square and a report.", retries=30)
    assert await question_files(user, conversation_id) == ["square.png", "report.pdf"]


async def test_an_edit_that_leaves_the_files_alone_keeps_them(user: User, fake_ollama: FakeOllama) -> None:
    conversation_id, _, _ = await a_question_with_files(user, fake_ollama)
    user.find(marker="edit").click()
    editor = user.find(marker="edit-text")
    editor.clear()
    editor.type("What are these two?")
    fake_ollama.then(Script(tokens=["Still a square and a report."]))
    editor.trigger("keydown.enter.exact.prevent")
    await user.should_see("Still a square and a report.", retries=50)
    assert await question_files(user, conversation_id) == ["square.png", "report.pdf"]
    assert "report.pdf" in fake_ollama.requests[-1]["messages"][-1]["content"]


async def test_an_edit_can_drop_every_file(user: User, fake_ollama: FakeOllama) -> None:
    conversation_id, _, _ = await a_question_with_files(user, fake_ollama)
    user.find(marker="edit").click()
    await user.should_see(marker="edit-attach-tray")
    remove_chip(user, "square.png")
    remove_chip(user, "report.pdf")
    assert chips(user, "edit-attach-tray") == []
    fake_ollama.then(Script(tokens=["Nothing attached."]))
    user.find("Save & submit").click()
    await user.should_see("Nothing attached.", retries=50)
    assert await question_files(user, conversation_id) == []
    sent = fake_ollama.requests[-1]["messages"][-1]
    assert not sent.get("images") and sent["content"] == "What are these?"


async def test_cancel_drops_what_the_editor_added(user: User, fake_ollama: FakeOllama) -> None:
    conversation_id, _, _ = await a_question_with_files(user, fake_ollama)
    user.find(marker="edit").click()
    await user.should_see(marker="edit-attach-tray")
    tell_editor(user, key="e1", state="uploading", name="late.txt", size=12, progress=0)
    await user.should_see("late.txt")
    user.find(marker="cancel-edit").click()
    await user.should_not_see(marker="editor")
    await user.should_not_see("late.txt")
    user.find(marker="edit").click()  # opened again: the message's files as they are
    await user.should_see(marker="edit-attach-tray")
    assert chips(user, "edit-attach-tray") == ["square.png", "report.pdf"]
    assert await question_files(user, conversation_id) == ["square.png", "report.pdf"]
