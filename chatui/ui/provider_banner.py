"""First run and provider trouble: when the chat's model cannot answer, say why and what fixes it.

Shown instead of the empty chat's "Ask anything" (and above an open conversation), from the model registry's last
listing: the provider is down (Ollama not running → `ollama serve`), the model is not there (→ `ollama pull NAME`),
or the key was refused (→ which setting). The registry's messages are already worded for a person; this adds the
setting to change and, when another model works, that the picker has it.
"""

from __future__ import annotations

from dataclasses import dataclass

from nicegui import ui

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


def model_problem(model: str, models: list[ModelInfo], statuses: list[ProviderStatus]) -> Problem | None:
    """Why `model` cannot answer now, or None when it can (or nothing is known yet)."""
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
        if "key" in lowered or "401" in error or "403" in error:
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
