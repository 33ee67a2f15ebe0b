"""Paths through a conversation's message tree, each read as one indexed query.

A conversation is a tree: every message has a `parent_id` (None for the first), versions of a message are siblings,
and the conversation remembers its active leaf. The active path (root → leaf) is read by a recursive CTE that starts
at the leaf and follows `parent_id` upwards through the primary key: its cost grows with the path, not with the
tree (a conversation with 1,000 regenerated replies reads its path as fast as one without). A page of the path
bounds the walk by depth, so reading the 50 messages above a given one costs 50 lookups, however long the path.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import CTE, ColumnElement, Connection, FromClause, Row, Select, bindparam, func, literal, select
from sqlalchemy.orm import Session as OrmSession

from storage.files import StoredFile
from storage.models import Message
from storage.parts import Part

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


class Turn(NamedTuple):
    """One message of a path as a model is asked with it (its files are read beside it: `storage.files`)."""

    id: str
    role: str
    text: str


_PATH = _walk_up()
_WALK_UP = select(_PATH.c.id, _PATH.c.depth)
_TURNS = (
    select(_messages.c.id, _messages.c.role, _messages.c.content)
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
    select(_messages.c.id, _messages.c.role, _messages.c.content)
    .join(_RECENT, _messages.c.id == _RECENT.c.id)
    .where(_RECENT.c.chars <= bindparam("budget"))
    .order_by(_RECENT.c.depth.desc())
)


def path_turns(c: Connection, conversation_id: str, leaf: str | None, *, max_chars: int | None = None) -> list[Turn]:
    """The messages from the root down to `leaf`: what a reply under `leaf` is asked with.

    With `max_chars`, only the newest messages whose texts add up to at most that many characters (a model's
    context is finite, and a prompt read and sent whole would make every reply to a long conversation cost what
    its history costs). Without it, the whole path.
    """
    if leaf is None:
        return []
    if max_chars is not None:
        params = {"cid": conversation_id, "start": leaf, "budget": max_chars}
        return [Turn(row.id, row.role, row.content) for row in c.execute(_RECENT_TURNS, params)]
    params = {"cid": conversation_id, "start": leaf, "max_depth": UNBOUNDED, "stop": ""}
    return [Turn(row.id, row.role, row.content) for row in c.execute(_TURNS, params)]


def path_rows(
    c: Connection, conversation_id: str, leaf: str, table: FromClause, key: ColumnElement[Any]
) -> list[Row[Any]]:
    """The rows of `table` (`messages`, or one keyed by a message's id through `key`, e.g. the parts' `message_id`)
    of every message from the root down to `leaf`, root first: one walk up the tree, however long the path."""
    query = select(table).join_from(table, _PATH, key == _PATH.c.id).order_by(_PATH.c.depth.desc())
    params = {"cid": conversation_id, "start": leaf, "max_depth": UNBOUNDED, "stop": ""}
    return list(c.execute(query, params))


def walk_up(
    c: Connection | OrmSession, conversation_id: str, start: str, *, max_depth: int = UNBOUNDED, stop: str = ""
) -> list[str]:
    """Ids from `start` up to the root (or `max_depth` steps, or `stop`), nearest first."""
    rows = c.execute(_WALK_UP, {"cid": conversation_id, "start": start, "max_depth": max_depth, "stop": stop})
    return [row.id for row in sorted(rows, key=lambda row: row.depth)]


class PathSegments:
    """The long stretches of active paths already walked, kept so that paging down a long path is not a walk each
    time.

    Opening a conversation at an old message (a search hit) and reading the pages below it must walk up from the
    active leaf to that message: 26 ms for the first message of 10,000, ~400 ms of 100,000 on SQLite (the recursive
    step costs ~4 µs, and no index makes it cheaper). Each page further down walks most of the same stretch again.
    A path never changes once written (a message's parent is fixed, and messages are not deleted one by one), so the
    stretch walked once can be kept, keyed by its leaf, and asked again for any message
    inside it. Only stretches of at least `min_length` messages are kept (shorter walks cost a few milliseconds),
    and at most `max_ids` ids in all, the least recently used dropped first (100,000 ids take about 10 MB).
    """

    def __init__(self, *, min_length: int = 2_000, max_ids: int = 100_000) -> None:
        self.min_length = min_length
        self.max_ids = max_ids
        self._by_leaf: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # the database threads share it

    def walk_to(self, c: Connection | OrmSession, conversation_id: str, leaf: str, target: str) -> list[str]:
        """Like `walk_up(c, conversation_id, leaf, stop=target)`: ids from `leaf` up to `target`, nearest first
        (ending elsewhere when `target` is not above `leaf`)."""
        with self._lock:
            stretch = self._by_leaf.get(leaf)
            if stretch is not None:
                self._by_leaf.move_to_end(leaf)
                with contextlib.suppress(ValueError):
                    return list(reversed(stretch[stretch.index(target) :]))
        walked = walk_up(c, conversation_id, leaf, stop=target)
        if len(walked) >= self.min_length and walked[-1] == target:
            self._keep(leaf, tuple(reversed(walked)))
        return walked

    def _keep(self, leaf: str, stretch: tuple[str, ...]) -> None:
        with self._lock:
            old = self._by_leaf.pop(leaf, None)
            if old is not None and len(old) >= len(stretch):
                stretch = old  # a longer stretch of the same path: it holds this one
            self._size += len(stretch) - (len(old) if old is not None else 0)
            self._by_leaf[leaf] = stretch
            while self._size > self.max_ids and len(self._by_leaf) > 1:
                self._size -= len(self._by_leaf.popitem(last=False)[1])
            if self._size > self.max_ids:  # one stretch longer than the whole allowance: not kept
                self._by_leaf.clear()
                self._size = 0


def _descendants() -> Select[str]:
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
    attachments: dict[str, list[StoredFile]] = field(default_factory=dict)
    """The files of the messages that have any, in their order."""
    reasoning: dict[str, Part] = field(default_factory=dict)
    """The reasoning of the replies that thought (issue 24), shown folded above their answer."""
    notes: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per message, per file: what a model was not sent of it (`storage.files.notes_of`)."""
    steps: dict[str, list[Part]] = field(default_factory=dict)
    """The text and tool parts of the replies that called tools, in order (`storage.parts.reasoning_and_steps`)."""
    sources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """The knowledge passages replies were given, numbered as cited (`storage.parts.sources_of`)."""
