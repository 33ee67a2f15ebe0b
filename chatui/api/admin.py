"""Administration: list accounts, disable/enable them, reset passwords. Administrators only (403 for others)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from chatui.accounts.auth import AuthError
from chatui.api.deps import AdminUser, ServicesDep
from chatui.api.schemas import AdminUserUpdate, UserAdminView
from storage import User

router = APIRouter(prefix="/api/admin", tags=["admin"])


def _view(user: User) -> UserAdminView:
    return UserAdminView.model_validate(user, from_attributes=True)


@router.get("/users", response_model=list[UserAdminView])
async def list_users(_: AdminUser, services: ServicesDep) -> list[UserAdminView]:
    return [_view(u) for u in await services.accounts.list_users()]


@router.patch("/users/{user_id}", response_model=UserAdminView, responses={404: {"description": "No such user"}})
async def update_user(user_id: str, body: AdminUserUpdate, admin: AdminUser, services: ServicesDep) -> UserAdminView:
    """Disable (every session of the account ends at once) or enable an account, or set a new password."""
    user = await services.accounts.user_by_id(user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "User not found.")
    if body.disabled is not None:
        if user.id == admin.user.id and body.disabled:
            raise HTTPException(status.HTTP_409_CONFLICT, "You cannot disable your own account.")
        await services.auth.set_disabled(user.id, body.disabled)
    if body.password is not None:
        try:
            await services.auth.change_password(user.id, body.password)
        except AuthError as exc:
            raise HTTPException(exc.status, exc.message) from None
    updated = await services.accounts.user_by_id(user_id)
    assert updated is not None
    return _view(updated)
