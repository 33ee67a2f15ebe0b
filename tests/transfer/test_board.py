"""An import's state as every instance reads it (`ImportJob.dumps` / `loads`): instances of two versions side by side
during a rolling upgrade still follow each other's imports."""

from __future__ import annotations

import json

from chatui.transfer.board import ImportJob


def test_a_state_written_by_a_newer_instance_is_read_without_its_new_fields() -> None:
    job = ImportJob(id="j1", user_id="u1", total_bytes=100, conversations=3, messages=12)
    written = {**json.loads(job.dumps()), "folders": 2, "attachments_left_out": 1}  # fields a later version adds
    read = ImportJob.loads(json.dumps(written))
    assert (read.id, read.conversations, read.messages, read.status) == ("j1", 3, 12, "running")
    assert read.public()["conversations"] == 3


def test_a_state_written_by_an_older_instance_reads_the_counts_it_lacks_as_zero() -> None:
    older = {"id": "j2", "user_id": "u1", "total_bytes": 10, "conversations": 1, "status": "done", "errors": []}
    read = ImportJob.loads(json.dumps(older))
    assert (read.conversations, read.presets, read.prompts, read.status) == (1, 0, 0, "done")
