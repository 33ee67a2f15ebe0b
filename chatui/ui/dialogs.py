"""The one dialog shape every page uses: a title, a few fields or a sentence, Cancel and one action.

`confirm()` asks yes or no, `prompt()` asks for one value, `form()` for several. Enter in a field submits (as the
action button does); Escape or a click outside cancels. A `check` runs on submit and keeps the dialog open with its
message when it returns one (e.g. "The current password is wrong."), so the person can correct the input.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from nicegui import ui

Check = Callable[[dict[str, str]], Awaitable[str | None]]


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    value: str = ""
    password: bool = False
    autocomplete: str = "off"


async def form(
    title: str,
    fields: Sequence[Field],
    action: str,
    *,
    text: str | None = None,
    check: Check | None = None,
    danger: bool = False,
    marker: str | None = None,
) -> dict[str, str] | None:
    """Show the fields; the values when the person submits (and `check` passes), None when they cancel."""
    with ui.dialog() as dialog, ui.card().classes("chatui-dialog"):
        ui.label(title).classes("text-lg font-medium").props("role=heading aria-level=2")
        if text:
            ui.label(text)
        inputs: dict[str, ui.input] = {}
        for i, field in enumerate(fields):
            inputs[field.key] = (
                ui.input(field.label, value=field.value, password=field.password)
                .classes("w-full")
                .props(f"outlined dense autocomplete={field.autocomplete}{' autofocus' if i == 0 else ''}")
            )
        error = ui.label().classes("chatui-error-text text-sm").mark("dialog-error")
        error.visible = False

        async def submit() -> None:
            values = {key: (element.value or "") for key, element in inputs.items()}
            problem = await check(values) if check is not None else None
            if problem:
                error.text = problem
                error.visible = True
                return
            dialog.submit(values)

        for element in inputs.values():
            element.on("keydown.enter", submit)
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
            focus = "" if fields else " autofocus"
            colour = " color=negative" if danger else ""
            button = ui.button(action, on_click=submit).props(f"unelevated no-caps{colour}{focus}")
            if marker:
                button.mark(marker)
    result = await dialog
    dialog.delete()
    return result if isinstance(result, dict) else None


async def prompt(
    title: str,
    label: str,
    action: str,
    *,
    value: str = "",
    password: bool = False,
    check: Check | None = None,
    marker: str | None = None,
) -> str | None:
    """One value, or None when cancelled."""
    values = await form(title, [Field("value", label, value, password)], action, check=check, marker=marker)
    return None if values is None else values["value"]


async def confirm(title: str, text: str, action: str, *, danger: bool = False, marker: str | None = None) -> bool:
    """True when the person confirms."""
    return await form(title, [], action, text=text, danger=danger, marker=marker) is not None
