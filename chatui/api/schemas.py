"""Request and response bodies of the JSON API (`XCreate` in, `XPublic` out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chatui.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from chatui.conversations.rules import (
    MODEL_ID_MAX,
    NO_CONTROL_CHARACTERS,
    SYSTEM_PROMPT_MAX,
    TEMPERATURE_RANGE,
    TITLE_MAX,
)

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
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class Registration(Strict):
    username: str = Field(
        max_length=64, description="3 to 32 letters, digits, '.', '_' or '-' (after NFKC; compared case-insensitively)"
    )
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class UserPublic(BaseModel):
    id: str
    username: str


class UserAdminView(UserPublic):
    is_admin: bool
    is_disabled: bool
    created_at: datetime


class AdminUserUpdate(Strict):
    disabled: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=MAX_PASSWORD_LENGTH)


class ConversationCreate(Strict):
    title: Title | None = None
    model: ModelId | None = None


SystemPrompt = Annotated[str, StringConstraints(max_length=SYSTEM_PROMPT_MAX)]
Temperature = Annotated[float, Field(ge=TEMPERATURE_RANGE[0], le=TEMPERATURE_RANGE[1])]
MessageId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ConversationUpdate(Strict):
    title: Title | None = None
    model: ModelId | None = None
    active_message_id: MessageId | None = Field(
        None, description="Make the path through this message active, down to its newest leaf"
    )
    system_prompt: SystemPrompt | None = Field(
        None, description=f"At most {SYSTEM_PROMPT_MAX:,} characters; null clears it"
    )
    temperature: Temperature | None = Field(
        None, description=f"{TEMPERATURE_RANGE[0]:g} to {TEMPERATURE_RANGE[1]:g}; null leaves the provider's default"
    )


class ConversationPublic(BaseModel):
    id: str
    title: str | None
    model: str
    system_prompt: str | None = None
    temperature: float | None = None
    created_at: datetime
    updated_at: datetime


class UsagePublic(BaseModel):
    """Token counts as the provider reported them (null where it did not)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class MessagePublic(BaseModel):
    id: str
    parent_id: str | None
    role: str
    content: str
    status: str
    model: str | None
    usage: UsagePublic
    error: str | None = None
    created_at: datetime
    sibling_ids: list[str] = Field(description="Every version of this message, oldest first, itself included")
    sibling_index: int = Field(description="Where this message is in `sibling_ids`")


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


class AccountSettingsUpdate(Strict):
    default_system_prompt: SystemPrompt | None = None


class ModelPublic(BaseModel):
    id: str
    provider: str
    name: str
    available: bool


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
    errors: list[str] = Field(description="Conversations that could not be imported, and why")
