"""A chatui export's presets and prompts through the import's own process (`run()` in-process, a fresh SQLite file):
stored by the rules the API applies, each conversation pointed at its preset as imported, nothing made twice, and
the import's bounds holding for them as for the conversations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import chatui.transfer.library
from storage import Database
from storage.models import Conversation
from storage.presets import Preset, SavedPrompt
from testing.exports import chatui_conversation, write_json
from tests.transfer.test_worker import database, import_file

__all__ = ["database"]  # the fixture, shared with the worker's tests

TUTOR = {
    "id": "p-tutor",
    "name": "French tutor",
    "model": "ollama:llama3.2:3b",
    "system_prompt": "Answer in French.",
    "temperature": 0.3,
    "tools": ["chatui:*"],
    "created_at": "2024-05-01T12:00:00+00:00",
}
STANDUP = {"id": "q1", "name": "standup", "title": "Daily standup", "text": "What did you do {{day}}?"}


def document(presets: list[Any], prompts: list[Any], preset_ids: list[str | None]) -> dict[str, Any]:
    conversations = []
    for index, preset_id in enumerate(preset_ids):
        conversation = chatui_conversation(index, 2, 10)
        conversation["preset_id"] = preset_id
        conversations.append(conversation)
    return {"format": "chatui/1", "presets": presets, "prompts": prompts, "conversations": conversations}


def stored(db: Database) -> tuple[list[tuple], list[tuple], dict[str, str | None]]:
    """(presets, prompts, each conversation's title → its preset's name) as the database holds them."""
    with db.engine.connect() as c:
        presets = c.execute(
            select(Preset.id, Preset.name, Preset.model, Preset.system_prompt, Preset.temperature, Preset.tools)
            .where(Preset.user_id == "u1")
            .order_by(Preset.name)
        ).all()
        prompts = c.execute(
            select(SavedPrompt.name, SavedPrompt.title, SavedPrompt.text).order_by(SavedPrompt.name)
        ).all()
        names = {row.id: row.name for row in presets}
        chats = {row.title: names.get(row.preset_id) for row in c.execute(select(Conversation))}
        assert all(row.preset_id is None or row.preset_id in names for row in c.execute(select(Conversation)))
    return [tuple(p)[1:] for p in presets], [tuple(p) for p in prompts], chats


def test_presets_and_prompts_are_stored_and_a_conversation_points_at_its_preset(database: Database, tmp_path: Path):
    file = write_json(tmp_path / "e.json", document([TUTOR], [STANDUP], ["p-tutor", "p-not-in-the-file", None]))
    lines = import_file(database, file)
    assert lines[-1] == {"end": "done"} and not [line for line in lines if "error" in line]
    counts = lines[-2]["progress"]
    assert (counts["presets"], counts["prompts"], counts["conversations"]) == (1, 1, 3)
    presets, prompts, chats = stored(database)
    assert presets == [("French tutor", "ollama:llama3.2:3b", "Answer in French.", 0.3, ["chatui:*"])]
    assert prompts == [("standup", "Daily standup", "What did you do {{day}}?")]
    assert chats == {"Conversation 0": "French tutor", "Conversation 1": None, "Conversation 2": None}

    again = import_file(database, file)  # the same file: nothing is made twice, and nothing is an error
    assert (again[-2]["progress"]["presets"], again[-2]["progress"]["prompts"]) == (0, 0)
    assert not [line for line in again if "error" in line]
    assert stored(database)[:2] == (presets, prompts)


def test_a_conversation_of_another_file_points_at_the_preset_already_here(database: Database, tmp_path: Path):
    import_file(database, write_json(tmp_path / "first.json", document([TUTOR], [], [])))
    second = document([TUTOR], [], ["p-tutor"])
    second["conversations"][0]["id"] = "another-conversation"
    lines = import_file(database, write_json(tmp_path / "second.json", second))
    assert (lines[-2]["progress"]["presets"], lines[-2]["progress"]["conversations"]) == (0, 1)
    presets, _, chats = stored(database)
    assert len(presets) == 1 and chats == {"Conversation 0": "French tutor"}


def test_items_that_break_the_apis_rules_are_reported_and_the_rest_stored(database: Database, tmp_path: Path):
    presets = [
        {**TUTOR, "id": "hot", "name": "Too hot", "temperature": 5},
        {**TUTOR, "id": "long", "name": "x" * 101},
        {"name": "No id"},
        "not an object",
        {**TUTOR, "id": "ok", "name": "Plain", "tools": None, "model": None},
    ]
    prompts = [
        {"name": "two words", "text": "Hi"},
        {"name": "empty", "text": "   "},
        {"name": "huge", "text": "a" * 20_001},
        {"name": "/Fine", "text": "Kept"},
    ]
    lines = import_file(database, write_json(tmp_path / "bad.json", document(presets, prompts, ["hot", "ok"])))
    errors = [line["error"] for line in lines if "error" in line]
    assert errors == [
        "Preset #1 'Too hot': The temperature must be between 0 and 2.",
        f"Preset #2 '{'x' * 60}': The preset's name is longer than 100 characters.",
        "Preset #3: id: Field required",
        "Preset #4: the item: Input should be a valid dictionary or instance of _PresetIn",
        "Prompt #1 'two words': A prompt's name is one word: letters, digits, '-' and '_' (it follows '/').",
        "Prompt #2 'empty': The prompt's text is empty.",
        "Prompt #3 'huge': The prompt's text is longer than 20,000 characters.",
    ]
    presets_here, prompts_here, chats = stored(database)
    assert presets_here == [("Plain", None, "Answer in French.", 0.3, None)]
    assert prompts_here == [("fine", None, "Kept")]
    assert chats == {"Conversation 0": None, "Conversation 1": "Plain"}  # the refused preset's chat points nowhere


def test_a_prompt_whose_name_is_taken_keeps_the_one_here(database: Database, tmp_path: Path):
    import_file(database, write_json(tmp_path / "mine.json", document([], [STANDUP], [])))
    theirs = {**STANDUP, "text": "Something else"}
    lines = import_file(database, write_json(tmp_path / "theirs.json", document([], [theirs], [])))
    assert {"error": "Prompt /standup: you already have a prompt of this name; yours is kept."} in lines
    assert stored(database)[1] == [("standup", "Daily standup", "What did you do {{day}}?")]


def test_past_the_most_one_import_takes_the_rest_are_left_out_and_said(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(chatui.transfer.library, "MAX_ITEMS", 3)
    prompts = [{"name": f"p{i}", "text": f"Prompt {i}"} for i in range(5)]
    lines = import_file(database, write_json(tmp_path / "many.json", document([], prompts, [])))
    assert {"error": "More than 3 prompts in the file: the rest were left out."} in lines
    assert [name for name, _, _ in stored(database)[1]] == ["p0", "p1", "p2"]


def test_a_preset_nested_past_the_bound_refuses_the_whole_file_before_anything_is_stored(
    database: Database, tmp_path: Path
):
    deep = {**TUTOR, "tools": "DEEP"}
    text = write_json(tmp_path / "d.json", document([deep], [STANDUP], [None])).read_text()
    (tmp_path / "d.json").write_text(text.replace('"DEEP"', "[" * 5_000 + "]" * 5_000))
    lines = import_file(database, tmp_path / "d.json")
    assert lines[-1]["reason"] == "too_deep"
    assert stored(database) == ([], [], {})
