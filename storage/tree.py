"""Paths through a conversation's message tree, each read as one indexed query.

A conversation is a tree: every message has a `parent_id` (None for the first), versions of a message are siblings,
and the conversation remembers its active leaf. The active path (root → leaf) is read by a recursive CTE that starts
at the leaf and follows `parent_id` upwards through the primary key: its cost grows with the path, not with the
tree (a conversation with 1,000 regenerated replies reads its path as fast as one without). A page of the path
bounds the walk by depth, so reading the 50 messages above a given one costs 50 lookups, however long the path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import CTE, Connection, Select, bindparam, func, literal, select
from sqlalchemy.orm import Session as OrmSession

from storage.models import Message

_messages = Message.__table__
UNBOUNDED = 2**31 - 1
"""A depth no path reaches: `max_depth` for a walk to the root."""


def _walk_up() -> CTE:
    """Rows (id, parent_id, depth) from the message `:start` (depth 0) up towards the root.

    The walk stops after `:max_depth` steps, and at `:stop` (included) when given — both inside the recursion, so a
    bounded page never reads the rest of the path.
    """
    start = (
        select(_messages.c.id, _messages.c.parent_id, literal(0).label("depth"))
        .where(_messages.c.id == bindparam("start"), _messages.c.conversation_id == bindparam("cid"))
        .cte("path", recursive=True)
    )
    parent = _messages.alias("parent")
    return start.union_all(
        select(parent.c.id, parent.c.parent_id, start.c.depth + 1).where(
            parent.c.id == start.c.parent_id,
            start.c.depth < bindparam("max_depth"),
            start.c.id != bindparam("stop"),
        )
    )


_PATH = _walk_up()
_WALK_UP = select(_PATH.c.id, _PATH.c.depth)
_TURNS = (
    select(_messages.c.role, _messages.c.content)
    .join(_PATH, _messages.c.id == _PATH.c.id)
    .order_by(_PATH.c.depth.desc())
)


def _walk_up_within(budget_name: str) -> CTE:
    """Rows (id, depth, chars) from `:start` upwards while the text read so far stays under `:budget` characters.

    `chars` is the length of the row's text plus everything below it on the path. The walk stops inside the
    recursion at the first message that reaches the budget, so a reply to a conversation of 10,000 messages reads
    the newest messages that fit, not the whole path (that message is returned too; the caller leaves it out).
    """
    start = (
        select(
            _messages.c.id,
            _messages.c.parent_id,
            literal(0).label("depth"),
            func.length(_messages.c.content).label("chars"),
        )
        .where(_messages.c.id == bindparam("start"), _messages.c.conversation_id == bindparam("cid"))
        .cte("recent", recursive=True)
    )
    parent = _messages.alias("parent")
    return start.union_all(
        select(parent.c.id, parent.c.parent_id, start.c.depth + 1, start.c.chars + func.length(parent.c.content)).where(
            parent.c.id == start.c.parent_id, start.c.chars < bindparam(budget_name)
        )
    )


_RECENT = _walk_up_within("budget")
_RECENT_TURNS = (
    select(_messages.c.role, _messages.c.content)
    .join(_RECENT, _messages.c.id == _RECENT.c.id)
    .where(_RECENT.c.chars <= bindparam("budget"))
    .order_by(_RECENT.c.depth.desc())
)


def path_turns(
    c: Connection, conversation_id: str, leaf: str | None, *, max_chars: int | None = None
) -> list[tuple[str, str]]:
    """(role, text) of the messages from the root down to `leaf`: what a reply under `leaf` is asked with.

    With `max_chars`, only the newest messages whose texts add up to at most that many characters (a model's
    context is finite, and a prompt read and sent whole would make every reply to a long conversation cost what
    its history costs). Without it, the whole path.
    """
    if leaf is None:
        return []
    if max_chars is not None:
        params = {"cid": conversation_id, "start": leaf, "budget": max_chars}
        return [(row.role, row.content) for row in c.execute(_RECENT_TURNS, params)]
    params = {"cid": conversation_id, "start": leaf, "max_depth": UNBOUNDED, "stop": ""}
    return [(row.role, row.content) for row in c.execute(_TURNS, params)]


def walk_up(
    c: Connection | OrmSession, conversation_id: str, start: str, *, max_depth: int = UNBOUNDED, stop: str = ""
) -> list[str]:
    """Ids from `start` up to the root (or `max_depth` steps, or `stop`), nearest first."""
    rows = c.execute(_WALK_UP, {"cid": conversation_id, "start": start, "max_depth": max_depth, "stop": stop})
    return [row.id for row in sorted(rows, key=lambda row: row.depth)]


def _descendants() -> Select[tuple[str]]:
    """The newest message among `:start` and everything below it: the leaf a switch to `:start` lands on.

    A child is always written after its parent, so the newest message of a subtree has no children: it is a leaf,
    and the path to it is the one most recently written through `:start`.
    """
    start = (
        select(_messages.c.id, _messages.c.created_at)
        .where(_messages.c.id == bindparam("start"), _messages.c.conversation_id == bindparam("cid"))
        .cte("below", recursive=True)
    )
    child = _messages.alias("child")
    below = start.union_all(
        select(child.c.id, child.c.created_at).where(child.c.parent_id == start.c.id),
    )
    return select(below.c.id).order_by(below.c.created_at.desc(), below.c.id.desc()).limit(1)


_NEWEST_DESCENDANT = _descendants()


def newest_leaf_under(c: Connection | OrmSession, conversation_id: str, message_id: str) -> str | None:
    """The newest leaf at or below `message_id` in this conversation; None if the message is not in it."""
    return c.execute(_NEWEST_DESCENDANT, {"cid": conversation_id, "start": message_id}).scalar_one_or_none()


def load_messages(s: OrmSession, ids: Sequence[str]) -> list[Message]:
    """The messages with these ids, in the order given."""
    found: dict[str, Message] = {}
    for chunk in _chunks(ids):
        found.update((m.id, m) for m in s.scalars(select(Message).where(Message.id.in_(chunk))))
    return [found[i] for i in ids if i in found]


def sibling_ids(s: OrmSession, conversation_id: str, messages: Iterable[Message]) -> dict[str, list[str]]:
    """For each message, the ids of all its versions (its parent's children, oldest first, itself included)."""
    messages = list(messages)
    parents = sorted({m.parent_id for m in messages if m.parent_id is not None})
    children: dict[str | None, list[str]] = {}
    for chunk in _chunks(parents):
        rows = s.execute(
            select(Message.id, Message.parent_id)
            .where(Message.parent_id.in_(chunk))
            .order_by(Message.created_at, Message.id)
        )
        for row in rows:
            children.setdefault(row.parent_id, []).append(row.id)
    if any(m.parent_id is None for m in messages):
        children[None] = list(
            s.scalars(
                select(Message.id)
                .where(Message.conversation_id == conversation_id, Message.parent_id.is_(None))
                .order_by(Message.created_at, Message.id)
            )
        )
    return {m.id: children.get(m.parent_id, [m.id]) for m in messages}


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


@dataclass(frozen=True, slots=True)
class PathPage:
    """Messages of a conversation's path (root → leaf order), each with its versions, and whether more lie beyond.

    `has_before`: older messages exist above the first one; `has_after`: newer ones below the last (on the path).
    """

    messages: list[Message]
    siblings: dict[str, list[str]] = field(default_factory=dict)
    has_before: bool = False
    has_after: bool = False
