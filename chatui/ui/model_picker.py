"""The model picker in the chat header: models grouped by provider, with a search field when there are many.

What a person reads is the model's friendly name (`ModelInfo.label`: Anthropic's display name, an Ollama model
without `:latest`; OpenAI's API gives ids only, which are shown as they are), with a second line where the provider
says more (Ollama: size and quantisation) and the raw id on hover (`title`), also on the picker itself. A provider
that is down or misconfigured stays in the list: its models of the last time it answered, or a line with its error,
greyed and not choosable, saying why. (The configured default that a working provider does not list stays
choosable, marked unavailable: choosing it shows the banner that says how to get it.)

Options are `{value: label}`: a group header's value starts with `@`, a provider's error line's with `!`. What the
option slot draws beside the label (header or not, second line, hover text, disabled) rides on each option NiceGUI
sends to the browser (`_ModelSelect`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from chatui.ui.provider_banner import PROVIDER_NAMES
from providers.registry import ModelInfo, ProviderStatus

SEARCH_FROM = 8
"""With at least this many models the picker gets a search field."""

_OPTION_SLOT = r"""
<q-item-label v-if="props.opt.header" header class="chatui-model-group">{{ props.opt.label }}</q-item-label>
<q-item v-else v-bind="props.itemProps" :title="props.opt.title" :class="{'chatui-model-off': props.opt.disable}">
  <q-item-section>
    <q-item-label>{{ props.opt.label }}</q-item-label>
    <q-item-label v-if="props.opt.caption" caption class="chatui-model-caption">{{ props.opt.caption }}</q-item-label>
  </q-item-section>
</q-item>
"""


class _ModelSelect(ui.select):
    """`ui.select` whose options also carry `extras[value]` (`header`, `caption`, `title`, `disable`: Quasar greys and
    skips an option whose `disable` is true). NiceGUI sends an option as `{value: index, label}` only."""

    extras: dict[Any, dict[str, Any]] = {}  # noqa: RUF012 (replaced whole, never changed in place)

    def _update_options(self) -> None:
        super()._update_options()
        for option, value in zip(self._props["options"], self._values, strict=True):
            option.update(self.extras.get(value, {}))


def grouped_options(
    models: list[ModelInfo], current: str, statuses: list[ProviderStatus] | None = None
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """`{value: label}` in provider order, each provider's models after a header when there is more than one
    provider, and what each option shows besides its label."""
    down = {s.provider: _what(s.error) for s in statuses or [] if not s.available}
    providers = list(dict.fromkeys([*(m.provider for m in models), *down]))
    options: dict[str, str] = {}
    extras: dict[str, dict[str, Any]] = {}
    for provider in providers:
        if len(providers) > 1:
            shown = PROVIDER_NAMES.get(provider, provider)
            options[f"@{provider}"] = f"{shown} (unavailable)" if provider in down else shown
            extras[f"@{provider}"] = {"header": True, "disable": True}
        own = [m for m in models if m.provider == provider]
        for m in own:
            label = m.label or m.name
            options[m.id] = label if m.available else f"{label} (unavailable)"
            greyed = provider in down and m.id != current
            reason = _what(m.reason) if m.reason else None
            extras[m.id] = {
                "title": m.id if m.available or not reason else f"{m.id}: {reason}",
                "caption": m.detail if m.available else reason,
                "disable": greyed,
            }
        if provider in down and not own:
            options[f"!{provider}"] = down[provider]
            extras[f"!{provider}"] = {"title": down[provider], "disable": True}
    options.setdefault(current, current)
    return options, extras


def _what(error: str | None) -> str:
    """What is wrong, without the advice after it (`cannot reach Ollama at …; start it with …`): how to fix it is
    the banner's, in words for who reads it (an administrator's settings, or "ask your administrator")."""
    return (error or "not available").split("; ")[0]


class ModelPicker:
    def __init__(self, model: str, on_change: Callable[[str], Awaitable[None]]) -> None:
        self.model = model
        self._on_change = on_change
        # the raw id on hover (the field shows the friendly name); Quasar's field does not take a `title` itself
        self.hover = ui.element("div").classes("chatui-model-hover").mark("model-hover")
        self.hover.props["title"] = model
        with self.hover:
            self.select = (
                _ModelSelect({model: model}, value=model, label="Model", on_change=self._changed)
                .classes("chatui-model-select")
                .props("dense outlined options-dense")
            )
        self.select.add_slot("option", _OPTION_SLOT)

    def show(self, models: list[ModelInfo], statuses: list[ProviderStatus] | None = None) -> None:
        options, self.select.extras = grouped_options(models, self.model, statuses)
        if sum(key[:1] not in "@!" for key in options) >= SEARCH_FROM:
            self.select.props("use-input input-debounce=0 hide-selected fill-input")
        self.select.set_options(options, value=self.model)
        self.hover.props["title"] = self.model

    async def _changed(self) -> None:
        value = self.select.value
        if not value or value == self.model:
            return
        if str(value)[:1] in "@!":  # a group header or a provider's error: not a model
            self.select.value = self.model
            return
        self.model = value
        self.hover.props["title"] = value
        await self._on_change(value)
