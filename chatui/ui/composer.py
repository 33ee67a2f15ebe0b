"""The message box at the foot of the chat: grows with its text, sends with Enter on a keyboard, counts near the limit.

- It grows up to ~40 % of the viewport, then scrolls inside (CSS `.chatui-composer`).
- Enter sends and Shift+Enter adds a line. On a touch screen Enter adds a line and the Send button sends: the
  browser decides (`static/chatui.js` keeps Enter from reaching the send listener when the pointer is coarse, or
  while an input method is composing), so no round trip and no per-key event reaches the server.
- Near the length limit a counter appears under the box (`data-max`, drawn by `static/chatui.js`); text over the
  limit is kept in the box and the server says what is wrong when it is sent.
- Stop replaces Send while a reply streams (Esc does the same).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nicegui import ui

SEND_EVENT = "keydown.enter.exact.prevent"
"""The composer's send listener (tests trigger it to press Enter)."""
CHAT_SHORTCUTS = [
    ("Enter", "Send the message (Shift + Enter: new line)"),
    ("Esc", "Stop the reply being written"),
    ("Ctrl + Shift + O", "New chat"),
    ("Ctrl + K", "Search conversations"),
]
"""The chat page's keys, listed in the page's shortcut help (the browser handles them: `static/chatui.js`)."""


@dataclass
class Composer:
    textarea: ui.textarea
    send: ui.button
    stop: ui.button
    footer: ui.footer
    row: ui.row
    """The box's row (the page may put its own controls in it, and above it in `footer`)."""

    def set_streaming(self, streaming: bool) -> None:
        self.send.visible = not streaming
        self.stop.visible = streaming


def composer(on_send: Callable[[], Awaitable[None]], on_stop: Callable[[], None], max_chars: int) -> Composer:
    with (
        ui.footer().classes("chatui-footer") as footer,
        ui.row().classes("chatui-column items-end no-wrap gap-2") as row,
    ):
        textarea = (
            ui.textarea(label="Message", placeholder="Enter sends · Shift+Enter adds a line")
            .props(f"autogrow outlined dense autofocus data-max={max_chars}")
            .classes("chatui-composer grow")
            .on(SEND_EVENT, on_send)
        )
        send = ui.button(icon="send", on_click=on_send).props("round unelevated aria-label=Send").mark("send")
        stop = ui.button(icon="stop", on_click=on_stop).props("round unelevated aria-label=Stop").mark("stop")
        stop.visible = False
    return Composer(textarea, send, stop, footer, row)
