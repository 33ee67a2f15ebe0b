"""LibreChat's JSON export (issue 29): the tree and the flat form, branches as versions, a chat thousands of levels
deep read without recursion, imported once however often the file comes."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from chatui.transfer.librechat import from_librechat
from chatui.transfer.reading import UnreadableFile, inspect, read
from testing.exports import librechat_flat, librechat_tree, write_json, write_librechat_chain
from tests.transfer.test_worker import contents, database, import_file  # noqa: F401 (a fixture)

MODEL = "ollama:llama3.2:3b"


def test_the_tree_and_the_flat_list_read_the_same_with_versions():
    tree = from_librechat(librechat_tree(), MODEL)
    flat = from_librechat(librechat_flat(), MODEL)
    assert tree.record == flat.record and tree.source == flat.source == "librechat:lc-1"
    record = tree.record
    answers = [m for m in record.messages if m.parent_id == "q1"]
    assert [m.content for m in answers] == [
        "Once a day at room temperature.",
        "Every 12 hours if it lives on the counter.",
    ]
    assert [m.content for m in record.active_path()][-2:] == [
        "And in the fridge?\n\n[Files attached to this message were not imported: jar.jpg]",
        "Once a week.",
    ]
    assert {m.model for m in answers} == {"openai:gpt-4o"}  # the last answer has no model: the conversation's
    assert (record.system_prompt, record.temperature, record.title) == ("Be brief.", 0.7, "Sourdough starter")
    assert tree.skipped == 1  # the reasoning part


def test_a_chat_thousands_of_levels_deep_is_read_from_the_file(tmp_path: Path):
    path = write_librechat_chain(tmp_path / "long.json", 3_000)  # 12,000 levels of JSON
    export = inspect(path)
    [parsed] = list(read(export, MODEL, lambda _: None))
    messages = parsed.record.messages
    assert len(messages) == 6_000 and messages[-1].content == "Answer 2999"
    assert all(m.parent_id == above.id for above, m in pairwise(messages))
    assert export.description == "LibreChat export"


def test_deep_nesting_inside_one_message_is_still_refused(tmp_path: Path):
    document = librechat_tree()
    text = json.dumps(document).replace('"error": false', '"error": ' + "[" * 70 + "]" * 70, 1)
    path = tmp_path / "deep.json"
    path.write_text(text)
    with pytest.raises(UnreadableFile, match="more than 64 levels deep inside a message"):
        list(read(inspect(path), MODEL, lambda _: None))


def test_a_librechat_file_imports_once(database, tmp_path: Path):  # noqa: F811
    path = write_json(tmp_path / "librechat.json", librechat_tree())
    first = import_file(database, path)
    again = import_file(database, path)
    assert first[-1] == {"end": "done"} and again[-1] == {"end": "done"}
    assert [line["progress"]["duplicates"] for line in again if "progress" in line][-1] == 1
    assert len(contents(database)) == 5
