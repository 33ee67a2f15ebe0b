"""Files to attach, made on the spot for the tests and the benchmarks: real images and PDFs (Pillow, pypdf), and
the hostile ones (a decompression bomb, a damaged PDF) that must be refused."""

from __future__ import annotations

import io
import struct
import zlib


def png(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48, *, orientation: int | None = None, quality: int = 90) -> bytes:
    """A JPEG; with `orientation`, an EXIF Orientation tag (6: shown turned 90° clockwise) and a camera model, the
    metadata a resize must apply and then drop."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (30, 120, 200))
    image.paste((250, 250, 0), (0, 0, width // 4, height // 4))  # a corner to see which way is up
    out = io.BytesIO()
    if orientation is None:
        image.save(out, "JPEG", quality=quality)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x0110] = "chatui test camera"
        image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def noisy_jpeg(width: int, height: int) -> bytes:
    """A photo-like JPEG of random pixels (compresses poorly, like a real photo): for sizes in megabytes."""
    import os

    from PIL import Image

    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header announcing `width` × `height` pixels over a few bytes of data: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def pdf(
    pages: int = 2, text: str = "Page {n} of the report.", lines: int = 1, page_lines: list[list[str]] | None = None
) -> bytes:
    """A PDF of `pages` pages, each with `lines` lines of real text (`{n}`: the page number, `{line}`: the line's);
    or, with `page_lines`, one page per list with those lines (bench.knowledge_ingest's made-up documents)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    font_ref = writer._add_object(font)  # pypdf makes indirect objects through this method only
    if page_lines is None:
        page_lines = [[text.format(n=n, line=line) for line in range(1, lines + 1)] for n in range(1, pages + 1)]
    for written in page_lines:
        page = writer.add_blank_page(612, 792)
        shown = []
        for line in written:
            words = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            shown.append(f"({words}) Tj")
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td {' 0 -14 Td '.join(shown)} ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def damaged_pdf() -> bytes:
    """Starts like a PDF, is not one."""
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\n" + bytes(range(256)) * 40 + b"\nno trailer"
