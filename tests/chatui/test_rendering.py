"""Markdown rendering: safe output, and streaming blocks that match a whole-text render whatever the chunking."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from chatui.rendering import BlockSplitter, render_markdown, split_blocks

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
    assert "".join("".join(split_blocks(text)).split()) == "".join(text.split())  # nothing lost, nothing added


def test_the_growing_tail_stays_small_in_a_long_reply() -> None:
    splitter = BlockSplitter()
    longest_tail = 0
    for i in range(2000):
        splitter.feed(f"word{i} " + ("\n\n" if i % 40 == 39 else ""))
        longest_tail = max(longest_tail, len(splitter.tail))
    assert longest_tail < 500  # one paragraph, not the whole reply


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
    from chatui.rendering import HtmlCache, cached_message, render_message

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
