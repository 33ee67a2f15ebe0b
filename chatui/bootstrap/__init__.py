"""Builds every long-lived object of the app once, from the settings — nothing below this is global."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from chatui.accounts.auth import AuthService, SessionPolicy
from chatui.accounts.guesses import AuthLimits
from chatui.accounts.passwords import PasswordHasher
from chatui.accounts.service import AccountService
from chatui.accounts.signup import SignUp, SignupMode
from chatui.bootstrap.limits import file_limits, import_limits, knowledge_limits
from chatui.bootstrap.providers import announce, build_providers
from chatui.config import FIRST_CHOICE_MODEL, Settings
from chatui.conversations.exports import Exports
from chatui.conversations.organizer import Organizer
from chatui.conversations.presets import PresetService
from chatui.conversations.prompts import PromptLibrary
from chatui.conversations.service import ConversationService
from chatui.conversations.shares import ShareService
from chatui.conversations.titles import TitleWriter
from chatui.coordination.base import Coordination, InstanceHooks
from chatui.coordination.local import LocalCoordination
from chatui.coordination.sockets import SocketSlots
from chatui.coordination.throttles import Throttle
from chatui.engine.attachments import AttachmentOptions, Attachments
from chatui.engine.engine import EngineOptions, GenerationEngine
from chatui.engine.events import ConversationEvents
from chatui.engine.generation import Generation
from chatui.engine.tool_loop import ToolRunner
from chatui.files.service import FileService
from chatui.knowledge.service import KnowledgeService
from chatui.tools import ToolLimits, ToolRegistry, parse_servers
from chatui.transfer.board import ImportBoard, LocalImportBoard
from chatui.transfer.jobs import ImportJobs
from providers.base import Provider
from providers.local import LocalProvider
from providers.registry import ModelRegistry
from storage import (
    AccountRepository,
    ConversationRepository,
    Database,
    KnowledgeRepository,
    SearchHit,
    SearchRepository,
    ShareRepository,
    lock,
)
from storage.files import FileRepository
from storage.orphans import StreamingReplies
from storage.presets import PresetRepository
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
    files: FileRepository


@dataclass
class Services:
    """What pages, REST and `/ws` call: services only, each with its rules inside."""

    settings: Settings
    auth: AuthService
    accounts: AccountService
    signup: SignUp
    """Who may sign up, invitations, and the mode an administrator sets."""
    conversations: ConversationService
    """Everything about a conversation: reading, sending, changing, deleting, searching."""
    organizer: Organizer
    """Pins, the archive, folders and tags."""
    shares: ShareService
    """Share links: snapshots behind secret tokens, and copying one into another account."""
    exports: Exports
    imports: ImportJobs
    files: FileService
    """Attachments: upload, download, which files a message may carry."""
    models: ModelRegistry
    sockets: SocketSlots
    engine: GenerationEngine
    tools: ToolRegistry
    """Built-in tools and the configured MCP servers (connected in the background at start)."""
    store: Store
    presets: PresetService
    """Presets ("assistants"): the settings New chat can start from."""
    prompts: PromptLibrary
    """The prompt library: saved prompts the message box inserts after `/`."""
    knowledge: KnowledgeService
    """Knowledge collections: documents read in the background, passages retrieved for replies (issue 25)."""

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
        self.files.start()
        await self.knowledge.start()
        await self.tools.start()
        await self.engine.coordination.start(instance_hooks(self.engine, self.auth))
        local = self.models.providers.get(LocalProvider.name)
        if isinstance(local, LocalProvider):
            # Before the server answers anyone: xllamacpp holds Python's GIL while llama.cpp loads the file, so a
            # load while serving would freeze the event loop for its whole length (~2 s measured, bench.local_model).
            loading = local.start()
            if loading is not None:
                await loading
                announce(local)

    async def stop(self) -> None:
        await self.conversations.aclose()
        await self.files.aclose()
        await self.knowledge.aclose()
        await self.imports.shutdown()
        await self.engine.shutdown()
        await self.engine.coordination.stop()  # after the engine stored the end of every reply
        await self.tools.aclose()
        await self.models.aclose()
        await self.store.db.close()
        self.auth.hasher.close()


def build_coordination(settings: Settings, db: Database) -> Coordination[Generation]:
    """One process, or (with `REDIS_URL`) one of several instances coordinated through Redis."""
    if not settings.redis_url:
        return LocalCoordination()
    from chatui.coordination.redis import RedisCoordination

    return RedisCoordination(settings.redis_url, settings.redis_prefix, settings.lease_seconds, StreamingReplies(db))


def build_import_board(settings: Settings, coordination: Coordination[Generation]) -> ImportBoard:
    """Import slots and jobs in this process, or (with `REDIS_URL`) on the coordination's Redis."""
    if not settings.redis_url:
        return LocalImportBoard()
    from chatui.coordination.redis import RedisCoordination
    from chatui.transfer.shared import RedisImportBoard

    assert isinstance(coordination, RedisCoordination)

    return RedisImportBoard(coordination.redis, coordination.prefix, coordination.lease)


def instance_hooks(engine: GenerationEngine, auth: AuthService) -> InstanceHooks[Generation]:
    """What this instance does when another one asks: follow its replies, stop ours, carry out its revocations."""
    return InstanceHooks(
        mirror=Generation.mirroring,
        announce=engine.announce,
        watched=engine.events.watched,
        stop=engine.stop_here,
        approve=engine.approve_here,
        user_revoked=auth.user_revoked_here,
        session_revoked=auth.session_revoked_here,
    )


