"""Counts read as words: one of a thing is singular, anything else plural."""

from __future__ import annotations

import pytest

from chatui.transfer.board import ImportJob
from chatui.ui.transfer import report_lines
from chatui.ui.wording import counted


@pytest.mark.parametrize(
    ("number", "noun", "plural", "shown"),
    [
        (1, "token", None, "1 token"),
        (0, "conversation", None, "0 conversations"),
        (2, "passage", None, "2 passages"),
        (1204, "message", None, "1,204 messages"),
        (3, "reply", "replies", "3 replies"),
        (1, "reply", "replies", "1 reply"),
    ],
)
def test_singular_for_one_and_plural_otherwise(number: int, noun: str, plural: str | None, shown: str) -> None:
    assert counted(number, noun, plural) == shown


def test_an_imports_report_counts_one_of_each_in_the_singular() -> None:
    job = ImportJob(id="j", user_id="u", total_bytes=1, status="done", conversations=1, messages=1)
    job.duplicates = job.cut = job.presets = job.prompts = 1
    assert report_lines(job) == [
        "1 conversation and 1 message imported.",
        "1 conversation was already here and left unchanged.",
        "1 message longer than chatui keeps was cut; each says so at its end.",
        "1 preset and 1 saved prompt imported.",
    ]
