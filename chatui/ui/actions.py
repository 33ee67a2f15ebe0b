"""The row of actions under a message.

Under a reply: **Copy** (its Markdown source), **Regenerate** (on the last reply, with a menu of other models),
`‹ 2 / 3 ›` between its versions (**Previous version** / **Next version**), **Retry** when it failed, was stopped
or interrupted, **Continue** on the last reply when it was stopped, interrupted or cut off at the token limit (with
text to carry on), **Fork** (a new conversation up to this reply), and on a finished reply **Good reply** / **Bad
reply** (thumbs up / down, the chosen one pressed; issue 26). Under the person's own message: **Copy** and
**Edit**, which opens an inline editor (**Save & submit**, **Cancel**; Enter submits, Escape cancels) holding the
message's files as removable chips and a paperclip to add more (issue 23): the new version carries the files the
editor holds when it is submitted. The names are the buttons' accessible names.

A row only draws buttons and calls back; what they do (through the conversation service) is the page's business.
Copying needs no round trip: the browser writes the text to the clipboard itself.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from nicegui import ui

from chatui.ui.rendering import SHOWN_CHARS
from storage import MessageStatus

Action = Callable[[], Awaitable[None]]
Edit = Callable[[str, list[str] | None], Awaitable[bool]]
"""Sends an edited message: (text, its file ids, None where the editor offers no files); True once it is sent."""


class EditorFiles(Protocol):
    """The files of the message being edited, as its editor holds them (the page's attachment tray)."""

    @property
    def file_ids(self) -> list[str]: ...

    @property
    def uploading(self) -> bool: ...

    def clear(self) -> None: ...


FilesField = Callable[[ui.row, ui.column, ui.button], EditorFiles]
"""Builds the editor's files: the paperclip into the buttons' row, the chips into the column above it, the save
button held off while a file uploads."""
RETRYABLE = (MessageStatus.ERROR, MessageStatus.CANCELLED, MessageStatus.INTERRUPTED)


def continuable(text: str, status: str, cut_off: bool) -> bool:
    """Whether Continue makes sense: the reply has text, and it stopped before it was done."""
    return bool(text.strip()) and (cut_off or status in RETRYABLE)


def _icon_button(name: str, icon: str, marker: str) -> ui.button:
    """A small icon button whose accessible name (and the browser's tooltip) is `name`: no tooltip element, since a
    long chat holds a few of these rows per message."""
    return ui.button(icon=icon).props(f'flat dense round size=sm aria-label="{name}" title="{name}"').mark(marker)


def copy_button(text: str) -> ui.button:
    """Copies `text` in the browser (no server round trip) and says "Copied" on the button (`static/chatui.js`).
    A message too long to be shown whole (`SHOWN_CHARS`) is sent only when asked: carried in the page, it made a
    4.8 MB message's page 9 MB."""
    button = _icon_button("Copy", "content_copy", "copy")
    if len(text) > SHOWN_CHARS:

        def send() -> None:
            ui.clipboard.write(text)
            ui.run_javascript(f"chatui.copied(getHtmlElement({button.id}))")

        button.on_click(send)
    else:
        button.on("click", js_handler=f"(event) => chatui.copyMessage(event, {json.dumps(text)})")
    return button


@dataclass
class ReplyActions:
    """What a reply's row offers; None leaves a button out."""

    text: str
    status: str
    versions: tuple[int, int] | None = None
    """(position from 1, count) when the reply has other versions."""
    on_previous: Action | None = None
    on_next: Action | None = None
    on_regenerate: Callable[[str | None], Awaitable[None]] | None = None
    """Given on the last reply only; called with a model id, or None for the conversation's own."""
    models: Callable[[], Sequence[str]] = field(default=lambda: ())
    """The models the menu offers, asked when it opens (they are listed after the page is built)."""
    cut_off: bool = False
    """It stopped at the token limit."""
    on_continue: Action | None = None
    """Given on the last reply only, when it is `continuable`."""
    on_fork: Action | None = None
    rating: str | None = None
    """The person's rating of it, `up` or `down` (the chosen thumb is shown filled and pressed)."""
    on_rate: Callable[[str], Awaitable[None]] | None = None
    """Given on a finished reply: called with `up` or `down`."""


RATINGS = (("up", "Good reply", "thumb_up"), ("down", "Bad reply", "thumb_down"))


def rating_buttons(rating: str | None, on_rate: Callable[[str], Awaitable[None]]) -> None:
    """Thumbs up and down; the chosen one filled, coloured and `aria-pressed`."""
    for value, name, icon in RATINGS:
        chosen = rating == value
        button = _icon_button(name, icon if chosen else f"{icon}_off_alt", f"rate-{value}")
        button.props(f"aria-pressed={'true' if chosen else 'false'}")
        if chosen:
            button.props("color=primary").classes("chatui-rated").mark(f"rate-{value}", "rated")
        button.on_click(lambda v=value: on_rate(v))


def reply_row(actions: ReplyActions, row: ui.row | None = None) -> ui.row:
    """Draw the row (into `row`, emptied first, when given: its place under the bubble stays)."""
    if row is None:
        row = ui.row().classes("chatui-actions items-center gap-1 no-wrap").mark("reply-actions")
    else:
        row.clear()
    with row:
        copy_button(actions.text)
        if actions.on_rate is not None:
            rating_buttons(actions.rating, actions.on_rate)
        if actions.on_continue is not None:
            _icon_button("Continue", "fast_forward", "continue").on_click(actions.on_continue)
        if actions.on_regenerate is not None:
            regenerate = actions.on_regenerate
            if actions.status in RETRYABLE:
                _icon_button("Retry", "replay", "retry").on_click(lambda: regenerate(None))
            else:
                _icon_button("Regenerate", "refresh", "regenerate").on_click(lambda: regenerate(None))
            with _icon_button("Regenerate with another model", "arrow_drop_down", "regenerate-with") as more:
                menu = ui.menu()

            def fill() -> None:
                menu.clear()
                with menu:
                    for model in actions.models():
                        item = ui.menu_item(model, on_click=lambda m=model: regenerate(m))
                        item.mark("regenerate-model", f"regenerate-with-{model}")

            more.on_click(fill)
        if actions.versions is not None:
            position, count = actions.versions
            previous = _icon_button("Previous version", "chevron_left", "previous-version")
            ui.label(f"{position} / {count}").classes("chatui-muted text-xs").mark("version")
            following = _icon_button("Next version", "chevron_right", "next-version")
            _wire(previous, actions.on_previous, position > 1)
            _wire(following, actions.on_next, position < count)
        if actions.on_fork is not None:
            _icon_button("Fork into a new conversation", "call_split", "fork").on_click(actions.on_fork)
    return row


def _wire(button: ui.button, action: Action | None, enabled: bool) -> None:
    if action is not None and enabled:
        button.on_click(action)
    else:
        button.disable()


def question_row(
    text: str,
    on_edit: Edit | None,
    versions: tuple[int, int] | None = None,
    on_previous: Action | None = None,
    on_next: Action | None = None,
    files: FilesField | None = None,
) -> ui.row:
    """The person's message: Copy and Edit (and its versions). `on_edit(new_text, file_ids)` answers whether it was
    sent; `files` gives the editor its files (without it, an edit keeps the message's files)."""
    with ui.row().classes("chatui-actions self-end items-center gap-1 no-wrap").mark("question-actions") as row:
        copy_button(text)
        if on_edit is not None:
            edit = _icon_button("Edit", "edit", "edit")
            edit.on_click(lambda: _open_editor(row, edit, text, on_edit, files))
        if versions is not None:
            position, count = versions
            previous = _icon_button("Previous version", "chevron_left", "previous-version")
            ui.label(f"{position} / {count}").classes("chatui-muted text-xs").mark("version")
            following = _icon_button("Next version", "chevron_right", "next-version")
            _wire(previous, on_previous, position > 1)
            _wire(following, on_next, position < count)
    return row


def _open_editor(row: ui.row, edit: ui.button, text: str, on_edit: Edit, files: FilesField | None) -> None:
    """Show an inline editor below the row; it closes on Cancel/Escape, or once the edit was sent.

    With `files`, the editor is an attachment scope of its own (`static/attach.js`): its paperclip, and a file dropped
    or pasted on it, go to its chips, not to the message box's.
    """
    slot = row.parent_slot
    assert slot is not None
    edit.disable()  # one editor at a time
    held: EditorFiles | None = None

    def close() -> None:
        if held is not None:
            held.clear()  # uploads still on their way stop
        editor.delete()
        edit.enable()

    with slot, ui.column().classes("chatui-editor w-full gap-1").mark("editor") as editor:
        area = (
            ui.textarea("Edit message", value=text)
            .props("autogrow outlined dense autofocus")
            .classes("w-full")
            .mark("edit-text")
        )

        async def submit() -> None:
            if held is not None and held.uploading:
                ui.notify("A file is still uploading: submit once it is in.", type="info")
                return
            if await on_edit(area.value or "", None if held is None else held.file_ids):
                close()

        area.on("keydown.enter.exact.prevent", submit)
        area.on("keydown.esc", close)
        chips = ui.column().classes("w-full gap-1")
        with ui.row().classes("w-full justify-end items-center gap-2") as buttons:
            ui.button("Cancel", on_click=close).props("flat no-caps").mark("cancel-edit")
            save = ui.button("Save & submit", on_click=submit).props("unelevated no-caps").mark("save-edit")
    if files is not None:
        editor.props("data-attach-scope")
        held = files(buttons, chips, save)
    editor.move(slot.parent, target_index=slot.children.index(row) + 1)
