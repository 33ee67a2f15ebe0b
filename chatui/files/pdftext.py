"""A PDF's text, read by pypdf in a process of its own: `python -m chatui.files.pdftext MAX_CHARS MAX_PAGES`, the PDF
on stdin, one JSON line a page on stdout.

Why a process: a PDF is a program of sorts, and a hostile or broken one can keep pypdf busy for minutes (deep object
chains, huge content streams, endless cross-reference repairs) or make it allocate gigabytes, while holding the GIL:
in a thread it would stall every page and reply of the server. In a process of its own, at a lower CPU priority and
with its address space capped, it stalls nothing; the server reads its pages as they come and kills it when its time
is up, keeping the pages read by then.

Bounds: the pages read (at most `MAX_PAGES`: the upload already refused PDFs over CHATUI_PDF_MAX_PAGES), the text
(it stops once it has `MAX_CHARS` characters: nothing beyond would be sent), the time (`read_pdf_text`'s `seconds`,
CHATUI_PDF_TEXT_SECONDS) and the memory (`MEMORY_BYTES`).

Output lines: `{"pages": n}` (the document's page count), then `{"text": "..."}` per page read, then
`{"end": "done"}` or `{"end": "failed"}` (pypdf could not read it).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

MEMORY_BYTES = 1024 * 1024 * 1024
"""The reader's address space: a 20 MB PDF's objects and text fit many times over; a bomb gets MemoryError."""
NICENESS = 10
LINE_LIMIT = 64 * 1024 * 1024
"""Longest line the server reads (one page's text as JSON); a page longer than this ends the reading there."""
_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class PdfText:
    """What was read: the pages' texts in order, the document's page count, and why the reading ended early (if it
    did: `timed_out`, or `failed` when pypdf could not read the document or a page)."""

    pages: list[str]
    page_count: int | None
    timed_out: bool = False
    failed: bool = False


async def read_pdf_text(data: bytes, *, max_chars: int, max_pages: int, seconds: float) -> PdfText:
    """The PDF's text, page by page, until `max_chars` characters, `max_pages` pages or `seconds` (then what was read
    by then). Never raises for a bad PDF: it comes back `failed`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chatui.files.pdftext",
        str(max_chars),
        str(max_pages),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        limit=LINE_LIMIT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])},
    )
    assert process.stdin is not None and process.stdout is not None
    pages: list[str] = []
    count: int | None = None
    ended: str | None = None

    async def feed() -> None:
        with contextlib.suppress(ConnectionError):  # the reader may stop (or be killed) before it read everything
            process.stdin.write(data)
            await process.stdin.drain()
            process.stdin.close()

    async def collect() -> None:
        nonlocal count, ended
        async for line in process.stdout:
            item = json.loads(line)
            if "pages" in item:
                count = int(item["pages"])
            elif "text" in item:
                pages.append(str(item["text"]))
            elif "end" in item:
                ended = str(item["end"])

    feeding = asyncio.create_task(feed())
    timed_out = False
    try:
        async with asyncio.timeout(seconds):
            await collect()
            await process.wait()
    except TimeoutError:
        timed_out = True
    except (ValueError, json.JSONDecodeError):  # a line over LINE_LIMIT, or cut off by a crash
        ended = ended or "failed"
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
    return PdfText(pages, count, timed_out=timed_out, failed=not timed_out and ended != "done")


def _limit_memory(max_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the time bound still holds
        return
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


def _emit(item: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(item) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    """The reader process: the PDF from stdin, its pages' text to stdout (see the module's docstring)."""
    max_chars, max_pages = int(argv[0]), int(argv[1])
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    _limit_memory(MEMORY_BYTES)
    import warnings

    from pypdf import PdfReader

    warnings.simplefilter("ignore")  # pypdf warns about every flaw it repairs
    try:
        reader = PdfReader(io.BytesIO(sys.stdin.buffer.read()), strict=False)
        _emit({"pages": len(reader.pages)})
        chars = 0
        for number in range(min(max_pages, len(reader.pages))):
            text = reader.pages[number].extract_text() or ""
            _emit({"text": text})
            chars += len(text)
            if chars >= max_chars:
                break
    except Exception:  # whatever a broken PDF makes pypdf raise (MemoryError, RecursionError too): the pages so far
        _emit({"end": "failed"})  # stand, the rest is unreadable
        return 0
    _emit({"end": "done"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
