"""Knowledge in a reply's prompt (issue 25): the passages retrieved for the question, numbered `[1]`, `[2]`… in the
system prompt, within a budget, and the same list kept with the reply as its `sources` part (storage/PARTS.md).

The question looked up is the new message with the user's turn before it (a follow-up like "and for roses?"
needs the earlier words); a regenerate or a continue looks up the message the reply answers. In the system prompt
rather than in the user's turn: the stored message stays what the person typed, and every provider has one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from chatui.engine.prompt import Asked
from storage.knowledge_search import Passage
from storage.models import PartKind
from storage.parts import Part

Retrieve = Callable[[str, Sequence[str], str, int], Awaitable[Sequence[Passage]]]
"""(user id, collection ids, question, limit) → the best passages, best first (`KnowledgeService.retrieve`)."""

PASSAGES = 8
"""Passages retrieved for a reply (fewer when the budget is reached)."""
BUDGET_CHARS = 8_000
"""Characters of passages in the prompt: about 2,000 tokens, which every model's context holds beside a chat."""
EXCERPT_CHARS = 300
"""Characters of each passage kept with the reply (the whole passage is one click away)."""
INSTRUCTIONS = (
    "Passages from the user's documents follow, numbered. Answer from them when they are relevant, and cite each "
    "passage you use by its number in square brackets, like [1] or [2][3]. If they do not hold the answer, say so "
    "and answer as best you can."
)


def question(prompt: Sequence[Asked]) -> str:
    """What to look up: the user's newest turn (the new message, or the one a reply answers) and the one before."""
    return " ".join([turn.text for turn in prompt if turn.role == "user"][-2:])


def within_budget(passages: Sequence[Passage], budget: int = BUDGET_CHARS) -> list[Passage]:
    """The best passages, in order, while they fit `budget` characters (the first is always kept, cut if need be)."""
    kept: list[Passage] = []
    used = 0
    for passage in passages:
        if kept and used + len(passage.text) > budget:
            break
        kept.append(passage)
        used += len(passage.text)
    return kept


def label(passage: Passage) -> str:
    """Where a passage is from: `name › heading, page n`."""
    where = passage.document_name + (f" › {passage.heading}" if passage.heading else "")
    return where + (f", page {passage.page}" if passage.page else "")


def system_with(system: str | None, passages: Sequence[Passage]) -> str | None:
    """The chat's system prompt followed by the numbered passages (unchanged when there are none)."""
    if not passages:
        return system
    numbered = "\n\n".join(f"[{n}] {label(p)}\n{p.text[:BUDGET_CHARS]}" for n, p in enumerate(passages, 1))
    block = f"{INSTRUCTIONS}\n\n{numbered}"
    return f"{system}\n\n{block}" if system else block


def sources(passages: Sequence[Passage]) -> list[dict[str, Any]]:
    """The passages as the reply keeps them: numbered as cited, where each is, and its start."""
    return [
        {
            "n": n,
            "document_id": p.document_id,
            "document_name": p.document_name,
            "collection_id": p.collection_id,
            "chunk_id": p.chunk_id,
            "page": p.page,
            "heading": p.heading,
            "excerpt": p.text[:EXCERPT_CHARS],
        }
        for n, p in enumerate(passages, 1)
    ]


def sources_part(kept: Sequence[dict[str, Any]]) -> Part | None:
    return Part(PartKind.SOURCES, data={"sources": list(kept)}) if kept else None


async def passages_for(
    retrieve: Retrieve | None, user_id: str, collection_ids: Sequence[str], prompt: Sequence[Asked]
) -> list[Passage]:
    """The passages a reply is given: none without attached collections (no query is made then)."""
    if retrieve is None or not collection_ids:
        return []
    asked = question(prompt)
    if not asked.strip():
        return []
    return within_budget(await retrieve(user_id, collection_ids, asked, PASSAGES))
