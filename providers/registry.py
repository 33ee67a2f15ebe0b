"""Model ids (`provider:name`), and the cached, parallel list of what every configured provider serves."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from providers.base import ModelLabel, Provider
from providers.errors import ProviderError

log = logging.getLogger(__name__)

KNOWN_PROVIDERS = ("ollama", "openai", "anthropic", "local")
LOCAL = "local"
"""The in-process model: new chats fall back to it only when no other provider has a model to offer."""


def split_model_id(model_id: str) -> tuple[str, str]:
    """`openai:gpt-4o-mini` → (`openai`, `gpt-4o-mini`); an id without a known prefix is an Ollama model."""
    prefix, sep, rest = model_id.partition(":")
    if sep and prefix in KNOWN_PROVIDERS and rest:
        return prefix, rest
    return "ollama", model_id


def qualify_model_id(model_id: str) -> str:
    """The canonical `provider:name` form of a model id (`llama3.2:3b` → `ollama:llama3.2:3b`)."""
    provider, name = split_model_id(model_id.strip())
    return f"{provider}:{name}"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of the model picker: `label` is what a person reads (the provider's friendly name where its API
    gives one, else `name`), `detail` a second line (Ollama: size, quantisation); `reason` says why an unavailable
    model cannot be used (its provider's error, or that the provider does not list it)."""

    id: str
    provider: str
    name: str
    available: bool
    label: str = ""
    detail: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """Whether a provider answered the last listing, and why not."""

    provider: str
    available: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class NewChatModel:
    """The model a new chat starts on: the configured default when it is available, else one that is.

    `reason` says, in words for a person, why the default was passed over (None when it was not); the first-run
    note shows it. When no default was configured (`ModelRegistry.configured` false) the first model that answers
    *is* the default: `is_default` is true and there is nothing to say.
    """

    id: str
    is_default: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Listing:
    """One provider's last answer to "which models do you serve?"."""

    names: tuple[str, ...]
    """What it served; after a failure, what it served when it last answered (listed as unavailable)."""
    error: str | None
    at: float
    """`time.monotonic()` when the answer came."""
    slow: bool
    """It took half the timeout or more to answer or to fail (a provider that accepts and never answers): no
    request waits on it again; it is looked at again in the background."""
    labels: Mapping[str, ModelLabel] = field(default_factory=dict)


