"""A prompt's files made into what its provider reads: images fitted to the provider, the text of text files and PDFs
in delimited blocks named by file; and, for the message being answered, what became of each file on the way.

    image  → `ImagePart`: as uploaded when the provider takes it as it is, else downscaled, turned upright and
             stripped of metadata (`chatui.files.fitting`, in a thread); to a model that cannot see images (older
             turns only: a message carrying images is refused before that), a line saying an image was there
    text   → `<file name="notes.md" type="text/markdown">` … `</file>`: its text, decoded as UTF-8
    PDF    → the same block, the text of its pages (`chatui.files.pdftext`, in a process of its own, bounded in
             pages, characters, time and memory), each page after a `--- page N ---` line

One message's files share `text_max_chars` (CHATUI_ATTACHMENT_TEXT_MAX_CHARS) characters of text, in their order;
what does not fit is cut, and the cut is said twice: in the block, for the model, and as a note the message keeps
on the file's part (`{"truncated": true, "note": "..."}`, storage/PARTS.md), for the person.

Work done for a file is kept (per stored content and provider limits, `cache_bytes` in all, least recently used
dropped first): a regenerate, or the next message of the conversation, reads and fits nothing again.
"""

from __future__ import annotations

import asyncio
import codecs
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from chatui.engine.prompt import Asked, is_image
from chatui.files.fitting import fit_image
from chatui.files.pdftext import read_pdf_text
from providers import ChatMessage, ContentPart, ImageLimits, ImagePart, TextPart
from storage.files import StoredFile

PDF = "application/pdf"
BYTES_PER_CHAR = 4
"""UTF-8 takes at most four bytes a character: a text file is read no further than this many bytes per character
that could be sent."""


@dataclass(frozen=True, slots=True)
class AttachmentOptions:
    """From `Settings` (README's table)."""

    text_max_chars: int = 100_000
    pdf_seconds: float = 20.0
    pdf_max_pages: int = 500
    cache_bytes: int = 64 * 1024 * 1024


