"""The import's own process, run here in-process against a fresh SQLite file: what it stores and what it reports.

The server side (slots, the process, its time bound) is in tests/api/test_transfer_api.py and
tests/transfer/test_import_attacks.py; here the worker's `run()` is called directly, so the cases are fast.
"""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from chatui.transfer.worker import Reporter, Task, run
from storage import Database, mark_interrupted
from storage.models import File, Message, User
from testing.exports import (
    chatgpt_conversation,
    chatui_conversation,
    write_huge_first_message,
    write_json,
    write_nested,
    write_zip_bomb,
)

LIMIT = 1_000


@pytest.fixture
def database(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'database.db'}")
    db.prepare(mark_interrupted)
    with db.engine.begin() as c:
        c.execute(insert(User).values(id="u1", username="ann", password_hash="x"))
    yield db
    db.engine.dispose()


def import_file(db: Database, path: Path, **limits: float) -> list[dict]:
    task = Task(
        path=str(path),
        database_url=db.url.render_as_string(hide_password=False),
        user_id="u1",
        default_model="ollama:llama3.2:3b",
        max_message_chars=int(limits.get("max_message_chars", LIMIT)),
        unpacked_bytes=int(limits.get("unpacked_bytes", 50 * 1024 * 1024)),
        inflation_ratio=limits.get("inflation_ratio", 100.0),
        memory_bytes=1024**3,
        file_max_bytes=int(limits.get("file_max_bytes", 20 * 1024 * 1024)),
        files_quota_bytes=int(limits.get("files_quota_bytes", 1024**3)),
        image_max_pixels=50_000_000,
        pdf_max_pages=500,
    )
    out = io.StringIO()
    run(task, Reporter(out))
    return [json.loads(line) for line in out.getvalue().splitlines()]


def contents(db: Database) -> list[str]:
    with db.engine.connect() as c:
        return [row[0] for row in c.execute(select(Message.content).order_by(Message.created_at))]


def test_a_huge_imported_message_is_cut_to_the_typed_limit_and_says_so(database: Database, tmp_path: Path):
    lines = import_file(database, write_huge_first_message(tmp_path / "h.json", 200_000, others=2))
    assert lines[-1] == {"end": "done"}
    counts = lines[-2]["progress"]
    assert (counts["conversations"], counts["cut"]) == (3, 1)
    stored = contents(database)
    [cut] = [text for text in stored if "Cut on import" in text]
    assert len(cut) == LIMIT and cut.endswith(
        "[Cut on import: this message had 200,000 characters; chatui keeps 1,000.]"
    )
    assert max(len(text) for text in stored) == LIMIT


def test_a_zip_bomb_is_refused_from_its_directory_without_inflating(database: Database, tmp_path: Path):
    bomb = write_zip_bomb(tmp_path / "bomb.zip", 100 * 1024 * 1024)
    assert bomb.stat().st_size < 1024 * 1024
    started = time.perf_counter()
    lines = import_file(database, bomb)
    assert time.perf_counter() - started < 1.0  # 100 MB inflate in ~0.5 s: it was not inflated
    assert lines[-1]["end"] == "failed" and lines[-1]["reason"] == "zip_bomb"
    assert "looks like a zip bomb" in lines[-1]["message"]
    big = write_zip_bomb(tmp_path / "big.zip", 3 * 1024 * 1024)  # a ratio that passes, a size that does not
    lines = import_file(database, big, unpacked_bytes=1024 * 1024, inflation_ratio=10_000)
    assert lines[-1]["reason"] == "too_large" and "the limit is 1,048,576" in lines[-1]["message"]
    assert contents(database) == []


def test_whole_file_refusals_carry_a_reason(database: Database, tmp_path: Path):
    deep = import_file(database, write_nested(tmp_path / "deep.json", 5_000))
    assert deep[-1]["reason"] == "too_deep" and "64 levels" in deep[-1]["message"]
    unknown = import_file(database, write_json(tmp_path / "u.json", [{"rows": [1]}]))
    assert unknown[-1]["reason"] == "unknown_format"
    (tmp_path / "cut.json").write_text(json.dumps([chatgpt_conversation("one"), chatgpt_conversation("two")])[:-300])
    cut = import_file(database, tmp_path / "cut.json")
    assert cut[-1]["reason"] == "malformed" and cut[-2]["progress"]["conversations"] == 1


def test_a_bad_conversation_is_an_error_line_and_the_others_are_stored(database: Database, tmp_path: Path):
    document = {
        "format": "chatui/1",
        "conversations": [
            chatui_conversation(i, 2, 10, "9999-12-31T23:59:59-05:00" if i == 1 else None) for i in range(3)
        ],
    }
    lines = import_file(database, write_json(tmp_path / "t.json", document))
    assert {"error": "Conversation #2 'Conversation 1': a time in it is out of range (years 1 to 9999)"} in lines
    assert lines[-1] == {"end": "done"} and lines[-2]["progress"]["conversations"] == 2
    assert len(contents(database)) == 4


def test_a_file_past_the_upload_limit_is_refused_by_its_length_and_the_rest_is_imported(
    database: Database, tmp_path: Path
):
    conversation = chatui_conversation(0, 2, 10)
    conversation["messages"][0]["attachments"] = [{"id": "big"}, {"id": "small"}]
    document = {
        "format": "chatui/1",
        "conversations": [conversation],
        "files": [
            {"id": "big", "name": "big.txt", "data": base64.b64encode(b"a" * 3_000_001).decode()},
            {"id": "small", "name": "small.txt", "data": base64.b64encode(b"fits").decode()},
        ],
    }
    lines = import_file(database, write_json(tmp_path / "f.json", document), file_max_bytes=3_000_000)
    assert {"error": "File 'big.txt': The file is larger than 2.86102 MB, the most a file may be."} in lines
    assert lines[-1] == {"end": "done"} and lines[-2]["progress"]["conversations"] == 1
    with database.engine.connect() as c:
        assert [tuple(row) for row in c.execute(select(File.name, File.size))] == [("small.txt", 4)]
        assert c.execute(select(File.attached_at.is_not(None))).scalar_one()
