"""Export (one conversation as Markdown or JSON, the whole account as one JSON stream) and import jobs."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import ImportJobPublic, ImportStarted
from chatui.transfer.exporting import markdown

router = APIRouter(tags=["import and export"])

NOT_FOUND = {404: {"description": "No such conversation (or job) for this user"}}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}


def attachment(name: str, extension: str) -> dict[str, str]:
    """A download's headers: a file name made of the title's plain letters and digits (never quotes or paths)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:60].lower() or "conversation"
    return {"Content-Disposition": f'attachment; filename="chatui-{slug}.{extension}"'}


@router.get("/api/conversations/{conversation_id}/export", responses=NOT_FOUND)
async def export_conversation(
    conversation_id: str,
    signed_in: CurrentUser,
    services: ServicesDep,
    format: Annotated[Literal["markdown", "json"], Query()] = "json",
) -> Response:
    """Markdown: the title, then each message of the active path with its role, model and time, and the names of
    its files. JSON: chatui/1 (the whole tree, settings, usage, and the files with their bytes in base64), which
    `POST /api/import` reads back."""
    record = await services.exports.conversation(signed_in.user.id, conversation_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Conversation not found.")
    if format == "markdown":
        return Response(
            markdown(record), media_type="text/markdown; charset=utf-8", headers=attachment(record.title or "", "md")
        )
    return StreamingResponse(
        services.exports.document(signed_in.user.id, record),
        media_type="application/json",
        headers=attachment(record.title or "", "json"),
    )


@router.get("/api/export")
async def export_account(
    signed_in: CurrentUser,
    services: ServicesDep,
    id: Annotated[list[str] | None, Query(max_length=500, description="Only these conversations (Select mode)")] = None,
) -> StreamingResponse:
    """Every conversation of the account (or those `id` names: ids not yours are left out) as one chatui/1
    document, streamed (never held in memory whole)."""
    return StreamingResponse(
        services.exports.account(signed_in.user.id, [i[:64] for i in id] if id is not None else None),
        media_type="application/json",
        headers=attachment("all", "json"),
    )


@router.post(
    "/api/import",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportStarted,
    openapi_extra=UPLOAD_BODY,
    responses={
        400: {"description": "Not a multipart upload with a 'file', or its first bytes are not JSON or a zip"},
        409: {"description": "An import of this user is being uploaded or running (on any instance)"},
        413: {"description": "Larger than the upload limit (CHATUI_IMPORT_MAX_MB, 512 MB)"},
    },
)
async def start_import(request: Request, signed_in: CurrentUser, services: ServicesDep) -> ImportStarted:
    """Upload a chatui/1 export, ChatGPT's `conversations.json` or export `.zip`, an Open WebUI chat export, or a
    LibreChat conversation's JSON export.

    The user's one import slot is taken before the body is read (409 if an import of theirs is under way). The
    answer comes as soon as the file is stored: the import, its format check included, runs in the background in a
    process of its own. Follow it at `GET /api/import/{job_id}`: a file refused whole ends `failed` with a `reason`
    and the 4xx `status_code` it stands for. Conversations already imported (the same file again) are counted as
    duplicates.
    """
    jobs = services.imports
    reservation = await jobs.reserve(signed_in.user.id)  # ImportBusy: 409, api.errors
    try:
        path = await jobs.receive(request.headers.get("content-type", ""), request.stream())  # UploadRefused
        job = await jobs.start(reservation, path)
    except BaseException:
        await asyncio.shield(jobs.release(reservation))
        raise
    return ImportStarted(job_id=job.id)


@router.get("/api/import/{job_id}", response_model=ImportJobPublic, responses=NOT_FOUND)
async def import_status(job_id: str, signed_in: CurrentUser, services: ServicesDep) -> ImportJobPublic:
    """How far the import is, and at the end what it did: only for the user who started it."""
    job = await services.imports.get(signed_in.user.id, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Import not found.")
    return ImportJobPublic(**job.public())
