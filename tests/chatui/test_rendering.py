"""Markdown rendering: safe output, and streaming blocks that match a whole-text render whatever the chunking."""

from __future__ import annotations

import gc
import re
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chatui.ui.rendering import BlockSplitter, render_markdown, render_uncached, split_blocks

PIECES = [
    "word ",
    "**bold** ",
    "\n",
    "\n\n",
    "```\n",
    "```py\n",
    "- item\n",
    "1. one\n",
    "# Title\n",
    "`code` ",
    "<b>",
    "~~~\n",
]


def stream(text: str, cuts: list[int]) -> list[str]:
    splitter = BlockSplitter()
    blocks: list[str] = []
    start = 0
    for cut in sorted({c % (len(text) + 1) for c in cuts}):
        blocks += splitter.feed(text[start:cut])
        start = cut
    blocks += splitter.feed(text[start:])
    last = splitter.close()
    return blocks + ([last] if last is not None else [])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60), st.lists(st.integers(min_value=0), max_size=20))
def test_streamed_blocks_equal_the_blocks_of_the_whole_text(pieces: list[str], cuts: list[int]) -> None:
    text = "".join(pieces)
    assert stream(text, cuts) == split_blocks(text)
    # Nothing lost, nothing added but fences: a code block cut between two blocks is closed at the end of the first
    # and opened again at the start of the next (each block renders on its own), so those markers may be added.
    assert _without_fences(split_blocks(text)) == _without_fences([text])


def _without_fences(blocks: list[str]) -> str:
    return "".join(c for c in "".join("".join(blocks).split()) if c not in "`~")


def test_the_growing_tail_stays_small_in_a_long_reply() -> None:
    splitter = BlockSplitter()
    longest_tail = 0
    for i in range(2000):
        splitter.feed(f"word{i} " + ("\n\n" if i % 40 == 39 else ""))
        longest_tail = max(longest_tail, len(splitter.tail))
    assert longest_tail < 1000  # a paragraph or two, not the whole reply


def test_a_huge_code_block_is_cut_and_reopened() -> None:
    text = "```python\n" + "".join(f"print({i})\n" for i in range(2000)) + "```\n"
    blocks = split_blocks(text)
    assert len(blocks) > 3
    assert all(block.startswith("```python\n") and block.rstrip().endswith("```") for block in blocks)
    assert text_of("".join(render_markdown(text))).count("print(1999)") == 1


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_code_is_highlighted_with_classes_only_and_shows_its_language() -> None:
    [html] = render_markdown('```python\ndef f():\n    return "<b>"\n```\n')
    assert '<span class="chatui-code-lang">python</span>' in html
    assert '<button type="button" class="chatui-copy">Copy code</button>' in html
    assert '<span class="k">def</span>' in html and "style=" not in html  # Pygments classes, no inline style
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert 'def f():\n    return "&lt;b&gt;"' in text_of(html.split('<pre tabindex="0">')[1])  # the code as written


def test_a_code_language_cannot_break_out_of_its_label() -> None:
    [html] = render_markdown('```js"><img src=x onerror=alert(1)>\nlet a = 1;\n```\n')
    assert "<img" not in html and "&lt;img" not in html.split('<pre tabindex="0">')[1]
    assert '<span class="chatui-code-lang">js&quot;&gt;&lt;img</span>' in html
    [plain] = render_markdown("```nosuchlanguage\n<tag> & more\n```\n")
    assert "&lt;tag&gt; &amp; more" in plain and "nosuchlanguage" in plain


def test_no_raw_html_no_script_links_no_images() -> None:
    html = "".join(
        render_markdown(
            '<img src=x onerror="alert(1)"> <script>alert(2)</script>\n\n'
            "[a](javascript:alert(3)) [b](JaVaScRiPt:alert(4)) [c](data:text/html,hi) [ok](https://example.com/x)\n\n"
            "![track](https://tracker.example/p.gif?q=secret)"
        )
    )
    assert "<img" not in html and "<script" not in html
    assert "&lt;img" in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html.lower() and 'href="data:' not in html
    assert 'href="https://example.com/x"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert '<a href="https://tracker.example/p.gif?q=secret"' in html and "[image: track]" in html


def test_a_whole_message_is_rendered_once_then_cached_within_a_size_bound() -> None:
    from chatui.ui.rendering import HtmlCache, cached_message, render_message

    text = "# Title\n\nSome **bold** text.\n\n```py\nx = 1\n```\n"
    assert cached_message(text + "never rendered") is None
    html = render_message(text)
    assert html == "".join(render_markdown(text)) and cached_message(text) == html

    cache = HtmlCache(max_chars=100)
    for i in range(10):
        cache.put(HtmlCache.key(str(i)), "x" * 30)
    assert cache.chars <= 100 and len(cache) == 3  # the oldest went first
    assert cache.get(HtmlCache.key("9")) == "x" * 30 and cache.get(HtmlCache.key("0")) is None
    cache.put(HtmlCache.key("huge"), "y" * 101)  # bigger than the whole cache: not kept, nothing evicted for it
    assert len(cache) == 3


# -- no input stalls the server -------------------------------------------------------------------------------------

NASTY = [
    "[", "]", "![", "](", "[a](", "[a]", "[a]: ", "(", ")", "*", "**", "_", "__", "*a", "a_", "~~", "`", "``",
    "```", "~~~", "<", "<a", ">", "&", "&#", "&#x", "\\", "|", "|-", "!", "a", " ", "  ", "    ", "\t", "\n", "\n\n",
    "> ", "- ", "* ", "1. ", "# ", "=", "---", "http://x.y/", "é", "\u2028",
]  # fmt: skip
MESSAGE_CHARS = 32_000
PROSE = (
    "The quick brown fox jumps over the lazy dog, then writes **a bold claim**, an _aside_, some `code` and "
    "[a link](https://example.com/docs).\n"
)


