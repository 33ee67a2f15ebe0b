"""The model picker in the chat header: models grouped by provider, with a search field when there are many.

Options keep their full id as label (`ollama:llama3.2:3b`, or `... (unavailable)`); a group header is an option
whose value starts with `@`, drawn by the option slot as a list header and never taken as a choice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from chatui.ui.provider_banner import PROVIDER_NAMES
from providers.registry import ModelInfo

SEARCH_FROM = 8
"""With at least this many models the picker gets a search field."""

_OPTION_SLOT = r"""
<q-item-label v-if="String(props.opt.value).startsWith('@')" header class="chatui-model-group">
  {{ props.opt.label }}
</q-item-label>
<q-item v-else v-bind="props.itemProps">
  <q-item-section><q-item-label>{{ props.opt.label }}</q-item-label></q-item-section>
</q-item>
"""


def grouped_options(models: list[ModelInfo], current: str) -> dict[str, str]:
    """`{value: label}` in provider order, each provider's models after a header when there is more than one."""
    providers = list(dict.fromkeys(m.provider for m in models))
    options: dict[str, str] = {}
    for provider in providers:
        if len(providers) > 1:
            options[f"@{provider}"] = PROVIDER_NAMES.get(provider, provider)
        for m in models:
            if m.provider == provider:
                options[m.id] = m.id if m.available else f"{m.id} (unavailable)"
    options.setdefault(current, current)
    return options


class ModelPicker:
    def __init__(self, model: str, on_change: Callable[[str], Awaitable[None]]) -> None:
        self.model = model
        self._on_change = on_change
        self.select = (
            ui.select({model: model}, value=model, label="Model", on_change=self._changed)
            .classes("chatui-model-select")
            .props("dense outlined options-dense")
        )
        self.select.add_slot("option", _OPTION_SLOT)

    def show(self, models: list[ModelInfo]) -> None:
        options = grouped_options(models, self.model)
        if sum(not key.startswith("@") for key in options) >= SEARCH_FROM:
            self.select.props("use-input input-debounce=0 hide-selected fill-input")
        self.select.set_options(options, value=self.model)

    async def _changed(self) -> None:
        value = self.select.value
        if not value or value == self.model:
            return
        if str(value).startswith("@"):  # a group header: not a model
            self.select.value = self.model
            return
        self.model = value
        await self._on_change(value)
