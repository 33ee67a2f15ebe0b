"""An import's state (`ImportJob`) and where it is kept (`ImportBoard`): what every instance reads of an import.

`ImportJobs` (`chatui.transfer.jobs`) runs imports; this module is what it publishes about them, so a change to
what `GET /api/import/{job_id}` answers, or to how the slots and states are shared, lands here: in this process's
memory (`LocalImportBoard`) or in Redis when several instances share one database (`chatui.transfer.shared`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol

from chatui.transfer.reading import Refusal
from chatui.transfer.worker import Counts

MAX_ERRORS = 100
KEEP_SECONDS = 3600
"""How long an ended job's state is kept for `GET /api/import/{job_id}`."""

_COUNTS = frozenset(counter.name for counter in fields(Counts))


@dataclass(kw_only=True)
class ImportJob(Counts):
    """One import as its owner sees it: the counts its process reports (`Counts`, the worker's own), and its end."""

    id: str
    user_id: str
    total_bytes: int
    status: str = "running"
    errors: list[str] = field(default_factory=list)
    reason: str | None = None
    """Why the whole file was refused or stopped (a `Refusal`), None when it was read to its end."""
    ended_at: float | None = None
    """Wall-clock time (`time.time()`: other instances read it too)."""

    def public(self) -> dict[str, Any]:
        """The answer of `GET /api/import/{job_id}`."""
        return {
            "job_id": self.id,
            "status": self.status,
            "total_bytes": self.total_bytes,
            **{name: getattr(self, name) for name in sorted(_COUNTS)},
            "errors": list(self.errors),
            "reason": self.reason,
            "status_code": Refusal(self.reason).status if self.reason else None,
        }

    def error(self, text: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(text)
        elif len(self.errors) == MAX_ERRORS:
            self.errors.append("… more errors not listed.")

    def fail(self, reason: Refusal | None, text: str) -> None:
        self.status = "failed"
        self.reason = reason.value if reason is not None else None
        self.error(text)

    def apply(self, line: dict[str, Any]) -> None:
        """One line of the import's process (`chatui.transfer.worker`)."""
        if "progress" in line:
            for name, value in line["progress"].items():
                if name in _COUNTS and isinstance(value, int):
                    setattr(self, name, value)
        elif "error" in line:
            self.error(str(line["error"]))
        elif line.get("end") == "done":
            self.status = "done"
        elif line.get("end") == "failed":
            reason = line.get("reason")
            self.fail(Refusal(reason) if reason in Refusal._value2member_map_ else None, str(line.get("message")))

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str | bytes) -> ImportJob:
        """A job from `dumps`, its own or another instance's: fields this version does not know (written by a newer
        instance during a rolling upgrade) are left out, and those it knows but the writer did not (an older one)
        take their defaults, so every instance can still follow every import."""
        known = {name.name for name in fields(cls)}
        return cls(**{name: value for name, value in json.loads(text).items() if name in known})


class ImportBoard(Protocol):
    """Where the import slots and the jobs' state are kept: this process (`LocalImportBoard`) or Redis."""

    async def reserve(self, user_id: str, holder: str) -> bool:
        """Take the user's slot for `holder` (a job id); False if another holds it."""
        ...

    async def keep(self, user_id: str, holder: str) -> None:
        """Still held (Redis: the slot outlives a dead instance only by a lease)."""
        ...

    async def release(self, user_id: str, holder: str) -> None: ...

    async def holder(self, user_id: str) -> str | None: ...

    async def save(self, job: ImportJob) -> None:
        """Publish the running job's state (for other instances)."""
        ...

    async def finish(self, job: ImportJob) -> None:
        """Publish the ended job's state and free its owner's slot, at once."""
        ...

    async def load(self, job_id: str) -> ImportJob | None:
        """A job another instance runs or ran (None here: one process has no other)."""
        ...

    @property
    def renew_seconds(self) -> float | None:
        """How often a held slot must be kept (None: never)."""
        ...


class LocalImportBoard:
    """One process: the slots are a dict; every job is in this process's `ImportJobs`."""

    def __init__(self) -> None:
        self._slots: dict[str, str] = {}

    async def reserve(self, user_id: str, holder: str) -> bool:
        return self._slots.setdefault(user_id, holder) == holder

    async def keep(self, user_id: str, holder: str) -> None:
        return None

    async def release(self, user_id: str, holder: str) -> None:
        if self._slots.get(user_id) == holder:
            del self._slots[user_id]

    async def holder(self, user_id: str) -> str | None:
        return self._slots.get(user_id)

    async def save(self, job: ImportJob) -> None:
        return None

    async def finish(self, job: ImportJob) -> None:
        await self.release(job.user_id, job.id)

    async def load(self, job_id: str) -> ImportJob | None:
        return None

    @property
    def renew_seconds(self) -> float | None:
        return None
