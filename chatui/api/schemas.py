"""Request and response bodies of the JSON API (`XCreate` in, `XPublic` out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chatui.accounts.names import NAME_INPUT_MAX
from chatui.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from chatui.conversations.organizer import FOLDER_NAME_MAX, TAG_MAX, TAGS_MAX
from chatui.conversations.rules import (
    MAX_TOKENS_RANGE,
    MODEL_ID_MAX,
    NO_CONTROL_CHARACTERS,
    SEED_RANGE,
    SYSTEM_PROMPT_MAX,
    TEMPERATURE_RANGE,
    TITLE_MAX,
    TOP_P_RANGE,
)
from providers.base import Effort

# The service's own rules (`chatui.conversations.rules`), checked here too so the API's schema shows them.
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX, pattern=NO_CONTROL_CHARACTERS),
]
ModelId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MODEL_ID_MAX, pattern=NO_CONTROL_CHARACTERS),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Credentials(Strict):
    username: str = Field(min_length=1, max_length=NAME_INPUT_MAX)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class Registration(Strict):
    username: str = Field(
        max_length=NAME_INPUT_MAX,
        description="3 to 32 letters, digits, '.', '_' or '-' (after NFKC; compared case-insensitively)",
    )
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    invite: str | None = Field(None, min_length=1, max_length=100, description="an invitation link's token")


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class UserPublic(BaseModel):
    id: str
    username: str


class SignedUp(UserPublic):
    approved: bool
    """False: the account waits for an administrator and can sign in to nothing until then."""


class UserAdminView(UserPublic):
    is_admin: bool
    is_disabled: bool
    approved: bool
    state: Literal["pending", "disabled", "active"]
    created_at: datetime


class AdminUserUpdate(Strict):
    disabled: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=MAX_PASSWORD_LENGTH)
    approved: bool | None = None
    is_admin: bool | None = None


class AdminUserCreate(Strict):
    username: str = Field(max_length=NAME_INPUT_MAX)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    is_admin: bool = False


class InvitePublic(BaseModel):
    url: str
    expires_at: datetime


class SignupSetting(Strict):
    mode: Literal["open", "approval", "closed"]


SystemPrompt = Annotated[str, StringConstraints(max_length=SYSTEM_PROMPT_MAX)]
Temperature = Annotated[float, Field(ge=TEMPERATURE_RANGE[0], le=TEMPERATURE_RANGE[1])]
MaxTokens = Annotated[int, Field(ge=MAX_TOKENS_RANGE[0], le=MAX_TOKENS_RANGE[1], strict=True)]
TopP = Annotated[float, Field(gt=TOP_P_RANGE[0], le=TOP_P_RANGE[1])]
Seed = Annotated[int, Field(ge=SEED_RANGE[0], le=SEED_RANGE[1], strict=True)]
MessageId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ToolId = Annotated[str, StringConstraints(min_length=3, max_length=120)]


class ChatSettingsFields(Strict):
    """What a conversation's replies are asked with; each applies from the next reply on."""

    system_prompt: SystemPrompt | None = Field(
        None, description=f"At most {SYSTEM_PROMPT_MAX:,} characters; null clears it"
    )
    temperature: Temperature | None = Field(
        None, description=f"{TEMPERATURE_RANGE[0]:g} to {TEMPERATURE_RANGE[1]:g}; null leaves the provider's default"
    )
    max_tokens: MaxTokens | None = Field(
        None, description="The longest reply in tokens; null leaves the provider's default (Anthropic: 4,096)"
    )
    top_p: TopP | None = Field(None, description="Above 0, at most 1; null leaves the provider's default")
    seed: Seed | None = Field(None, description="Sampling seed (not sent to Anthropic, whose API has none)")
    reasoning_effort: Effort | None = Field(
        None,
        description="The Think control: how hard a model that can think is asked to (Ollama's think level, OpenAI's "
        "`reasoning_effort`, Anthropic's thinking `budget_tokens`); null leaves it to the model. A model that cannot "
        "think is not sent it.",
    )
    tools: list[ToolId] | None = Field(
        None,
        max_length=100,
        description="The tools the model may call in this chat: `server:tool` or `server:*` (GET /api/tools); "
        "[] or null: none. A conversation made without it starts with the account's `default_tools`.",
    )


