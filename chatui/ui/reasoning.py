"""A reply's reasoning, above its answer: "Thinking…" while it streams, folded to "Thought for 12 s" once the answer
begins, opened by a click (issue 24).

A `<details>`/`<summary>` pair: the browser opens and closes it with no round trip to the server and no Vue or
Quasar component (NiceGUI wave-3 notes §5). The reasoning is plain text (the model's scratch work, not formatted
output): finished paragraphs become fixed labels and only the growing last one is re-sent, so a long reasoning costs
what its tail costs per update, as the answer's bubble does with its blocks.
"""

from __future__ import annotations

from nicegui import ui

PARAGRAPH = "\n\n"


def thought_for(seconds: float | None) -> str:
    """The folded block's title: how long the model thought, in whole seconds (at least 1)."""
    if seconds is None:
        return "Thought"
    return f"Thought for {max(1, round(seconds))} s"


class ReasoningBlock:
    """The block in the current container; `show(text)` with the whole reasoning so far, `fold(seconds)` at the end."""

    def __init__(self, *, streaming: bool) -> None:
        with ui.element("details").classes("chatui-reasoning").mark("reasoning") as self.element:
            with ui.element("summary").classes("chatui-reasoning-title"):
                self.title = ui.label("Thinking…" if streaming else "Thought").mark("reasoning-title")
            self.body = ui.column().classes("chatui-reasoning-text gap-1").mark("reasoning-text")
        if streaming:
            self.element.props("open")
        self._fixed = 0  # characters of the reasoning already shown as finished paragraphs
        self._tail: ui.label | None = None
        self.folded = not streaming

    def show(self, text: str) -> None:
        """Show the reasoning so far (the whole of it: only what is new is sent to the page)."""
        end = text.rfind(PARAGRAPH, self._fixed)
        with self.body:
            if end >= 0:
                for paragraph in text[self._fixed : end].split(PARAGRAPH):
                    if not paragraph.strip():
                        continue
                    if self._tail is not None:  # the tail becomes the finished paragraph it was showing
                        self._tail.text = paragraph
                        self._tail = None
                    else:
                        ui.label(paragraph)
                self._fixed = end + len(PARAGRAPH)
            rest = text[self._fixed :]
            if rest:
                if self._tail is None:
                    self._tail = ui.label(rest)
                else:
                    self._tail.text = rest

    def fold(self, seconds: float | None) -> None:
        """The answer began (or the reply ended): fold the block under how long the model thought."""
        if self.folded:
            return
        self.folded = True
        self.title.text = thought_for(seconds)
        self.element.props(remove="open")


def stored_reasoning(text: str, seconds: float | None) -> ReasoningBlock:
    """A stored reply's reasoning: folded, under how long the model thought."""
    block = ReasoningBlock(streaming=False)
    block.title.text = thought_for(seconds)
    with block.body:
        ui.label(text)
    return block
