"""Request and response bodies of the JSON API (`XCreate` in, `XPublic` out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chatui.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

# No control characters: PostgreSQL refuses NUL in text, and no title or model id needs any.
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
]
ModelId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
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


class ConversationUpdate(Strict):
    title: Title | None = None
    model: ModelId | None = None


class ConversationPublic(BaseModel):
    id: str
    title: str | None
    model: str
    created_at: datetime
    updated_at: datetime


class MessagePublic(BaseModel):
    id: str
    role: str
    content: str
    status: str
    model: str | None
    tokens: int | None
    prompt_tokens: int | None = None
    error: str | None = None
    created_at: datetime


class ConversationDetail(ConversationPublic):
    messages: list[MessagePublic]


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