def build_tools(settings: Settings, search: SearchRepository, knowledge: KnowledgeService) -> ToolRegistry:
    async def search_history(user_id: str, query: str, limit: int) -> list[SearchHit]:
        return await search.search(user_id, query, limit=limit)

    limits = ToolLimits(
        call_seconds=settings.tool_timeout,
        output_max_chars=settings.tool_output_max_chars,
        connect_seconds=settings.mcp_connect_timeout,
        refresh_seconds=settings.mcp_refresh_seconds,
    )
    servers = parse_servers(settings.mcp_servers.get_secret_value())
    return ToolRegistry(servers, search_history, limits, knowledge=knowledge.search_everywhere)


def build_knowledge(settings: Settings, db: Database, models: ModelRegistry) -> KnowledgeService:
    """Knowledge collections; with CHATUI_EMBEDDING_MODEL, chunks embedded in the background and hybrid retrieval."""
    embedder = hybrid = None
    if settings.embedding_model:
        from chatui.knowledge.embedding import Embedder, registry_embedder
        from chatui.knowledge.hybrid import HybridRetrieval
        from storage.knowledge_vectors import VectorRepository
        from storage.vector_index import VectorIndex  # numpy: loaded only for hybrid retrieval

        vectors = VectorRepository(db)
        embed = registry_embedder(models, settings.embedding_model)
        index = VectorIndex(vectors, settings.embedding_model)
        retry = settings.embedding_retry_seconds
        embedder = Embedder(vectors, embed, settings.embedding_model, retry_seconds=retry, stored=index.warm)
        hybrid = HybridRetrieval(vectors, index, embed, timeout=settings.embedding_timeout)
    return KnowledgeService(
        KnowledgeRepository(db),
        knowledge_limits(settings),
        settings.data_dir / "uploads",
        single_instance=not settings.redis_url,
        embedder=embedder,
        hybrid=hybrid,
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
    search = SearchRepository(db)
    models = ModelRegistry(
        dict(providers) if providers is not None else build_providers(settings),
        settings.default_model or FIRST_CHOICE_MODEL,
        configured=settings.default_model is not None,
        timeout=settings.model_list_timeout,
    )
    knowledge = build_knowledge(settings, db, models)
    tools = build_tools(settings, search, knowledge)
    events = ConversationEvents()
    engine = GenerationEngine(
        chats,
        models,
        Throttle("messages", settings.messages_per_minute, 60, coordination.limit_storage),
        EngineOptions(
            checkpoint_seconds=settings.checkpoint_seconds,
            provider_retries=settings.provider_retries,
            prompt_max_chars=settings.prompt_max_chars,
            starting_at_once=settings.starting_at_once,
            text_only_models=tuple(filter(None, (p.strip() for p in settings.text_only_models.split(",")))),
        ),
        events,
        coordination,
        Attachments(
            FileRepository(db),
            AttachmentOptions(
                text_max_chars=settings.attachment_text_max_chars,
                pdf_seconds=settings.pdf_text_seconds,
                pdf_max_pages=settings.pdf_max_pages,
            ),
        ),
        ToolRunner(tools, settings.tool_max_steps),
        knowledge=knowledge.retrieve,
    )
    auth = AuthService(
        accounts,
        secret,
        PasswordHasher(settings.bcrypt_rounds, settings.hashing_threads),
        AuthLimits.build(
            coordination, settings.login_attempts, settings.login_window_seconds, settings.registrations_per_hour
        ),
        policy=SessionPolicy(
            idle=timedelta(days=settings.session_idle_days),
            absolute=timedelta(days=settings.session_max_days),
            reuse=timedelta(seconds=settings.check_reuse_seconds),
        ),
        single_user=settings.single_user,
        coordination=coordination,
        on_user_revoked=[engine.stop_user],
        on_session_revoked=[engine.stop_session],
    )
    titles = (
        TitleWriter(chats, models, events, timeout=settings.ai_title_seconds, title_model=settings.title_model)
        if settings.ai_titles
        else None
    )
    creations = Throttle("conversations", settings.conversations_per_minute, 60, coordination.limit_storage)
    file_service = FileService(FileRepository(db), file_limits(settings), settings.data_dir / "uploads")
    conversations = ConversationService(
        chats,
        engine,
        models,
        events,
        titles,
        accounts=accounts,
        creations=creations,
        max_message_chars=settings.max_message_chars,
        owner_reuse_seconds=settings.check_reuse_seconds,
        search=search,
        shelf=UndoShelf(db),
        files=file_service,
    )
    sockets = coordination.socket_slots(settings.max_sockets_per_user, settings.max_sockets_per_session)
    transfer = TransferRepository(db)
    saved = PresetRepository(db)
    imports = ImportJobs(
        import_limits(settings),
        db.url.render_as_string(hide_password=False),
        settings.data_dir / "imports",
        models.default_model,
        build_import_board(settings, coordination),
    )
    return Services(
        settings,
        auth,
        AccountService(accounts, auth),
        SignUp(accounts, auth, SignupMode(settings.signup), timedelta(days=settings.invite_days)),
        conversations,
        Organizer(chats),
        ShareService(ShareRepository(db), secret, creations=creations, quota_bytes=file_service.limits.quota_bytes),
        Exports(transfer, file_service.files, saved),
        imports,
        file_service,
        models,
        sockets,
        engine,
        tools,
        Store(db, accounts, chats, search, transfer, file_service.files),
        presets=PresetService(saved),
        prompts=PromptLibrary(saved),
        knowledge=knowledge,
    )