class ModelRegistry:
    """Knows the configured providers and lists their models, each provider cached on its own.

    A request waits on a provider only the first time it is listed (bounded by `timeout`) or when a fresh look is
    asked for and the provider answered quickly last time. Otherwise the answer comes from the cache, and a stale
    entry (older than `ttl`, or than `recheck` after a failure) is refreshed in the background: a provider that
    hangs costs one request the timeout once, then nothing (`bench/dead_provider.py`).
    """

    def __init__(
        self,
        providers: dict[str, Provider],
        default_model: str,
        *,
        configured: bool = True,
        timeout: float = 1.5,
        ttl: float = 60.0,
        recheck: float = 10.0,
    ) -> None:
        self.providers = providers
        self.default_model = qualify_model_id(default_model)
        self.configured = configured
        """False when the operator named no default: `default_model` is then only the first choice, and passing it
        over for a model that answers is no news (a fresh install with no provider starts on the local model)."""
        self.timeout = timeout
        self.ttl = ttl
        self.recheck = recheck
        self._listings: dict[str, _Listing] = {}
        self._checks: dict[str, asyncio.Task[None]] = {}

    def resolve(self, model_id: str) -> tuple[Provider, str]:
        """The provider and the provider's own model name for a model id; `KeyError` if not configured."""
        provider_name, name = split_model_id(model_id)
        provider = self.providers.get(provider_name)
        if provider is None:
            raise KeyError(provider_name)
        return provider, name

    def warm(self, model_id: str) -> None:
        """Tell the model's provider a reply may be asked for soon (`Provider.warm`); nothing if not configured."""
        try:
            provider, _ = self.resolve(model_id)
        except KeyError:
            return
        provider.warm()

    async def can_think(self, model_id: str) -> bool:
        """Whether the model takes a reasoning effort (`Provider.can_think`), asked within the listing's timeout;
        no for a provider that is not configured, fails or is slow to say."""
        try:
            provider, name = self.resolve(model_id)
        except KeyError:
            return False
        try:
            async with asyncio.timeout(self.timeout):
                return await provider.can_think(name)
        except (TimeoutError, ProviderError):
            return False

    async def models(self, *, refresh: bool = False) -> tuple[list[ModelInfo], list[ProviderStatus]]:
        """Every known model, the default first; a provider that is down is listed as unavailable.

        `refresh`: look again now at every provider that answered quickly last time (a slow one is only asked again
        in the background).
        """
        now = time.monotonic()
        waits: list[asyncio.Task[None]] = []
        for name in self.providers:
            listing = self._listings.get(name)
            if listing is None or (refresh and not listing.slow):
                waits.append(self._check(name))
            elif now - listing.at >= (self.recheck if listing.error else self.ttl):
                self._check(name)  # in the background: this answer comes from the cache
        if waits:
            await asyncio.wait(waits)  # each check is bounded by the timeout, and runs on if this request is gone
        return self._assemble()

    async def checked(self) -> None:
        """Until the listings under way (also those in the background) have ended: for tests and benchmarks."""
        running = [task for task in self._checks.values() if not task.done()]
        if running:
            await asyncio.wait(running)

    async def model_for_new_chat(self) -> NewChatModel:
        """`DEFAULT_MODEL` when it is available; else a model of the default's provider, then of another provider,
        then the in-process local model (so a fresh install with no server still answers); else the default anyway.
        The reason is given only when a default the operator configured was passed over.
        """
        models, statuses = await self.models()
        if not any(m.id == self.default_model and m.available for m in models):
            models, statuses = await self.models(refresh=True)  # a fresh look before passing the default over
        available = [m for m in models if m.available]
        if any(m.id == self.default_model for m in available):
            return NewChatModel(self.default_model, True)
        provider, _ = split_model_id(self.default_model)
        down = next((s.error for s in statuses if s.provider == provider and s.error), None)
        why = down or (
            f"{provider} does not list it" if provider in self.providers else f"the {provider} provider is not set up"
        )
        reason = f"The default model {self.default_model} is not available ({why})."
        # the default's own provider first, then the others in their configured order, the local model last
        ranked = sorted(available, key=lambda m: (m.provider == LOCAL, m.provider != provider))
        if not ranked:
            return NewChatModel(self.default_model, True, f"{reason} No other model is available either.")
        if not self.configured:
            return NewChatModel(ranked[0].id, True)
        return NewChatModel(ranked[0].id, False, f"{reason} New chats start on {ranked[0].id}.")

    def _assemble(self) -> tuple[list[ModelInfo], list[ProviderStatus]]:
        models: list[ModelInfo] = []
        statuses: list[ProviderStatus] = []
        for name in self.providers:
            listing = self._listings.get(name)
            if listing is None:  # only when its first listing was cancelled
                statuses.append(ProviderStatus(name, False, f"{self.providers[name].display_name} was not listed"))
                continue
            statuses.append(ProviderStatus(name, listing.error is None, listing.error))
            up = listing.error is None
            for model in sorted(listing.names):
                label = listing.labels.get(model) or ModelLabel(model)
                models.append(ModelInfo(f"{name}:{model}", name, model, up, label.label, label.detail, listing.error))
        if self.default_model not in {m.id for m in models}:
            provider, name = split_model_id(self.default_model)
            down = next((s.error for s in statuses if s.provider == provider and s.error), None)
            if down is None:
                down = f"{provider} does not list it" if provider in self.providers else f"{provider} is not set up"
            models.insert(0, ModelInfo(self.default_model, provider, name, False, name, None, down))
        else:
            models.sort(key=lambda m: m.id != self.default_model)
        return models, statuses

    def _check(self, name: str) -> asyncio.Task[None]:
        """The provider's listing under way, or a new one (one at a time per provider, shared by every request)."""
        task = self._checks.get(name)
        if task is None or task.done():
            task = asyncio.create_task(self._list(name), name=f"list models of {name}")
            self._checks[name] = task
        return task

    async def _list(self, name: str) -> None:
        provider = self.providers[name]
        started = time.monotonic()
        names, error = await self._list_one(provider)
        ended = time.monotonic()
        slow = ended - started >= self.timeout / 2
        before = self._listings.get(name)
        if error is None:
            self._listings[name] = _Listing(tuple(names), None, ended, slow, MappingProxyType(dict(provider.labels)))
        elif before is not None:  # what it served stays in the picker, greyed, with why it cannot answer now
            self._listings[name] = _Listing(before.names, error, ended, slow, before.labels)
        else:
            self._listings[name] = _Listing((), error, ended, slow)

    async def _list_one(self, provider: Provider) -> tuple[list[str], str | None]:
        try:
            async with asyncio.timeout(self.timeout):
                return await provider.list_models(), None
        except TimeoutError:
            return [], f"{provider.display_name} did not list its models within {self.timeout:g} s"
        except ProviderError as exc:
            return [], exc.message
        except Exception as exc:  # a listing must never break the page
            log.warning("listing models of %s failed: %r", provider.name, exc)
            return [], f"{provider.display_name} could not list its models"

    async def aclose(self) -> None:
        for task in self._checks.values():
            task.cancel()
        await asyncio.gather(*(p.aclose() for p in self.providers.values()), return_exceptions=True)
