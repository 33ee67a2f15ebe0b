"""What an uploaded file really is, found from its bytes — never from its name or the type the browser declared.

Allowed: PNG, JPEG, GIF and WebP images (opened by Pillow, which reads the header only: the pixel count is known and
checked before any pixel is decoded, so a decompression bomb costs nothing); PDF (`%PDF-`, its pages counted by
pypdf); UTF-8 text (every byte decoded, no NUL). Everything else is refused with a reason.

Blocking (file reads, Pillow, pypdf): called in a worker thread by `chatui.files.service`.
"""

from __future__ import annotations

import codecs
import warnings
from dataclasses import dataclass
from pathlib import Path

from chatui.files.errors import FileProblem, FileRefused

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
TEXT_TYPES = {"md": "text/markdown", "markdown": "text/markdown", "csv": "text/csv", "json": "application/json"}
"""Text files keep a more precise type for these extensions; any other text (HTML, SVG and XML included) is
`text/plain`: it is text to read, never a page or an image to render."""
READ_BYTES = 1024 * 1024
UNSUPPORTED = "This kind of file cannot be attached: attach an image (PNG, JPEG, GIF, WebP), a PDF or a text file."


@dataclass(frozen=True, slots=True)
class Kind:
    media_type: str
    width: int | None = None
    height: int | None = None
    pages: int | None = None


@dataclass(frozen=True, slots=True)
class Bounds:
    max_pixels: int
    max_pages: int


def identify(path: Path, head: bytes, name: str, bounds: Bounds) -> Kind:
    """The file's type (and size in pixels or pages); `FileRefused` for anything not allowed."""
    if not head:
        raise FileRefused(FileProblem.UNREADABLE, "The file is empty.")
    if head.startswith(b"%PDF-"):
        return _pdf(path, bounds)
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return _image(path, bounds)
    if _is_utf8_text(path):
        extension = name.rpartition(".")[2].lower() if "." in name else ""
        return Kind(TEXT_TYPES.get(extension, "text/plain"))
    raise FileRefused(FileProblem.UNSUPPORTED, UNSUPPORTED)


def _image(path: Path, bounds: Bounds) -> Kind:
    from PIL import Image, UnidentifiedImageError

    too_many = FileRefused(
        FileProblem.TOO_MANY_PIXELS,
        f"The image is too large: at most {bounds.max_pixels / 1e6:g} megapixels can be attached.",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=list(IMAGE_TYPES)) as image:
                width, height = image.size
                if width * height > bounds.max_pixels:
                    raise too_many
                kind = Kind(IMAGE_TYPES[image.format or ""], width, height)
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, KeyError, EOFError):
        raise FileRefused(FileProblem.UNREADABLE, "The image is damaged or not really an image.") from None
    return kind


def _pdf(path: Path, bounds: Bounds) -> Kind:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about every repaired flaw; refusals are its errors
            pages = len(PdfReader(path, strict=False).pages)
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, AssertionError):
        raise FileRefused(FileProblem.UNREADABLE, "The PDF is damaged and cannot be read.") from None
    if pages == 0:
        raise FileRefused(FileProblem.UNREADABLE, "The PDF has no pages.")
    if pages > bounds.max_pages:
        raise FileRefused(
            FileProblem.TOO_MANY_PAGES, f"The PDF has {pages} pages; at most {bounds.max_pages} can be attached."
        )
    return Kind("application/pdf", pages=pages)


def _is_utf8_text(path: Path) -> bool:
    """Whether every byte decodes as UTF-8 with no NUL (binary formats have NULs early), read a megabyte at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as file:
            while block := file.read(READ_BYTES):
                if b"\x00" in block:
                    return False
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
