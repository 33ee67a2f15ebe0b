"""`{{variables}}` of a saved prompt: found once each, in order, and filled in (issue 26)."""

from __future__ import annotations

from chatui.conversations.prompts import fill, variables


def test_variables_are_listed_once_in_the_order_they_first_appear() -> None:
    text = "Translate {{ text }} into {{language}}; keep {{text}} short. {{}} and {{a\nb}} are not variables."
    assert variables(text) == ["text", "language"]


def test_filling_replaces_every_occurrence_and_leaves_unknown_ones() -> None:
    text = "Dear {{name}}, about {{ topic }}: {{name}}, {{other}}."
    assert fill(text, {"name": "Ada", "topic": "engines"}) == "Dear Ada, about engines: Ada, {{other}}."


def test_a_value_holding_braces_is_inserted_as_it_is() -> None:
    assert fill("{{a}} {{b}}", {"a": "{{b}}", "b": "x"}) == "{{b}} x"
