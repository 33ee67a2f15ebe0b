"""A settings card that lists what a person saved, with a button to add another (presets, the prompt library)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui


def list_section(name: str, title: str, about: str, on_add: Callable[[], Any]) -> ui.list:
    """The card (anchor `#{name}s`), its heading, "New {name}", a line saying what these are for; its empty list.

    Markers: `new-{name}` on the button, `{name}-list` on the list."""
    with ui.card().classes("chatui-card w-full gap-2").props(f"id={name}s"):
        with ui.row().classes("w-full items-center no-wrap"):
            ui.label(title).classes("text-base font-medium col").props("role=heading aria-level=2")
            ui.button(f"New {name}", icon="add", on_click=on_add).props("flat no-caps").mark(f"new-{name}")
        ui.label(about).classes("text-sm")
        return ui.list().props("separator").classes("w-full").mark(f"{name}-list")
