"""Knowledge collections (issue 25): create, list, read, delete; add documents (read in the background); share.

A collection someone may not read answers 404, exactly like a missing one. A collection shared by an administrator
is readable by everyone and changeable by its owner only (404 for anyone else's change, as for any collection that
is not theirs). Documents come as a multipart body with one or more `file` fields; each becomes a document at once,
`pending` while it is read (`progress` from 0 to 1), then `ready` with its chunk count, or `failed` with a `reason`.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from chatui.api.deps import AdminUser, CurrentUser, ServicesDep
from chatui.files.receive import clean_name, spool_file
from chatui.knowledge.service import CollectionGone, Upload
from storage.knowledge import CollectionRow, DocumentRow

router = APIRouter(prefix="/api/knowledge", tags=["knowledge"])

NOT_FOUND = {404: {"description": "No such collection (or document) for this user"}}
MULTIPART_ROOM = 64 * 1024
DOCUMENTS_PATH = r"/api/knowledge/[^/]+/documents"
"""For `chatui.web.body_limits`: the path whose POST may carry several files."""
DOCUMENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                    "required": ["file"],
                }
            }
        },
    }
}


def body_limit(max_file_bytes: int, files: int) -> int:
    """The largest body of `POST /api/knowledge/{id}/documents`: `files` files at the attachments' limit."""
    return files * (max_file_bytes + MULTIPART_ROOM)


class CollectionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class CollectionUpdate(BaseModel):
    shared: bool = Field(description="Readable by every account (administrators only)")


class CollectionCreated(BaseModel):
    id: str
    name: str


class CollectionPublic(BaseModel):
    id: str
    name: str
    shared: bool
    mine: bool = Field(description="Yours (else a collection an administrator shared with everyone)")
    documents: int
    created_at: datetime


class DocumentPublic(BaseModel):
    id: str
    name: str
    kind: str = Field(description="pdf, html, markdown, code, text (unknown: refused before it was read)")
    size: int
    status: str = Field(description="pending, ready or failed")
    reason: str | None = Field(description="Why it failed")
    chunk_count: int
    progress: float = Field(description="0 to 1 while pending")
    created_at: datetime
    embedded: int | None = Field(
        None, description="Chunks embedded for hybrid retrieval (of chunk_count); null without an embedding model"
    )


class EmbeddingPublic(BaseModel):
    """Hybrid retrieval's progress over a collection (issue 25): its ready documents' chunks embedded so far."""

    model: str = Field(description="The embedding model (CHATUI_EMBEDDING_MODEL), as `provider:name`")
    embedded: int = Field(description="Chunks of ready documents that have a vector of this model")
    chunks: int = Field(description="Chunks of ready documents; embedded == chunks: every one is searched by meaning")
    error: str | None = Field(description="Why embedding stopped short (tried again later); BM25 answers meanwhile")


class CollectionWithDocuments(BaseModel):
    id: str
    name: str
    shared: bool
    mine: bool
    created_at: datetime
    documents: list[DocumentPublic]
    embedding: EmbeddingPublic | None = Field(
        description="Hybrid retrieval's progress; null when no embedding model is set (BM25 alone)"
    )


def _collection(row: CollectionRow, user_id: str) -> CollectionPublic:
    return CollectionPublic(
        id=row.id,
        name=row.name,
        shared=row.shared,
        mine=row.user_id == user_id,
        documents=row.documents,
        created_at=row.created_at,
    )


def _document(row: DocumentRow, embedded: int | None = None) -> DocumentPublic:
    return DocumentPublic(
        embedded=embedded,
        id=row.id,
        name=row.name,
        kind=row.kind,
        size=row.size,
        status=row.status,
        reason=row.reason,
        chunk_count=row.chunk_count,
        progress=row.progress,
        created_at=row.created_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CollectionCreated)
async def create_collection(body: CollectionCreate, signed_in: CurrentUser, services: ServicesDep) -> CollectionCreated:
    """A new, empty collection of yours."""
    row = await services.knowledge.create(signed_in.user.id, body.name)
    return CollectionCreated(id=row.id, name=row.name)