CHAT_SETTINGS = ("system_prompt", "temperature", "max_tokens", "top_p", "seed", "reasoning_effort", "tools")


class ConversationCreate(ChatSettingsFields):
    """Without `system_prompt` the conversation takes the account's default one."""

    title: Title | None = None
    model: ModelId | None = None
    preset_id: str | None = Field(
        None, max_length=64, description="Start from this preset (GET /api/presets): its settings, under those given"
    )


FolderId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=TAG_MAX * 4)]


class ConversationUpdate(ChatSettingsFields):
    title: Title | None = None
    model: ModelId | None = None
    pinned: bool | None = Field(None, description="Pinned conversations head the list")
    archived: bool | None = Field(None, description="Archived ones leave the list (`?archived=true` lists them)")
    folder_id: FolderId | None = Field(None, description="One of your folders; null takes it out of its folder")
    tags: list[Tag] | None = Field(
        None, max_length=TAGS_MAX, description=f"Replaces its tags (lower-cased, at most {TAG_MAX} characters each)"
    )
    active_message_id: MessageId | None = Field(
        None, description="Make the path through this message active, down to its newest leaf"
    )
    knowledge: list[FolderId] | None = Field(
        None, max_length=20, description="Knowledge collections to answer from (GET /api/knowledge); [] or null: none"
    )


class FolderCreate(Strict):
    name: str = Field(min_length=1, max_length=FOLDER_NAME_MAX * 2)
    parent_id: FolderId | None = Field(None, description="A top-level folder to put it in (one level of nesting)")
    position: int | None = Field(None, ge=0, le=1_000_000, description="Order among its siblings; default: last")


class FolderUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=FOLDER_NAME_MAX * 2)
    parent_id: FolderId | None = Field(None, description="null: to the top level")
    position: int | None = Field(None, ge=0, le=1_000_000)


class FolderPublic(BaseModel):
    id: str
    name: str
    parent_id: str | None
    position: int
    created_at: datetime


class ForkCreate(Strict):
    message_id: MessageId = Field(description="The last message the fork holds (with every message above it)")


class ConversationPublic(BaseModel):
    id: str
    title: str | None
    model: str
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    seed: int | None = None
    reasoning_effort: Effort | None = None
    tools: list[str] = Field(default_factory=list, description="The tools the model may call (`server:tool`)")
    pinned: bool = False
    archived: bool = False
    folder_id: str | None = None
    tags: list[str] = []
    preset_id: str | None = Field(None, description="The preset it started from (null: none)")
    knowledge: list[str] = Field(default_factory=list, description="The knowledge collections it answers from")
    created_at: datetime
    updated_at: datetime

    @field_validator("tools", "knowledge", mode="before")
    @classmethod
    def _none_is_no_tools(cls, value: object) -> object:
        return [] if value is None else value


