"""chatui's own tools, listed under `chatui:`: they need no network and no server.

`search_conversations` reads the calling user's history through the search index (the same search as the
sidebar's), so "what did I decide about X last month?" can be answered; `current_time` gives the time, which a
model cannot know; `search_knowledge` (where the app has knowledge collections, issue 25) searches the passages of
the collections the user may read, so a model can look again with other words than the question's. Each answers
for the user whose reply is being written, and only for them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chatui.tools.types import BUILTIN_SERVER, ToolInfo, ToolOutcome


class Hit(Protocol):
    """What the search gives back for one match (`storage.SearchHit`)."""

    @property
    def conversation_title(self) -> str | None: ...
    @property
    def role(self) -> str | None: ...
    @property
    def snippet(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


class Found(Protocol):
    """What the knowledge search gives back for one passage (`storage.knowledge_search.Passage`)."""

    @property
    def document_name(self) -> str: ...
    @property
    def heading(self) -> str | None: ...
    @property
    def page(self) -> int | None: ...
    @property
    def text(self) -> str: ...


Search = Callable[[str, str, int], Awaitable[Sequence[Hit]]]
"""(user id, query, limit) → the user's best matches."""
KnowledgeSearch = Callable[[str, str, int], Awaitable[Sequence[Found]]]
"""(user id, query, limit) → the best passages of the collections the user may read."""

MAX_RESULTS = 10

SEARCH = ToolInfo(
    BUILTIN_SERVER,
    "search_conversations",
    "Search the user's own earlier conversations in this app (full text, best matches first). Use it when the "
    "user refers to something discussed before.",
    {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Words to look for; a phrase in double quotes."},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS, "description": "At most this many."},
        },
        "required": ["query"],
    },
    "never",
)
TIME = ToolInfo(
    BUILTIN_SERVER,
    "current_time",
    "The current date and time, in UTC or in the IANA time zone given (such as Europe/Paris).",
    {
        "type": "object",
        "properties": {"timezone": {"type": "string", "description": "An IANA time zone name; UTC if omitted."}},
    },
    "never",
)
KNOWLEDGE = ToolInfo(
    BUILTIN_SERVER,
    "search_knowledge",
    "Search the user's knowledge collections (their documents, best passages first). Use it to look up facts "
    "from the user's documents, with other words if the passages already given do not answer.",
    SEARCH.input_schema,
    "never",
)
TOOLS = (SEARCH, TIME)


class BuiltinTools:
    def __init__(
        self,
        search: Search,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        knowledge: KnowledgeSearch | None = None,
    ) -> None:
        self._search = search
        self._clock = clock
        self._knowledge = knowledge
        self.tools = (*TOOLS, KNOWLEDGE) if knowledge is not None else TOOLS

    async def call(self, name: str, arguments: dict[str, Any], *, user_id: str) -> ToolOutcome:
        if name == SEARCH.name:
            return await self._search_conversations(arguments, user_id)
        if name == TIME.name:
            return self._current_time(arguments)
        if name == KNOWLEDGE.name and self._knowledge is not None:
            return await self._search_knowledge(arguments, user_id, self._knowledge)
        return ToolOutcome(f"No such tool: {BUILTIN_SERVER}:{name}", is_error=True)

    async def _search_conversations(self, arguments: dict[str, Any], user_id: str) -> ToolOutcome:
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            return ToolOutcome("`query` must be a non-empty string.", is_error=True)
        limit = arguments.get("limit", 5)
        limit = max(1, min(MAX_RESULTS, limit if isinstance(limit, int) else 5))
        hits = await self._search(user_id, query[:500], limit)
        if not hits:
            return ToolOutcome(f"No earlier messages match {query[:200]!r}.")
        lines = [
            f"- {hit.created_at:%Y-%m-%d} in {hit.conversation_title or 'Untitled'!r}"
            f"{f' ({hit.role})' if hit.role else ' (title)'}: {hit.snippet}"
            for hit in hits
        ]
        return ToolOutcome("\n".join(lines))

    async def _search_knowledge(self, arguments: dict[str, Any], user_id: str, search: KnowledgeSearch) -> ToolOutcome:
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            return ToolOutcome("`query` must be a non-empty string.", is_error=True)
        limit = arguments.get("limit", 5)
        limit = max(1, min(MAX_RESULTS, limit if isinstance(limit, int) else 5))
        found = await search(user_id, query[:500], limit)
        if not found:
            return ToolOutcome(f"No passage of the user's documents matches {query[:200]!r}.")
        return ToolOutcome(
            "\n\n".join(
                f"- {p.document_name}{f' › {p.heading}' if p.heading else ''}{f', page {p.page}' if p.page else ''}:"
                f"\n{p.text}"
                for p in found
            )
        )

    def _current_time(self, arguments: dict[str, Any]) -> ToolOutcome:
        name = arguments.get("timezone") or "UTC"
        try:
            zone = ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            return ToolOutcome(f"Unknown time zone {str(name)[:60]!r}.", is_error=True)
        now = self._clock().astimezone(zone)
        return ToolOutcome(f"{now:%A %Y-%m-%d %H:%M:%S} {zone.key} (UTC{now:%z})")
