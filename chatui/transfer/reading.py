"""Open an uploaded export and read its conversations one at a time, never the whole file into memory.

`inspect()` looks at the start of the file at once (so the upload can be refused with a reason before a job
starts); `read()` then parses it incrementally with ijson (its C backend), one conversation in memory at a time, and
reports how far into the file it is. ChatGPT's `.zip` is read through its `conversations.json` member, unpacked as
it is read.

Nesting is bounded before anything is built: ijson's object builder, given `[[[[…` 200,000 levels deep (a 400 KB
file), allocates without bound (2 GB in 5 s, measured), and so does its `parse` (each event's prefix grows with the
depth). So the file is first scanned with `basic_parse` (events without prefixes or objects, ~0.2 s per 50 MB),
which stops at the first container deeper than `MAX_DEPTH`; no export nests half as deep.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson

from chatui.transfer.formats import CHATUI_FORMAT, BadConversation, Parsed, Reader, from_chatui, reader_for

SNIFF_BYTES = 64 * 1024
MAX_DEPTH = 64
_OPENS = frozenset({"start_map", "start_array"})
_CLOSES = frozenset({"end_map", "end_array"})
MAX_UNPACKED_BYTES = 4 * 1024**3
_FORMAT_FIELD = re.compile(rb'"format"\s*:\s*"([^"]{0,40})"')


class UnreadableFile(Exception):
    """The file cannot be imported at all. `malformed`: not JSON or a zip (400); otherwise of no known shape (422)."""

    def __init__(self, message: str, *, malformed: bool) -> None:
        super().__init__(message)
        self.message = message
        self.malformed = malformed


@dataclass(frozen=True, slots=True)
class ExportFile:
    """Where the conversations are in a file: the zip member (if any), the ijson prefix, and a fixed reader."""

    path: Path
    member: str | None
    prefix: str
    reader: Reader | None  # None: each item says what it is (ChatGPT and Open WebUI are both arrays)
    description: str


@dataclass(frozen=True, slots=True)
class Failure:
    """One conversation that could not be imported, and why."""

    label: str
    reason: str


def inspect(path: Path) -> ExportFile:
    """What kind of export `path` is; `UnreadableFile` if none."""
    with path.open("rb") as raw:
        head = raw.read(SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _inspect_zip(path)
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if start.startswith(b"{"):
        found = _FORMAT_FIELD.search(head)
        if found and found.group(1).decode(errors="replace") == CHATUI_FORMAT:
            return ExportFile(path, None, "conversations.item", from_chatui, "chatui export")
        if found and found.group(1).startswith(b"chatui/"):
            raise UnreadableFile(
                f"This chatui export has the format {found.group(1).decode(errors='replace')!r}; this version "
                f"reads {CHATUI_FORMAT!r}.",
                malformed=False,
            )
        return _check_first(ExportFile(path, None, "", None, "single conversation"))
    if start.startswith(b"["):
        return _check_first(ExportFile(path, None, "item", None, "list of conversations"))
    raise UnreadableFile("The file is neither JSON nor a zip archive.", malformed=True)


def read(export: ExportFile, default_model: str, progress: Callable[[int], None]) -> Iterator[Parsed | Failure]:
    """Each conversation of the file, parsed, or the reason it could not be; `progress(bytes read so far)`.

    `UnreadableFile` if the file stops being valid JSON part-way (what came before has been yielded).
    """
    with ExitStack() as stack:
        raw = stack.enter_context(export.path.open("rb"))
        stream = _open_stream(export, raw, stack)
        with ExitStack() as scan:
            _check_depth(_open_stream(export, scan.enter_context(export.path.open("rb")), scan))
        items = ijson.items(stream, export.prefix, use_float=True)
        index = 0
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
                raise UnreadableFile(
                    f"The file stops being valid JSON near byte {raw.tell():,}: {str(exc)[:200]}", malformed=True
                ) from None
            index += 1
            progress(raw.tell())
            yield _parse(export, item, index, default_model)
        progress(raw.tell())


def _parse(export: ExportFile, item: Any, index: int, default_model: str) -> Parsed | Failure:
    label = _label(item, index)
    reader = export.reader or reader_for(item)
    if reader is None:
        return Failure(label, "not a chatui, ChatGPT or Open WebUI conversation")
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
        for kind, _ in ijson.basic_parse(stream):
            if kind in _OPENS:
                depth += 1
                if depth > MAX_DEPTH:
                    raise UnreadableFile(
                        f"The file nests its data more than {MAX_DEPTH} levels deep; no export does, so it is not "
                        "read.",
                        malformed=False,
                    )
            elif kind in _CLOSES:
                depth -= 1
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, zipfile.BadZipFile):
        return


def _label(item: Any, index: int) -> str:
    title = item.get("title") if isinstance(item, dict) else None
    return f"#{index} {title[:80]!r}" if isinstance(title, str) and title else f"#{index}"


def _open_stream(export: ExportFile, raw: IO[bytes], stack: ExitStack) -> IO[bytes]:
    if export.member is not None:
        archive = stack.enter_context(zipfile.ZipFile(raw))
        return stack.enter_context(archive.open(export.member))
    if raw.read(3) != b"\xef\xbb\xbf":
        raw.seek(0)
    return raw


def _inspect_zip(path: Path) -> ExportFile:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if Path(i.filename).name == "conversations.json"]
    except (zipfile.BadZipFile, OSError):
        raise UnreadableFile("The zip archive is damaged.", malformed=True) from None
    if not members:
        raise UnreadableFile("The zip archive holds no conversations.json (ChatGPT's data export).", malformed=False)
    member = min(members, key=lambda i: i.filename.count("/"))
    if member.file_size > MAX_UNPACKED_BYTES:
        raise UnreadableFile("conversations.json is too large when unpacked (over 4 GB).", malformed=False)
    return _check_first(ExportFile(path, member.filename, "item", None, "ChatGPT export (zip)"))


def _check_first(export: ExportFile) -> ExportFile:
    """Read the first conversation now, so a file of an unknown shape is refused before a job starts."""
    try:
        first = next(read(export, "ollama:none", lambda _: None), None)
    except UnreadableFile:
        raise
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile(f"The file cannot be read: {exc}", malformed=True) from None
    if isinstance(first, Failure) and first.reason.startswith("not a chatui"):
        raise UnreadableFile(
            "This JSON is not a chatui, ChatGPT or Open WebUI export (its first conversation is of no known shape).",
            malformed=False,
        )
    return export