class UsagePublic(BaseModel):
    """Token counts as the provider reported them (null where it did not)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class FilePublic(BaseModel):
    """An uploaded file; `media_type` is what its bytes are, found by reading them."""

    id: str
    name: str
    media_type: str
    size: int = Field(description="Bytes")


class SourcePublic(BaseModel):
    """A knowledge passage a reply was given, numbered as the reply cites it (`[n]`)."""

    n: int
    document_id: str
    document_name: str
    collection_id: str
    chunk_id: int
    page: int | None = None
    heading: str | None = None
    excerpt: str = Field(description="The passage's first characters")


class ReasoningPublic(BaseModel):
    """What the model thought before it answered (shown folded above the answer; never sent to a model again)."""

    text: str
    seconds: float | None = Field(None, description="How long it thought, when known")


class AttachmentPublic(FilePublic):
    """A file as a message carries it."""

    note: str | None = Field(
        None,
        description="What the model was not sent of this file, in words (its text cut at "
        "CHATUI_ATTACHMENT_TEXT_MAX_CHARS, a PDF's time limit, a damaged PDF); null when it got all of it",
    )


class MessagePublic(BaseModel):
    id: str
    parent_id: str | None
    role: str
    content: str
    status: str
    model: str | None
    usage: UsagePublic
    error: str | None = None
    cut_off: bool = Field(False, description="The reply stopped at the token limit (Continue carries it on)")
    created_at: datetime
    sibling_ids: list[str] = Field(description="Every version of this message, oldest first, itself included")
    sibling_index: int = Field(description="Where this message is in `sibling_ids`")
    attachments: list[AttachmentPublic] = Field(
        default_factory=list, description="The files sent with the message, in order (`GET /api/files/{id}`)"
    )
    reasoning: ReasoningPublic | None = Field(None, description="A reply's reasoning, when the model thought")
    sources: list[SourcePublic] = Field(default_factory=list, description="The knowledge passages a reply was given")


class PageCursor(BaseModel):
    """Where the rest of the active path is: pass `before` as `?before=` for older messages, `after` as `?after=`
    for newer ones; null when there are none."""

    before: str | None = None
    after: str | None = None


class ConversationDetail(ConversationPublic):
    messages: list[MessagePublic]
    cursor: PageCursor = Field(default_factory=PageCursor)


class ConversationUpdated(ConversationPublic):
    messages: list[MessagePublic] | None = Field(
        None, description="The new active path, when `active_message_id` was changed"
    )


class AccountSettings(BaseModel):
    default_system_prompt: str | None = Field(None, description="The system prompt new conversations start with")
    default_tools: list[str] = Field(default_factory=list, description="The tools new conversations start with")


class AccountSettingsUpdate(Strict):
    default_system_prompt: SystemPrompt | None = None
    default_tools: list[ToolId] | None = Field(None, max_length=100, description="`server:tool` or `server:*`")


class ModelPublic(BaseModel):
    id: str
    provider: str
    name: str
    available: bool
    label: str
    """What the picker shows: the provider's friendly name where its API gives one (Anthropic's `display_name`, an
    OpenAI-compatible server's `name`, an Ollama model without `:latest`), else `name`."""
    detail: str | None = None
    """A second line where the provider says more (Ollama: `3.2B parameters, Q4_K_M`)."""
    reason: str | None = None
    """Why an unavailable model cannot answer now (its provider's error, or that the provider does not list it)."""


class ProviderPublic(BaseModel):
    provider: str
    available: bool
    error: str | None


class ModelsPublic(BaseModel):
    default: str
    new_chat_model: str
    """What a new conversation starts on: `default` when it is available, else a model that is."""
    new_chat_notice: str | None = None
    """Why `new_chat_model` is not `default`, in words for a person."""
    models: list[ModelPublic]
    providers: list[ProviderPublic]


class Health(BaseModel):
    status: str


class SearchResult(BaseModel):
    conversation_id: str
    conversation_title: str | None
    message_id: str | None = Field(description="None when the match is in the conversation's title")
    role: str | None
    snippet: str = Field(description="Plain text around the matches: never HTML, show it escaped")
    highlights: list[tuple[int, int]] = Field(
        description="[start, end) of each match in `snippet`, in Unicode code points (not UTF-16 units)"
    )
    created_at: datetime
    archived: bool = Field(False, description="The conversation is archived (it is not in the list)")


class SearchPage(BaseModel):
    results: list[SearchResult]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one")


class ImportStarted(BaseModel):
    job_id: str


class ImportJobPublic(BaseModel):
    job_id: str
    status: Literal["running", "done", "failed"]
    bytes_read: int
    total_bytes: int
    conversations: int = Field(description="Conversations created")
    messages: int = Field(description="Messages created")
    skipped: int = Field(description="Messages and parts left out: hidden system messages, tool output, images")
    duplicates: int = Field(description="Conversations already imported before (created again: none)")
    cut: int = Field(description="Imported messages longer than the typed-message limit, cut to it (with a note)")
    presets: int = Field(0, description="Presets created (a chatui export's; one already here is not made again)")
    prompts: int = Field(0, description="Saved prompts created (one whose name you have already is left out)")
    errors: list[str] = Field(description="Conversations that could not be imported, and why")
    reason: str | None = Field(
        description="Why the whole file was refused or stopped: malformed, unknown_format, too_deep, zip_bomb, "
        "too_large, too_slow, too_much_memory (None: read to its end)"
    )
    status_code: int | None = Field(description="The HTTP status the refusal would have had at upload (4xx)")
