"""Export (one conversation as Markdown or JSON, the whole account as one JSON stream) and import jobs."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import ImportJobPublic, ImportStarted
from chatui.transfer.exporting import document_json, markdown
from chatui.transfer.reading import UnreadableFile, inspect

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
    """Markdown: the title, then each message of the active path with its role, model and time. JSON: chatui/1 (the
    whole tree, settings and usage), which `POST /api/import` reads back."""
    record = await services.exports.conversation(signed_in.user.id, conversation_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Conversation not found.")
    if format == "markdown":
        return Response(
            markdown(record), media_type="text/markdown; charset=utf-8", headers=attachment(record.title or "", "md")
        )
    return JSONResponse(document_json([record]), headers=attachment(record.title or "", "json"))


@router.get("/api/export")
async def export_account(signed_in: CurrentUser, services: ServicesDep) -> StreamingResponse:
    """Every conversation of the account as one chatui/1 document, streamed (never held in memory whole)."""
    return StreamingResponse(
        services.exports.account(signed_in.user.id),
        media_type="application/json",
        headers=attachment("all", "json"),
    )


@router.post(
    "/api/import",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportStarted,
    openapi_extra=UPLOAD_BODY,
    responses={
        400: {"description": "Not a multipart upload with a 'file', or not JSON / a zip"},
        409: {"description": "An import of this user is still running"},
        413: {"description": "Larger than 512 MB"},
        422: {"description": "JSON of no known export format"},
    },
)
async def start_import(request: Request, signed_in: CurrentUser, services: ServicesDep) -> ImportStarted:
    """Upload a chatui/1 export, ChatGPT's `conversations.json` or export `.zip`, or an Open WebUI chat export.

    The file is checked at once (400/422 with the reason), then imported in the background: follow it at
    `GET /api/import/{job_id}`. Conversations already imported (the same file again) are counted as duplicates.
    """
    jobs = services.imports
    if jobs.running_for(signed_in.user.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "An import is already running; wait for it to end.")
    path = await jobs.receive(request.headers.get("content-type", ""), request.stream())  # UploadRefused: api.errors
    try:
        export = inspect(path)
    except UnreadableFile as exc:
        path.unlink(missing_ok=True)
        code = status.HTTP_400_BAD_REQUEST if exc.malformed else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, exc.message) from None
    return ImportStarted(job_id=jobs.start(signed_in.user.id, export).id)


@router.get("/api/import/{job_id}", response_model=ImportJobPublic, responses=NOT_FOUND)
async def import_status(job_id: str, signed_in: CurrentUser, services: ServicesDep) -> ImportJobPublic:
    """How far the import is, and at the end what it did: only for the user who started it."""
    job = services.imports.get(signed_in.user.id, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Import not found.")
    return ImportJobPublic(**job.public())