class FileBytes(Protocol):
    """How the bytes of a stored file are read (`storage.files.FileRepository`)."""

    async def read_chunk(self, blob_id: str, seq: int) -> bytes | None: ...

    async def read_bytes(self, blob_id: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class FileText:
    """A file's text as far as it was read. `complete`: nothing of it is missing; `why`: when something is, a
    sentence saying what (None: it was only longer than what was read)."""

    text: str
    complete: bool
    why: str | None = None


Kept = TypeVar("Kept", ImagePart, FileText)


@dataclass(frozen=True, slots=True)
class Prepared:
    messages: list[ChatMessage]
    notes: dict[str, dict[str, Any]]
    """What became of the last message's files, by file id (the data of its file parts): only files with a note."""


class Attachments:
    def __init__(self, files: FileBytes, options: AttachmentOptions | None = None) -> None:
        self.files = files
        self.options = options or AttachmentOptions()
        self._kept: OrderedDict[tuple[Any, ...], ImagePart | FileText] = OrderedDict()
        self._kept_bytes = 0

    async def prepare(self, prompt: Sequence[Asked], limits: ImageLimits, *, sees_images: bool) -> Prepared:
        """The prompt as the provider's messages; images as `limits` allow (or, without `sees_images`, a line)."""
        messages: list[ChatMessage] = []
        notes: dict[str, dict[str, Any]] = {}
        for turn in prompt:
            notes = {}
            parts: list[ContentPart] = [TextPart(turn.text)] if turn.text else []
            left = self.options.text_max_chars
            for file in turn.files:
                if is_image(file):
                    parts.append(await self.image(file, limits) if sees_images else TextPart(_unseen(file)))
                    continue
                text = await self.text(file)
                block, note, used = _block(file, text, left)
                left -= used
                parts.append(block)
                if note:
                    notes[file.id] = {"truncated": True, "note": note}
            messages.append(ChatMessage(turn.role, parts))
        return Prepared(messages, notes)

    async def image(self, file: StoredFile, limits: ImageLimits) -> ImagePart:
        """The image as this provider is to get it (fitted once per content and limits)."""
        key = ("image", file.blob_id, limits)
        kept = self._get(key)
        if isinstance(kept, ImagePart):
            return kept
        data = await self.files.read_bytes(file.blob_id)
        media_type, fitted = await asyncio.to_thread(fit_image, data, file.media_type, limits)
        return self._keep(key, ImagePart(media_type, fitted), len(fitted))

    async def text(self, file: StoredFile) -> FileText:
        """The file's text, up to `text_max_chars` characters (read once per content)."""
        key = ("text", file.blob_id, self.options.text_max_chars)
        kept = self._get(key)
        if isinstance(kept, FileText):
            return kept
        found = await (self._pdf_text(file) if file.media_type == PDF else self._plain_text(file))
        return self._keep(key, found, len(found.text) * 2)

    async def _plain_text(self, file: StoredFile) -> FileText:
        """UTF-8 (checked at upload), read a chunk at a time, no further than the characters that could be sent."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        wanted = self.options.text_max_chars * BYTES_PER_CHAR
        pieces: list[str] = []
        read, seq = 0, 0
        while read < wanted and (chunk := await self.files.read_chunk(file.blob_id, seq)) is not None:
            pieces.append(decoder.decode(chunk))
            read += len(chunk)
            seq += 1
        complete = read >= file.size
        if complete:
            pieces.append(decoder.decode(b"", final=True))
        return FileText("".join(pieces), complete)

    async def _pdf_text(self, file: StoredFile) -> FileText:
        data = await self.files.read_bytes(file.blob_id)
        options = self.options
        read = await read_pdf_text(
            data, max_chars=options.text_max_chars, max_pages=options.pdf_max_pages, seconds=options.pdf_seconds
        )
        pages = [f"--- page {n} ---\n{text.strip()}" for n, text in enumerate(read.pages, 1)]
        text = "\n\n".join(pages)
        count = read.page_count or file.pages or len(read.pages)
        done = len(read.pages)
        complete = done >= count and not read.timed_out and not read.failed
        why: str | None = None
        first, were = ("page 1", "was") if done == 1 else (f"pages 1–{done}", "were")
        if read.timed_out:
            why = (
                f"Reading this PDF's text took longer than {options.pdf_seconds:g} s: only {first} of {count} "
                f"{were} sent to the model."
                if done
                else f"Reading this PDF's text took longer than {options.pdf_seconds:g} s: none of it was sent."
            )
        elif read.failed:
            why = (
                f"This PDF is damaged after page {done} of {count}: only {first} {were} sent to the model."
                if done
                else "This PDF is damaged: its text could not be read, and the model was sent only its name."
            )
        elif complete and not any(page.strip() for page in read.pages):
            why = "This PDF has no text to read (a scan?): the model was sent only its name."
        elif not complete:  # stopped at the characters that can be sent
            why = f"Only {first} of {count} of this PDF {were} read: its text is longer than can be sent."
        return FileText(text, complete and why is None, why)

    def _get(self, key: tuple[Any, ...]) -> ImagePart | FileText | None:
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
        return kept

    def _keep(self, key: tuple[Any, ...], value: Kept, size: int) -> Kept:
        if size > self.options.cache_bytes:
            return value
        self._kept[key] = value
        self._kept_bytes += size
        while self._kept_bytes > self.options.cache_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._kept_bytes -= _size(dropped)
        return value


def _size(value: ImagePart | FileText) -> int:
    return len(value.data) if isinstance(value, ImagePart) else len(value.text) * 2


def _block(file: StoredFile, found: FileText, left: int) -> tuple[TextPart, str | None, int]:
    """The file's text block within `left` characters of its text, the note for the person when something was left
    out, and the characters of text it used."""
    name = _attribute(file.name)
    text = found.text.rstrip().replace("</file>", "<\\/file>")  # the block's end can only be the block's end
    note = found.why
    if len(text) > left:
        text = text[:left]
        note = (
            f"Only the first {left:,} characters of this file's text were sent to the model "
            f"(CHATUI_ATTACHMENT_TEXT_MAX_CHARS: the text of one message's files)."
            if left
            else "Not sent to the model: the other files of this message took all the text one message can send."
        )
    elif not found.complete and note is None:
        note = f"Only the first {len(text):,} characters of this file's text were sent to the model."
    lines = [f'<file name="{name}" type="{file.media_type}">', text, f"[{note}]" if note else "", "</file>"]
    return TextPart("\n".join(line for line in lines if line)), note, len(text)


def _attribute(name: str) -> str:
    """A file name as a quoted attribute: on one line, without quotes or angle brackets."""
    return " ".join(name.split()).replace('"', "'").replace("<", "(").replace(">", ")")


def _unseen(file: StoredFile) -> str:
    return f"[An image, {_attribute(file.name)}, was attached here; this model cannot see images.]"
