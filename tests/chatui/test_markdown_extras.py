"""Markdown people paste: math keeps its TeX (backslashes too), prices stay text, task lists, Mermaid blocks."""

from __future__ import annotations

import html
import re
import time

import pytest

from chatui.ui.rendering import render_block, render_uncached

MATH = re.compile(r'<span class="chatui-math( chatui-math-display)?">(.*?)</span>', re.S)


def math_in(source: str) -> list[tuple[bool, str]]:
    """(displayed, TeX as the page's script will read it) for each formula."""
    return [(bool(display), html.unescape(tex)) for display, tex in MATH.findall(render_block(source))]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Euler: $e^{i\\pi} + 1 = 0$.", [(False, "e^{i\\pi} + 1 = 0")]),
        ("Inline \\(a_1 + b_2\\) here", [(False, "a_1 + b_2")]),
        ("$$\n\\int_0^1 x\\,dx = \\frac{1}{2}\n$$", [(True, "\n\\int_0^1 x\\,dx = \\frac{1}{2}\n")]),
        (
            "\\[\n\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}\n\\]",
            [(True, "\n\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}\n")],
        ),
        ("Sets: $\\{x \\mid x > 0\\}$ and $a*b*c$", [(False, "\\{x \\mid x > 0\\}"), (False, "a*b*c")]),
        ("- item with $x_i^2$\n- [link](https://e.org) $y$", [(False, "x_i^2"), (False, "y")]),
    ],
)
def test_each_delimiter_keeps_the_tex_exactly_as_written(source: str, expected: list[tuple[bool, str]]) -> None:
    assert math_in(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "It costs $5 and $10.",
        "Between $ 3 and 4 $ nothing",
        "An escaped \\$x\\$ stays text",
        "`$x$` in code",
        "A lone $ sign",
        "Empty $$ $$ display",
    ],
)
def test_dollars_that_are_not_math_stay_text(source: str) -> None:
    assert math_in(source) == []
    assert "$" in html.unescape(re.sub("<[^>]+>", "", render_block(source)))


def test_math_source_is_escaped_and_not_parsed_as_markdown() -> None:
    out = render_block("$<script>alert(1)</script> **b** [x](javascript:y)$")
    assert "<script" not in out and "<strong>" not in out and "<a " not in out
    assert "&lt;script&gt;" in out


def test_text_around_math_is_still_markdown() -> None:
    out = render_block("**bold** then $\\alpha_1$ then _em_")
    assert "<strong>bold</strong>" in out and "<em>em</em>" in out
    assert math_in("**bold** then $\\alpha_1$ then _em_") == [(False, "\\alpha_1")]


def test_many_unclosed_dollars_cost_linear_time() -> None:
    source = "$a " * 1300  # every `$` opens, none closes
    render_block.cache_clear()
    start = time.perf_counter()
    out = render_block(source)
    assert time.perf_counter() - start < 0.5
    assert "chatui-math" not in out


def test_task_list_items_become_disabled_checkboxes() -> None:
    out = render_block("- [ ] write tests\n- [x] land it\n- [X] also done\n- plain item\n- [link](https://e.org)")
    boxes = re.findall(r"<input[^>]*>", out)
    assert boxes == [
        '<input type="checkbox" class="chatui-task" disabled aria-label="Task">',
        '<input type="checkbox" class="chatui-task" disabled checked aria-label="Task">',
        '<input type="checkbox" class="chatui-task" disabled checked aria-label="Task">',
    ]
    assert '<li class="chatui-task-item"><input type="checkbox" class="chatui-task" disabled' in out
    assert "<li>plain item</li>" in out and "[ ]" not in out
    assert render_block("[ ] not a list item").count("<input") == 0


def test_links_open_in_a_new_tab_without_the_opener() -> None:
    out = render_block("[docs](https://docs.python.org/3/)")
    assert 'target="_blank"' in out and 'rel="noopener noreferrer nofollow"' in out


def test_a_mermaid_block_is_a_diagram_only_once_finished() -> None:
    source = "```mermaid\ngraph TD\n  A --> B\n```\n"
    assert 'class="chatui-code chatui-mermaid"' in render_block(source)
    assert "chatui-mermaid" not in render_uncached(source)  # the growing block of a streaming reply
    assert "chatui-mermaid" not in render_block("```python\nx = 1\n```\n")
