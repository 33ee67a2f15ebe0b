"""Counts in words, as a person reads them: "1 token", "2 tokens", "1,204 messages"."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`number` and `noun`, singular for exactly one and plural otherwise (`noun` + "s" unless `plural` is given),
    with thousands separated."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
