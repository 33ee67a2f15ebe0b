"""What the fakes check of an image a request carries, as the real APIs do before they answer: that its base64
decodes, that the bytes are an image of a type the API takes (and the type the request says), and its size."""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


@dataclass(frozen=True, slots=True)
class SeenImage:
    """An image as a fake received it (tests assert on these: type, pixels, bytes, and what metadata it kept)."""

    media_type: str
    width: int
    height: int
    size: int
    exif: bool
    data: bytes

    def __repr__(self) -> str:
        return f"SeenImage({self.media_type}, {self.width}x{self.height}, {self.size} bytes, exif={self.exif})"


class BadImage(ValueError):
    """The image a request carries is not one the API would take; the message is what that API says."""


def decode(data: str) -> SeenImage:
    """The image whose base64 is `data`; `BadImage` if it is not valid base64 or not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BadImage("illegal base64 data") from None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            media_type = FORMATS.get(image.format or "")
            if media_type is None:
                raise BadImage(f"unsupported image format {image.format}")
            return SeenImage(media_type, image.width, image.height, len(raw), bool(image.getexif()), raw)
    except (UnidentifiedImageError, OSError):
        raise BadImage("the data is not a valid image") from None
