"""A user's folders of conversations. Someone else's folder answers 404, exactly like a missing one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import FolderCreate, FolderPublic, FolderUpdate
from storage.models import Folder

router = APIRouter(prefix="/api/folders", tags=["folders"])

NOT_FOUND = {404: {"description": "No such folder for this user"}}


def _public(folder: Folder) -> FolderPublic:
    return FolderPublic.model_validate(folder, from_attributes=True)


@router.get("", response_model=list[FolderPublic])
async def list_folders(signed_in: CurrentUser, services: ServicesDep) -> list[FolderPublic]:
    """Your folders in order: each top-level folder, then the folders inside it."""
    return [_public(f) for f in await services.organizer.folders(signed_in.user.id)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FolderPublic,
    responses={**NOT_FOUND, 422: {"description": "An empty name, or a parent that is itself in a folder"}},
)
async def create_folder(body: FolderCreate, signed_in: CurrentUser, services: ServicesDep) -> FolderPublic:
    """A new folder, at the top level or in a top-level folder (`parent_id`), last unless `position` says where."""
    folder = await services.organizer.create_folder(signed_in.user.id, body.name, body.parent_id, body.position)
    return _public(folder)


@router.patch("/{folder_id}", response_model=FolderPublic, responses=NOT_FOUND)
async def update_folder(
    folder_id: str, body: FolderUpdate, signed_in: CurrentUser, services: ServicesDep
) -> FolderPublic:
    """Rename, move (`parent_id`: a top-level folder, or null for the top level) or reorder (`position`)."""
    changes: dict[str, Any] = {n: getattr(body, n) for n in ("name", "position") if getattr(body, n) is not None}
    if "parent_id" in body.model_fields_set:
        changes["parent_id"] = body.parent_id
    return _public(await services.organizer.update_folder(signed_in.user.id, folder_id[:64], **changes))


@router.delete("/{folder_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_folder(folder_id: str, signed_in: CurrentUser, services: ServicesDep) -> Response:
    """Delete the folder. Its conversations are kept, in no folder; the folders inside it move to the top level."""
    await services.organizer.delete_folder(signed_in.user.id, folder_id[:64])
    return Response(status_code=status.HTTP_204_NO_CONTENT)
