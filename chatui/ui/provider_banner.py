"""First run and provider trouble: when the chat's model cannot answer, say why and what fixes it.

Two things, from the model registry's last listing:

- the *banner*, instead of the empty chat's "Ask anything" (and above an open conversation), when the chosen model
  cannot answer: the provider is down (Ollama not running → `ollama serve`), the model is not there (→ `ollama pull
  NAME`), or the key was refused (→ which setting);
- the *note*, one quiet dismissible line, when a new chat started on a working model because the configured
  `DEFAULT_MODEL` cannot answer. Nothing is wrong with the chat itself, so it is not a warning, and a person who
  has read it can dismiss it for good (`AccountService.dismiss_fallback_note`).

The fix (a command, an environment variable) is for administrators only: the person who can run it. Everyone else
is told to ask their administrator, since the registry's own messages name settings they cannot change.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nicegui import ui

from chatui.conversations.reply_errors import ASK_ADMIN
from providers.registry import ModelInfo, ProviderStatus, split_model_id

PROVIDER_NAMES = {"ollama": "Ollama", "openai": "OpenAI", "anthropic": "Anthropic", "local": "Local"}
KEY_SETTINGS = {"openai": "OPENAI_API_KEY (or OPENAI_BASE_URL)", "anthropic": "ANTHROPIC_API_KEY"}
URL_SETTINGS = {"ollama": "OLLAMA_BASE_URL", "openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}


@dataclass(frozen=True)
class Problem:
    title: str
    detail: str
    fix: str | None = None
    """A command or setting, shown as code."""


REFUSED = re.compile(r"(?<![\d.:])(401|403)(?!\d)")
"""A refusal's status code, not three digits of a port in the provider's address (`127.0.0.1:54017`)."""


def model_problem(
    model: str, models: list[ModelInfo], statuses: list[ProviderStatus], *, admin: bool = True
) -> Problem | None:
    """Why `model` cannot answer now, or None when it can; worded for an administrator (what to run or set) or for
    anyone else (ask the administrator)."""
    problem = _operator_problem(model, models, statuses)
    if problem is None or admin:
        return problem
    others = any(m.available for m in models if m.id != model)
    hint = " Or pick another model above." if others else ""
    return Problem(problem.title, f"{model} cannot answer now. {ASK_ADMIN}{hint}")


def _operator_problem(model: str, models: list[ModelInfo], statuses: list[ProviderStatus]) -> Problem | None:
    provider, name = split_model_id(model)
    shown = PROVIDER_NAMES.get(provider, provider)
    status = next((s for s in statuses if s.provider == provider), None)
    others = any(m.available for m in models if m.id != model)
    hint = " Or pick another model above." if others else ""
    if status is None:
        return Problem(
            f"The provider of {model} is not configured",
            f"chatui has no settings for {shown}.{hint}",
            KEY_SETTINGS.get(provider),
        )
    if not status.available:
        error = status.error or f"{shown} did not answer."
        lowered = error.lower()
        if "key" in lowered or REFUSED.search(error):
            return Problem(f"{shown} refused the API key", f"{error}{hint}", KEY_SETTINGS.get(provider))
        if provider == "ollama":
            return Problem("Ollama is not running", f"{error}{hint}", "ollama serve")
        return Problem(f"{shown} cannot be reached", f"{error}{hint}", URL_SETTINGS.get(provider))
    if not any(m.id == model and m.available for m in models):
        if provider == "ollama":
            detail = f"Ollama is running but has no {name}.{hint}"
            return Problem(f"The model {name} is not pulled", detail, f"ollama pull {name}")
        return Problem(f"{shown} has no model {name}", f"{shown} does not list it.{hint}")
    return None


def show_problem(problem: Problem) -> ui.element:
    """The banner (a polite live region, so a screen reader hears it when it appears after the page loads)."""
    box = ui.element("div").classes("chatui-banner").props("role=status aria-live=polite").mark("provider-banner")
    with box:
        ui.label(problem.title).classes("chatui-banner-title")
        ui.label(problem.detail)
        if problem.fix:
            with ui.row().classes("items-center gap-2"):
                ui.label("Fix:")
                ui.label(problem.fix).classes("chatui-banner-fix")
    return box


def fallback_note(default: str, new_chat: str, why: Problem | None, *, admin: bool) -> str:
    """The one line a new chat on a stand-in shows: which model answers instead of the default, and (to an
    administrator) why the default cannot and what fixes it."""
    said = f"New chats start on {new_chat}: the default model {default} is not available."
    if not admin:
        return f"{said} Ask your administrator if you need it."
    if why is None:
        return said
    fix = f" Fix: {why.fix}" if why.fix else ""
    return f"{said} {why.title}.{fix}"


def show_note(text: str, dismiss: Callable[[], Awaitable[None]]) -> ui.element:
    """The quiet note, with a button that dismisses it for good."""
    box = ui.element("div").classes("chatui-note").props("role=status").mark("fallback-note")
    with box:
        ui.label(text).classes("chatui-note-text")
        ui.button(icon="close", on_click=dismiss).props("flat round dense size=sm aria-label=Dismiss").tooltip(
            "Dismiss"
        ).mark("dismiss-note")
    return box
