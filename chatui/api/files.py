"""Attachments: upload a file, download one of your own.

A file is served back only to its owner (anyone else gets 404, as for conversations), with `nosniff`, a policy that
lets it run nothing, and a type that cannot become a page: images inline as their own checked type (PNG, JPEG, GIF,
WebP: never SVG), everything else as a download. Text is `text/*` as a download, never `text/html` inline.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import StreamingResponse

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import FilePublic
from chatui.api.transfer import UPLOAD_BODY
from chatui.bootstrap import Services
from chatui.files.sniff import IMAGE_TYPES
from storage.files import StoredFile

router = APIRouter(prefix="/api/files", tags=["files"])

INLINE_TYPES = frozenset(IMAGE_TYPES.values())
MULTIPART_ROOM = 64 * 1024
"""Bytes a body may carry beyond the file itself: the multipart boundary and headers."""
FILE_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"


def body_limit(max_file_bytes: int) -> int:
    """The largest body `POST /api/files` reads (`chatui.web.body_limits`); the file's own limit is the service's."""
    return max_file_bytes + MULTIPART_ROOM


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FilePublic,
    openapi_extra=UPLOAD_BODY,
    responses={
        400: {"description": "Not a multipart upload with a 'file'"},
        413: {"description": "Larger than CHATUI_UPLOAD_MAX_MB (20 MB), or past the user's quota (1 GB)"},
        415: {"description": "Not an image (PNG, JPEG, GIF, WebP), a PDF or a UTF-8 text file"},
        422: {"description": "An image past the pixel bound, a PDF past the page bound, or a damaged file"},
    },
)
async def upload_file(request: Request, signed_in: CurrentUser, services: ServicesDep) -> FilePublic:
    """Upload one file (multipart, field `file`) to attach to a message (`/ws` frame `attachments`).

    Its type is found from its bytes, not its name. A refusal has a `reason` (`too_large`, `quota`, `unsupported`,
    `too_many_pixels`, `too_many_pages`, `unreadable`, ...) and a `detail` to show. Files never attached to a message
    are deleted a day after their upload.
    """
    stored = await services.files.upload(
        signed_in.user.id, request.headers.get("content-type", ""), request.stream()
    )  # FileRefused: its status, api.errors
    return FilePublic(id=stored.id, name=stored.name, media_type=stored.media_type, size=stored.size)


@router.get(
    "/{file_id}",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file's bytes", "content": {"application/octet-stream": {}}},
        404: {"description": "No such file for this user"},
    },
)
async def download_file(file_id: str, signed_in: CurrentUser, services: ServicesDep) -> StreamingResponse:
    """The file's bytes: images inline, anything else as a download."""
    stored = await services.files.get(signed_in.user.id, file_id)
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "File not found.")
    return file_response(services, stored)


def file_response(services: Services, stored: StoredFile) -> StreamingResponse:
    """A file's bytes as every route serves them (its owner's, and a share link's): see the module docstring."""
    inline = stored.media_type in INLINE_TYPES
    media_type = stored.media_type if inline or stored.media_type == "application/pdf" else _text(stored.media_type)
    headers = {
        "Content-Disposition": content_disposition("inline" if inline else "attachment", stored.name),
        "Content-Length": str(stored.size),
        "Content-Security-Policy": FILE_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600",
    }
    return StreamingResponse(services.files.content(stored), media_type=media_type, headers=headers)


def _text(media_type: str) -> str:
    """Text files are downloaded as what they are, with their charset (never as HTML: they were stored as text)."""
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


def content_disposition(kind: str, name: str) -> str:
    """RFC 6266: an ASCII fallback name (no quotes or backslashes) and the real one percent-encoded (RFC 5987)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in name) or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
