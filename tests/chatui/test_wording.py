"""Counts read as words: one of a thing is singular, anything else plural."""

from __future__ import annotations

import pytest

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