@router.get("", response_model=list[CollectionPublic])
async def list_collections(signed_in: CurrentUser, services: ServicesDep) -> list[CollectionPublic]:
    """Your collections and those shared with everyone, newest first."""
    rows = await services.knowledge.collections(signed_in.user.id)
    return [_collection(row, signed_in.user.id) for row in rows]


@router.get("/{collection_id}", response_model=CollectionWithDocuments, responses=NOT_FOUND)
async def get_collection(collection_id: str, signed_in: CurrentUser, services: ServicesDep) -> CollectionWithDocuments:
    """The collection and its documents, each with its status, chunk count and (if it failed) reason."""
    found = await services.knowledge.collection(signed_in.user.id, collection_id[:64])
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Collection not found.")
    row, documents = found
    progress = await services.knowledge.embedding(row.id, documents)
    embedded = progress.per_document if progress is not None else {}
    return CollectionWithDocuments(
        id=row.id,
        name=row.name,
        shared=row.shared,
        mine=row.user_id == signed_in.user.id,
        created_at=row.created_at,
        documents=[_document(d, embedded.get(d.id)) for d in documents],
        embedding=EmbeddingPublic(
            model=progress.model, embedded=progress.embedded, chunks=progress.chunks, error=progress.error
        )
        if progress is not None
        else None,
    )


@router.patch("/{collection_id}", response_model=CollectionCreated, responses=NOT_FOUND)
async def share_collection(
    collection_id: str, body: CollectionUpdate, admin: AdminUser, services: ServicesDep
) -> CollectionCreated:
    """(Administrators.) Make a collection readable by every account, or no longer."""
    if not await services.knowledge.set_shared(collection_id[:64], body.shared):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Collection not found.")
    found = await services.knowledge.collection(admin.user.id, collection_id[:64])
    assert found is not None
    return CollectionCreated(id=found[0].id, name=found[0].name)


@router.delete("/{collection_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_collection(collection_id: str, signed_in: CurrentUser, services: ServicesDep) -> Response:
    """Delete one of your collections with its documents: their passages leave retrieval at once."""
    if not await services.knowledge.delete(signed_in.user.id, collection_id[:64]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Collection not found.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{collection_id}/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_document(
    collection_id: str, document_id: str, signed_in: CurrentUser, services: ServicesDep
) -> Response:
    """Delete a document of one of your collections: its passages leave retrieval at once."""
    if not await services.knowledge.delete_document(signed_in.user.id, collection_id[:64], document_id[:64]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Document not found.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{collection_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=list[DocumentPublic],
    openapi_extra=DOCUMENTS_BODY,
    responses={**NOT_FOUND, 400: {"description": "Not a multipart body with at least one `file`"}},
)
async def add_documents(
    collection_id: str, request: Request, signed_in: CurrentUser, services: ServicesDep
) -> list[DocumentPublic]:
    """Add files (PDF, Markdown, HTML, text, source code; field `file`, repeatable) to one of your collections.

    Each becomes a document at once: `pending` while it is read in the background (poll `GET /api/knowledge/{id}`),
    or `failed` with a `reason` (too large, empty). A file that cannot be read fails alone.
    """
    knowledge = services.knowledge
    found = await knowledge.collection(signed_in.user.id, collection_id[:64])
    if found is None or found[0].user_id != signed_in.user.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Collection not found.")
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Send the files as multipart/form-data, each as `file`.")
    async with request.form(max_files=knowledge.limits.files_per_upload, max_fields=10) as form:
        files = [item for item in form.getlist("file") if isinstance(item, UploadFile)]
        if not files:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "The body has no `file`.")
        uploads = [await asyncio.to_thread(_spool, item.file, knowledge.spool, item.filename) for item in files]
    try:
        added = await knowledge.add(signed_in.user.id, collection_id[:64], uploads)
    except CollectionGone:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Collection not found.") from None
    return [_document(row) for row in added]


def _spool(source: BinaryIO, folder: Path, filename: str | None) -> Upload:
    path = spool_file(folder)
    with path.open("wb") as out:
        source.seek(0)
        shutil.copyfileobj(source, out, 1024 * 1024)
        size = out.tell()
    return Upload(clean_name(filename or ""), path, size)
