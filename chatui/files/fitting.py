"""An image made fit for a provider: no larger than it takes, of a type it takes, turned the way it is seen, and
without the metadata a camera wrote (EXIF, with its GPS position; comments; colour profiles).

An image that is already fit and carries no EXIF is sent as uploaded, byte for byte. Any other is decoded, turned
by its EXIF orientation, reduced to the provider's longest side (`ImageLimits.max_edge`, aspect kept) and encoded
again: PNG for images with transparency or of few colours (screenshots, diagrams: PNG keeps them sharp and small),
JPEG (quality 85) for photos; then smaller until it is under the provider's bytes (`ImageLimits.max_bytes`).

Blocking (Pillow's decode and resize, tens to hundreds of milliseconds for a photo): called in a worker thread.
Pillow releases the GIL while it decodes, resizes and encodes, so the event loop keeps running meanwhile.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from providers.base import ImageLimits

JPEG_QUALITY = 85
SHRINK_STEP = 0.75
"""Each try past the bytes limit keeps this share of the sides (about half the pixels every two tries)."""


def fit_image(data: bytes, media_type: str, limits: ImageLimits) -> tuple[str, bytes]:
    """(type, bytes) of the image as the provider is to get it."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        fits = (
            media_type in limits.media_types
            and max(image.size) <= limits.max_edge
            and len(data) <= limits.max_bytes
            and not getattr(image, "is_animated", False)
        )
        if fits and not exif:
            return media_type, data
        if image.format == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 of the size straight away when that is still at least the size wanted:
            # a 12-megapixel photo decodes in a fraction of the time and memory.
            image.draft("RGB", _box(image.size, limits.max_edge))
        image.seek(0)  # an animated GIF or WebP: its first frame
        upright = ImageOps.exif_transpose(image) or image.copy()
    upright.info = {key: value for key, value in upright.info.items() if key == "transparency"}  # pixels only
    upright.thumbnail((limits.max_edge, limits.max_edge), Image.Resampling.LANCZOS)
    return _encode(upright, media_type, limits)


def _box(size: tuple[int, int], max_edge: int) -> tuple[int, int]:
    """The size to ask `draft` for: the image's own sides scaled to `max_edge` on the longer one."""
    width, height = size
    scale = min(1.0, max_edge / max(width, height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _encode(image: Image.Image, media_type: str, limits: ImageLimits) -> tuple[str, bytes]:
    as_png = _has_alpha(image) or media_type in ("image/png", "image/gif")
    while True:
        if as_png and "image/png" in limits.media_types:
            out = _save(image, "PNG")
            if len(out) <= limits.max_bytes:
                return "image/png", out
        out = _save(_flattened(image), "JPEG")
        if len(out) <= limits.max_bytes or max(image.size) <= 64:
            return "image/jpeg", out
        width, height = image.size
        image = image.resize(
            (max(1, int(width * SHRINK_STEP)), max(1, int(height * SHRINK_STEP))), Image.Resampling.LANCZOS
        )


def _save(image: Image.Image, kind: str) -> bytes:
    """Encoded with nothing but the pixels (`fit_image` emptied `info`, where Pillow finds what it would carry over:
    an ICC profile, PNG text)."""
    out = io.BytesIO()
    if kind == "PNG":
        image.save(out, "PNG", optimize=False, compress_level=6)
    else:
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _flattened(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency over white (how a page shows it)."""
    if image.mode == "RGB":
        return image
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