def render_times(text: str) -> tuple[float, float]:
    """CPU seconds to render a whole message, every block afresh (as a page load does), and its slowest block (what
    one update of a streaming bubble can cost). CPU time of this thread: the machine is shared, wall time is noise.
    The garbage collector is off meanwhile: under `-n 2` a worker holds the objects of every test it ran before, and a
    full collection that falls inside one block (190 ms, seen) is the process's cost, not the block's."""
    slowest = 0.0
    total = 0.0
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for block in split_blocks(text):
            started = time.thread_time()
            render_uncached(block)
            took = time.thread_time() - started
            total += took
            slowest = max(slowest, took)
    finally:
        if was_enabled:
            gc.enable()
    return total, slowest


BLOCK_BUDGET = 0.1  # seconds of CPU for one block (measured: at most ~31 ms; ordinary prose ~4 ms)


@pytest.fixture(scope="module")
def budget() -> float:
    """What a whole 32,000-character message may take: 20 times the same length of ordinary formatted prose (measured:
    ~25 ms; the worst fuzzed input ~220 ms), at least 0.5 s. A quadratic case takes seconds (0.8-2.9 s before)."""
    prose = (PROSE * (MESSAGE_CHARS // len(PROSE) + 1))[:MESSAGE_CHARS]
    return max(0.5, 20 * min(render_times(prose)[0] for _ in range(3)))


# No explain phase: after a failure Hypothesis re-runs the examples under `sys.settrace` (Python 3.11) to explain it,
# which made rendering 30 times slower (7 s) and the timings it reported meaningless.
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
@given(st.lists(st.sampled_from(NASTY), min_size=1, max_size=12), st.integers(min_value=0, max_value=30))
def test_no_markdown_takes_long_to_render(budget: float, pattern: list[str], prefix: int) -> None:
    unit = "".join(pattern)
    text = ("a" * prefix + unit * (MESSAGE_CHARS // len(unit) + 1))[:MESSAGE_CHARS]
    total, slowest = render_times(text)
    if total >= budget or slowest >= BLOCK_BUDGET:  # measured again: one hiccup of the shared machine is not it
        total, slowest = render_times(text)
    assert total < budget, f"{total * 1000:.0f} ms (budget {budget * 1000:.0f} ms) for {unit!r} repeated"
    assert slowest < BLOCK_BUDGET, f"one block took {slowest * 1000:.0f} ms for {unit!r} repeated"


@pytest.mark.parametrize(
    "text",
    ["![" * 16_000, "[" * 32_000, "[a](" * 8_000, "*a_" * 10_666, "a_" * 16_000, ("![" * 79 + "\n") * 400],
    ids=["images", "brackets", "links", "emphasis", "underscores", "image-lines"],
)
def test_known_pathological_messages_render_fast_and_inert(budget: float, text: str) -> None:
    total, slowest = render_times(text[:MESSAGE_CHARS])
    assert total < budget and slowest < BLOCK_BUDGET
    html = "".join(render_markdown(text[:MESSAGE_CHARS]))
    assert "<a " not in html and "<img" not in html


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*PIECES, *NASTY, "x" * 3000, "![" * 1500]), max_size=40),
    st.lists(st.integers(min_value=0), max_size=20),
)
def test_streamed_blocks_equal_whole_text_blocks_for_nasty_and_long_lines(pieces: list[str], cuts: list[int]) -> None:
    text = "".join(pieces)
    assert stream(text, cuts) == split_blocks(text)
    # Nothing lost, nothing added but fences: a code block cut between two blocks is closed at the end of the first
    # and opened again at the start of the next (each block renders on its own), so those markers may be added.
    assert _without_fences(split_blocks(text)) == _without_fences([text])


def _without_fences(blocks: list[str]) -> str:
    return "".join(c for c in "".join("".join(blocks).split()) if c not in "`~")


def test_ordinary_formatted_prose_keeps_its_markdown() -> None:
    html = "".join(render_markdown(PROSE * 30))  # one 3,500-character paragraph
    assert html.count("<strong>") == 30 and html.count('<a href="https://example.com/docs"') == 30


def test_a_long_code_block_full_of_brackets_is_still_a_highlighted_code_block() -> None:
    code = "".join(f"def f{i}(x):\n    return g(x)[0] * h({i}) + len('abc')\n" for i in range(40))
    [html] = render_markdown(f"```python\n{code}```\n")
    assert html.startswith('<div class="chatui-code">') and '<span class="k">def</span>' in html
    assert text_of(html.split('<pre tabindex="0">')[1]).replace("&#x27;", "'").startswith(code[:200])


def test_brackets_after_a_line_that_only_looks_like_a_fence_still_count() -> None:
    # a backtick fence's info string cannot hold a backtick, so this is a paragraph markdown-it would parse inline
    started = time.process_time()
    [html] = render_markdown("```a`b\n" + "![" * 3000 + "\n")
    assert time.process_time() - started < 0.5
    assert html.startswith('<p class="chatui-plain">')


def test_a_long_growing_code_block_is_coloured_once_finished() -> None:
    code = "x = [1, 2, 3]\n" * 200  # 2,800 characters
    assert '<span class="n">x</span>' not in render_uncached(f"```python\n{code}")  # still being written
    assert '<span class="n">x</span>' in render_markdown(f"```python\n{code}```\n")[0]
    assert '<span class="n">x</span>' in render_uncached("```python\nx = 1\n")  # a short one is coloured live
