"""Open an uploaded export and read its conversations one at a time, never the whole file into memory.

`inspect()` looks at the start of the file at once (so the upload can be refused with a reason before a job
starts); `read()` then parses it incrementally with ijson (its C backend), one conversation in memory at a time, and
reports how far into the file it is. ChatGPT's `.zip` is read through its `conversations.json` member, unpacked as
it is read.

Nesting is bounded before anything is built: ijson's object builder, given `[[[[…` 200,000 levels deep (a 400 KB
file), allocates without bound (2 GB in 5 s, measured), and so does its `parse` (each event's prefix grows with the
depth). So the file is first scanned with `basic_parse` (events without prefixes or objects, ~0.2 s per 50 MB),
which stops at the first container deeper than `MAX_DEPTH`; no export nests half as deep, but for LibreChat's,
whose tree of messages is nested by design: it is read by `chatui.transfer.librechat.walk`, which flattens the tree
as it reads and holds each message (not the file) to `MAX_DEPTH`.

A zip is bounded before it is inflated: its `conversations.json` may not inflate to more than `Bounds.unpacked_bytes`
nor more than `Bounds.inflation_ratio` times its packed size (a 3.6 MB zip of whitespace inflates to 3.5 GB: a ratio
of ~1,000, where JSON packs ~5-15 to 1). Both are read from the zip's directory, so a bomb is refused without
inflating a byte; while reading, the inflated bytes are counted again, so a directory that lies is caught too.

All of this runs in the import's own process (`chatui.transfer.worker`), never in the server's.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import ijson

from chatui.transfer.formats import CHATUI_FORMAT, BadConversation, Parsed, Reader, from_chatui, reader_for
from chatui.transfer.librechat import TooDeep, from_librechat, looks_like_librechat, walk

SNIFF_BYTES = 64 * 1024
BUFFER_BYTES = 16 * 1024 * 1024
"""ijson's read size. yajl lexes a string cut by the end of a buffer again from its start when the next one comes:
with the default 64 KB, a 200 MB message took 540 s to parse (quadratic); with 16 MB, 2.5 s."""
UNKNOWN_SHAPE = "not a chatui, ChatGPT, Open WebUI or LibreChat conversation"
MAX_DEPTH = 64
_OPENS = frozenset({"start_map", "start_array"})
_CLOSES = frozenset({"end_map", "end_array"})
_FORMAT_FIELD = re.compile(rb'"format"\s*:\s*"([^"]{0,40})"')
_ZIP_MAGIC = b"PK\x03\x04"
_BROKEN = (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, zipfile.BadZipFile, zlib.error, EOFError)
"""What reading a file that stops being JSON (or a zip member whose data is damaged) raises."""


class Refusal(StrEnum):
    """Why a whole file is not imported; each has the HTTP status it would have had at upload (`status`)."""

    MALFORMED = "malformed"
    UNKNOWN_FORMAT = "unknown_format"
    TOO_DEEP = "too_deep"
    ZIP_BOMB = "zip_bomb"
    TOO_LARGE = "too_large"
    TOO_SLOW = "too_slow"
    TOO_MUCH_MEMORY = "too_much_memory"

    @property
    def status(self) -> int:
        return {
            Refusal.MALFORMED: 400,
            Refusal.ZIP_BOMB: 413,
            Refusal.TOO_LARGE: 413,
            Refusal.TOO_SLOW: 408,
            Refusal.TOO_MUCH_MEMORY: 413,
        }.get(self, 422)


class UnreadableFile(Exception):
    """The file cannot be imported at all, for `reason` (`malformed`: not JSON or a zip)."""

    def __init__(self, message: str, reason: Refusal) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason

    @property
    def malformed(self) -> bool:
        return self.reason is Refusal.MALFORMED


@dataclass(frozen=True, slots=True)
class Bounds:
    """How far a zip may inflate (`chatui.config.Settings`: `import_max_unpacked_bytes`, `import_max_inflation`)."""

    unpacked_bytes: int = 1024**3
    inflation_ratio: float = 100.0


def looks_like_export(head: bytes) -> bool:
    """The first bytes of an upload could start a zip or JSON (what the upload itself can tell, for a 400 at once)."""
    if head.startswith(_ZIP_MAGIC[: len(head)]):
        return True
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return not start or start[:1] in (b"{", b"[")


@dataclass(frozen=True, slots=True)
class ExportFile:
    """Where the conversations are in a file: the zip member (if any), the ijson prefix, and a fixed reader."""

    path: Path
    member: str | None
    prefix: str
    reader: Reader | None  # None: each item says what it is (ChatGPT and Open WebUI are both arrays)
    description: str
    unpacked_limit: int = 0
    """A zip member: the most it may inflate to (what its directory says, at most `Bounds.unpacked_bytes`)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One conversation that could not be imported, and why."""

    label: str
    reason: str


def inspect(path: Path, bounds: Bounds | None = None) -> ExportFile:
    """What kind of export `path` is, its nesting checked (one pass over it); `UnreadableFile` if none.

    A file whose first conversation is of no known shape is refused by `read()`, as it meets it (no pass more).
    """
    export = _kind(path, bounds or Bounds())
    if export.reader is from_librechat:
        return export  # bounded message by message as it is read (`librechat.walk`)
    with ExitStack() as scan:
        _check_depth(_open_stream(export, scan.enter_context(export.path.open("rb")), scan))
    return export


def _kind(path: Path, bounds: Bounds) -> ExportFile:
    with path.open("rb") as raw:
        head = raw.read(SNIFF_BYTES)
    if head.startswith(_ZIP_MAGIC):
        return _inspect_zip(path, bounds)
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if start.startswith(b"{"):
        found = _FORMAT_FIELD.search(head)
        if found and found.group(1).decode(errors="replace") == CHATUI_FORMAT:
            return ExportFile(path, None, "conversations.item", from_chatui, "chatui export")
        if found and found.group(1).startswith(b"chatui/"):
            raise UnreadableFile(
                f"This chatui export has the format {found.group(1).decode(errors='replace')!r}; this version "
                f"reads {CHATUI_FORMAT!r}.",
                Refusal.UNKNOWN_FORMAT,
            )
        if looks_like_librechat(head):
            return ExportFile(path, None, "", from_librechat, "LibreChat export")
        return ExportFile(path, None, "", None, "single conversation")
    if start.startswith(b"["):
        return ExportFile(path, None, "item", None, "list of conversations")
    raise UnreadableFile("The file is neither JSON nor a zip archive.", Refusal.MALFORMED)


def read(export: ExportFile, default_model: str, progress: Callable[[int], None]) -> Iterator[Parsed | Failure]:
    """Each conversation of the file, parsed, or the reason it could not be; `progress(bytes read so far)`.

    `UnreadableFile` if the file stops being valid JSON part-way (what came before has been yielded).
    """
    with ExitStack() as stack:
        raw = stack.enter_context(export.path.open("rb"))
        stream = _open_stream(export, raw, stack)
        if export.reader is from_librechat:
            items = walk(stream, MAX_DEPTH, BUFFER_BYTES)
        else:
            items = ijson.items(stream, export.prefix, use_float=True, buf_size=BUFFER_BYTES)
        index = 0
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except _BROKEN as exc:
                raise UnreadableFile(
                    f"The file stops being valid JSON near byte {raw.tell():,}: {str(exc)[:200]}", Refusal.MALFORMED
                ) from None
            except TooDeep as exc:
                raise UnreadableFile(
                    f"The file nests its data {exc}; no export does, so it is not read.", Refusal.TOO_DEEP
                ) from None
            except BadConversation as exc:
                raise UnreadableFile(f"This JSON is {exc}.", Refusal.UNKNOWN_FORMAT) from None
            index += 1
            progress(raw.tell())
            parsed = _parse(export, item, index, default_model)
            if index == 1 and isinstance(parsed, Failure) and parsed.reason == UNKNOWN_SHAPE:
                raise UnreadableFile(
                    "This JSON is not a chatui, ChatGPT, Open WebUI or LibreChat export (its first conversation is of "
                    "no known shape).",
                    Refusal.UNKNOWN_FORMAT,
                )
            yield parsed
        progress(raw.tell())


def read_files(export: ExportFile) -> Iterator[Any]:
    """Each item of a chatui/1 export's `files` (other formats carry no bytes), as parsed, one at a time.

    A pass of its own over the file, before the conversations are read: they name the files, which must be stored
    first. Where the JSON breaks, it stops quietly: `read()` reports the same error with what came before it.
    """
    if export.reader is not from_chatui:
        return
    with ExitStack() as stack:
        stream = _open_stream(export, stack.enter_context(export.path.open("rb")), stack)
        try:
            yield from ijson.items(stream, "files.item", buf_size=BUFFER_BYTES)
        except _BROKEN:
            return


LIBRARY = ("presets", "prompts")


def read_library(export: ExportFile) -> Iterator[tuple[str, Any]]:
    """Each item of a chatui/1 export's `presets` and `prompts` (other formats have none), as `(key, item)`.

    They come before the conversations (`chatui.transfer.exporting`), so the pass stops at the `conversations` key:
    it reads the head of the file only. One item is built at a time (ijson's events, fed to its builder); where the
    JSON breaks, it stops quietly, as `read_files` does.
    """
    if export.reader is not from_chatui:
        return
    with ExitStack() as stack:
        stream = _open_stream(export, stack.enter_context(export.path.open("rb")), stack)
        builder, depth, key = None, 0, ""
        try:
            for prefix, event, value in ijson.parse(stream, use_float=True, buf_size=BUFFER_BYTES):
                if builder is None:
                    if prefix == "" and event == "map_key" and value in ("conversations", "files"):
                        return
                    if not prefix.endswith(".item") or prefix[: -len(".item")] not in LIBRARY:
                        continue
                    key = prefix[: -len(".item")]
                    if event not in _OPENS:
                        yield key, value  # a bare value where an object belongs: refused by whoever reads it
                        continue
                    builder = ijson.ObjectBuilder()
                builder.event(event, value)
                depth += 1 if event in _OPENS else -1 if event in _CLOSES else 0
                if depth == 0:
                    yield key, builder.value
                    builder = None
        except _BROKEN:
            return


def _parse(export: ExportFile, item: Any, index: int, default_model: str) -> Parsed | Failure:
    label = _label(item, index)
    reader = export.reader or reader_for(item)
    if reader is None:
        return Failure(label, UNKNOWN_SHAPE)
    try:
        parsed = reader(item, default_model)
    except BadConversation as exc:
        return Failure(label, str(exc))
    except OverflowError:  # a time at the edge of what a datetime holds, moved by a time zone or a tick
        return Failure(label, "a time in it is out of range (years 1 to 9999)")
    except (TypeError, ValueError, AttributeError, KeyError, ArithmeticError, RecursionError) as exc:  # unforeseen
        return Failure(label, f"unexpected content ({type(exc).__name__})")
    parsed.label = label
    return parsed


def _check_depth(stream: IO[bytes]) -> None:
    """`UnreadableFile` if a container is nested deeper than `MAX_DEPTH`. Where the JSON breaks, the scan stops
    quietly: `read()` meets the same error after yielding what comes before it."""
    depth = 0
    try:
        for kind, _ in ijson.basic_parse(stream, buf_size=BUFFER_BYTES):
            if kind in _OPENS:
                depth += 1
                if depth > MAX_DEPTH:
                    raise UnreadableFile(
                        f"The file nests its data more than {MAX_DEPTH} levels deep; no export does, so it is not "
                        "read.",
                        Refusal.TOO_DEEP,
                    )
            elif kind in _CLOSES:
                depth -= 1
    except _BROKEN:
        return


def _label(item: Any, index: int) -> str:
    title = item.get("title") if isinstance(item, dict) else None
    return f"#{index} {title[:80]!r}" if isinstance(title, str) and title else f"#{index}"


def _open_stream(export: ExportFile, raw: IO[bytes], stack: ExitStack) -> IO[bytes]:
    if export.member is not None:
        archive = stack.enter_context(zipfile.ZipFile(raw))
        member = stack.enter_context(archive.open(export.member))
        return _Inflated(member, export.unpacked_limit)
    if raw.read(3) != b"\xef\xbb\xbf":
        raw.seek(0)
    return raw


def _inspect_zip(path: Path, bounds: Bounds) -> ExportFile:
    """The zip's `conversations.json`, refused from the zip's directory if it would inflate too far."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if Path(i.filename).name == "conversations.json"]
    except (zipfile.BadZipFile, OSError):
        raise UnreadableFile("The zip archive is damaged.", Refusal.MALFORMED) from None
    if not members:
        raise UnreadableFile(
            "The zip archive holds no conversations.json (ChatGPT's data export).", Refusal.UNKNOWN_FORMAT
        )
    member = min(members, key=lambda i: i.filename.count("/"))
    ratio = member.file_size / max(member.compress_size, 1)
    if ratio > bounds.inflation_ratio:
        raise UnreadableFile(
            f"conversations.json would inflate {ratio:,.0f} times its packed size ({member.compress_size:,} to "
            f"{member.file_size:,} bytes); an export inflates at most {bounds.inflation_ratio:,.0f} times, so this "
            "looks like a zip bomb and is not read.",
            Refusal.ZIP_BOMB,
        )
    if member.file_size > bounds.unpacked_bytes:
        raise UnreadableFile(
            f"conversations.json would unpack to {member.file_size:,} bytes; the limit is {bounds.unpacked_bytes:,}.",
            Refusal.TOO_LARGE,
        )
    limit = min(member.file_size, bounds.unpacked_bytes)
    return ExportFile(path, member.filename, "item", None, "ChatGPT export (zip)", limit)


class _Inflated(io.RawIOBase):
    """A zip member's inflated bytes, counted: past `limit` (a directory that understates the size) it refuses."""

    def __init__(self, member: IO[bytes], limit: int) -> None:
        self.member = member
        self.limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.member.read(size if size >= 0 else 1024 * 1024)
        self.count += len(data)
        if self.count > self.limit:
            raise UnreadableFile(
                f"conversations.json inflates past {self.limit:,} bytes, more than its zip directory says.",
                Refusal.ZIP_BOMB,
            )
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
