"""Reading each format into records (no server, no database): trees, versions, what is skipped, bad input."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest

from chatui.transfer.exporting import document_json
from chatui.transfer.formats import BadConversation, from_chatgpt, from_chatui, from_openwebui
from chatui.transfer.reading import Failure, UnreadableFile, inspect, read
from testing.exports import (
    chatgpt_conversation,
    chatui_conversation,
    openwebui_chat,
    write_chatgpt_zip,
    write_chatui_export,
    write_json,
    write_nested,
)

MODEL = "ollama:llama3.2:3b"


def texts(record) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.content for m in record.active_path()]


def test_chatgpt_keeps_both_versions_and_skips_hidden_system_tool_calls_and_images():
    parsed = from_chatgpt(chatgpt_conversation(), MODEL)
    record = parsed.record
    assert parsed.source == "chatgpt:chatgpt-conv-1" and record.title == "Tea brewing"
    assert texts(record) == ["How long should green tea steep?", "Two to three minutes at 80 °C."]
    by_content = {m.content: m for m in record.messages}
    question = by_content["How long should green tea steep?"]
    first, second = by_content["About two minutes."], by_content["Two to three minutes at 80 °C."]
    assert question.parent_id is None  # the hidden system message above it is gone
    assert first.parent_id == second.parent_id == question.id  # the tool call between them is gone
    assert first.model == "openai:gpt-4o" and question.model is None
    assert parsed.skipped == 3  # the hidden system message, the tool call, the image part
    assert record.model == MODEL  # continues on a model this server has
    assert [m.created_at.timestamp() for m in record.messages] == sorted(
        m.created_at.timestamp() for m in record.messages
    )


def test_chatgpt_current_node_chooses_the_active_version():
    conversation = chatgpt_conversation()
    conversation["current_node"] = "a1"
    assert texts(from_chatgpt(conversation, MODEL).record)[-1] == "About two minutes."


def test_a_visible_chatgpt_system_message_becomes_the_system_prompt():
    conversation = chatgpt_conversation()
    conversation["mapping"]["sys"]["message"]["metadata"] = {}
    conversation["mapping"]["sys"]["message"]["content"]["parts"] = ["You are terse."]
    parsed = from_chatgpt(conversation, MODEL)
    assert parsed.record.system_prompt == "You are terse." and parsed.skipped == 2


def test_open_webui_keeps_edited_versions_settings_and_models():
    parsed = from_openwebui(openwebui_chat(), MODEL)
    record = parsed.record
    assert parsed.source == "openwebui:owui-1" and record.title == "Rust lifetimes"
    assert texts(record) == ["What is a lifetime in Rust?", "The scope for which a borrow is valid."]
    roots = [m for m in record.messages if m.parent_id is None]
    assert [m.content for m in roots] == ["What is a lifetime?", "What is a lifetime in Rust?"]  # two versions
    assert record.system_prompt == "Answer briefly." and record.temperature == 0.4
    assert {m.model for m in record.messages if m.role == "assistant"} == {"ollama:llama3.1:8b"}
    assert record.created_at.timestamp() == 1_700_000_010


def test_chatui_json_reads_back_what_it_wrote():
    original = from_openwebui(openwebui_chat(), MODEL).record
    again = from_chatui(json.loads(json.dumps(document_json([original])))["conversations"][0], MODEL)
    assert again.record == original and again.original_id == original.id


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda c: c["chat"]["history"]["messages"]["a1"].update(parentId="a2", id="a1"), None),
        (lambda c: c["chat"]["history"]["messages"]["a1"].update(parentId="nowhere"), None),
        (lambda c: c["chat"].pop("history"), "not an Open WebUI chat"),
    ],
)
def test_open_webui_oddities(change, reason):
    chat = openwebui_chat()
    change(chat)
    if reason is None:  # a parent that is not in the file: the message starts a branch of its own, never an error
        record = from_openwebui(chat, MODEL).record
        assert len(record.messages) == 4
    else:
        with pytest.raises(BadConversation, match=reason):
            from_openwebui(chat, MODEL)


def test_messages_in_a_loop_are_not_imported():
    conversation = chatgpt_conversation()
    conversation["mapping"]["a1"]["parent"] = "a2"
    conversation["mapping"]["a2"]["parent"] = "a1"
    record = from_chatgpt(conversation, MODEL).record
    assert [m.content for m in record.messages] == ["How long should green tea steep?"]


def test_chatui_json_with_an_unknown_parent_is_refused_with_a_reason():
    record = from_openwebui(openwebui_chat(), MODEL).record
    item = document_json([record])["conversations"][0]
    item["messages"][1]["parent_id"] = "missing"
    with pytest.raises(BadConversation, match="follows a message that is not in the file"):
        from_chatui(item, MODEL)
    broken = copy.deepcopy(item)
    del broken["messages"][0]["content"]
    with pytest.raises(BadConversation, match=r"messages\.0\.content"):
        from_chatui(broken, MODEL)


def test_files_are_told_apart_by_their_start(tmp_path: Path):
    assert inspect(write_json(tmp_path / "c.json", [chatgpt_conversation()])).description == "list of conversations"
    assert inspect(write_chatgpt_zip(tmp_path / "e.zip", [chatgpt_conversation()])).member == "conversations.json"
    assert inspect(write_json(tmp_path / "o.json", openwebui_chat())).description == "single conversation"
    chatui = document_json([from_openwebui(openwebui_chat(), MODEL).record])
    assert inspect(write_json(tmp_path / "u.json", chatui)).description == "chatui export"

    for content, malformed in [
        (b"hello", True),
        (b"\x00\x01binary", True),
        (json.dumps({"format": "chatui/9", "conversations": []}).encode(), False),
        (json.dumps([{"what": "ever"}]).encode(), False),
        (json.dumps({"some": "object"}).encode(), False),
        (b'[{"mapping": ', True),
    ]:
        (tmp_path / "bad").write_bytes(content)
        with pytest.raises(UnreadableFile) as refused:
            read_all(tmp_path / "bad")  # found by its start, its nesting scan or its first conversation
        assert refused.value.malformed is malformed, content
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("notes.txt", "hi")
    with pytest.raises(UnreadableFile, match=r"no conversations\.json"):
        inspect(tmp_path / "other.zip")


def test_a_file_cut_short_yields_what_came_before_then_fails(tmp_path: Path):
    whole = json.dumps([chatgpt_conversation("one"), chatgpt_conversation("two")])
    path = tmp_path / "cut.json"
    path.write_text(whole[: len(whole) - 200])
    seen: list[int] = []
    items = read(inspect(path), MODEL, seen.append)
    assert next(items).source == "chatgpt:one"
    with pytest.raises(UnreadableFile, match="stops being valid JSON"):
        next(items)
    assert seen and 0 < seen[-1] <= path.stat().st_size


def test_one_bad_conversation_is_a_failure_among_good_ones(tmp_path: Path):
    path = write_json(
        tmp_path / "mixed.json",
        [chatgpt_conversation("one"), {"mapping": 3, "title": "Broken"}, chatgpt_conversation("three")],
    )
    results = list(read(inspect(path), MODEL, lambda _: None))
    assert [type(r).__name__ for r in results] == ["Parsed", "Failure", "Parsed"]
    assert isinstance(results[1], Failure) and results[1].label == "#2 'Broken'"


def test_a_file_nested_deeper_than_any_export_is_refused_before_anything_is_built(tmp_path: Path):
    with pytest.raises(UnreadableFile, match="more than 64 levels deep") as refused:
        read_all(write_nested(tmp_path / "deep.json", 5_000))
    assert not refused.value.malformed
    inside = [chatgpt_conversation("one"), chatgpt_conversation("two")]
    inside[1]["mapping"]["a1"]["message"]["metadata"]["deep"] = json.loads("[" * 70 + "]" * 70)
    with pytest.raises(UnreadableFile, match="more than 64 levels deep"):
        read_all(write_json(tmp_path / "inside.json", inside))  # refused before the first conversation is built
    inside[1]["mapping"]["a1"]["message"]["metadata"]["deep"] = json.loads("[" * 50 + "]" * 50)
    assert [r.source for r in read_all(write_json(tmp_path / "fine.json", inside))] == ["chatgpt:one", "chatgpt:two"]


def test_an_out_of_range_time_fails_its_own_conversation_only(tmp_path: Path):
    bad = {1: "9999-12-31T23:59:59-05:00", 3: "0001-01-01T00:00:00+05:00"}
    path = tmp_path / "times.json"
    write_chatui_export(path, 1, messages=3, chars=20, bad_created=bad)
    document = json.loads(path.read_text())
    document["conversations"] = [chatui_conversation(i, 3, 20, bad.get(i)) for i in range(5)]
    document["conversations"][4]["messages"][1]["usage"]["prompt_tokens"] = 2**40
    results = read_all(write_json(path, document))
    assert [r.reason if isinstance(r, Failure) else r.source for r in results] == [
        "chatui:conv-0",
        "a time in it is out of range (years 1 to 9999)",
        "chatui:conv-2",
        "a time in it is out of range (years 1 to 9999)",
        "messages.1.usage.prompt_tokens: Input should be less than or equal to 2147483647",
    ]
    assert results[1].label == "#2 'Conversation 1'"


def read_all(path: Path) -> list:  # type: ignore[type-arg]
    return list(read(inspect(path), MODEL, lambda _: None))


def test_chatgpt_files_are_named_in_a_note_at_the_end_of_their_message():
    conversation = chatgpt_conversation()
    question = conversation["mapping"]["u1"]["message"]
    question["metadata"]["attachments"] = [{"id": "file-abc", "name": "report.pdf", "size": 1234}]
    question["content"]["parts"] = [
        {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-abc"},  # report.pdf's own
        {"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_photo"},
        "How long should green tea steep?",
    ]
    only_files = conversation["mapping"]["a1"]["message"]
    only_files["content"] = {"content_type": "multimodal_text", "parts": []}
    only_files["metadata"]["attachments"] = [{"id": "file-x", "name": "chart.png"}]
    record = from_chatgpt(conversation, MODEL).record
    by_id = {m.id: m for m in record.messages}
    assert by_id["u1"].content == (
        "How long should green tea steep?\n\n[Files attached to this message were not imported: report.pdf, an image]"
    )
    assert by_id["a1"].content == "[Files attached to this message were not imported: chart.png]"  # kept for it


def test_open_webui_files_are_named_in_a_note_at_the_end_of_their_message():
    chat = openwebui_chat()
    chat["chat"]["history"]["messages"]["u1"]["files"] = [
        {"type": "file", "id": "f1", "name": "notes.md", "file": {"filename": "notes.md"}},
        {"type": "image", "url": "data:image/png;base64,iVBORw0KGgo="},
        {"type": "file", "file": {"filename": "only-inner.txt"}},
    ]
    record = from_openwebui(chat, MODEL).record
    [question] = [m for m in record.messages if m.id == "u1"]
    assert question.content == (
        "What is a lifetime?\n\n[Files attached to this message were not imported: notes.md, an image, only-inner.txt]"
    )


def test_the_nulls_a_careful_exporter_writes_read_as_absent():
    item = chatui_conversation(7, 2, 20)
    item.update(title=None, system_prompt=None, active_message_id=None)
    item["messages"][0].update(usage=None, status=None, attachments=None, model=None, error=None, parent_id=None)
    item["messages"][1]["usage"] = {"prompt_tokens": None, "completion_tokens": 12}
    record = from_chatui(item, MODEL).record
    first, second = record.messages
    assert (first.status, first.prompt_tokens, first.attachments) == ("done", None, [])
    assert second.completion_tokens == 12 and record.active_message_id == second.id
