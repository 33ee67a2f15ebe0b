"""Administration: list accounts, disable/enable them, reset passwords. Administrators only (403 for others); the
rules (never disable yourself) are the account service's, its refusals mapped in `chatui.api.errors`."""

from __future__ import annotations

from fastapi import APIRouter

from chatui.api.deps import AdminUser, ServicesDep
from chatui.api.schemas import AdminUserUpdate, UserAdminView
from storage import User

router = APIRouter(prefix="/api/admin", tags=["admin"])


def _view(user: User) -> UserAdminView:
    return UserAdminView.model_validate(user, from_attributes=True)


@router.get("/users", response_model=list[UserAdminView])
async def list_users(admin: AdminUser, services: ServicesDep) -> list[UserAdminView]:
    return [_view(u) for u in await services.accounts.list_users(by=admin.user)]


@router.patch("/users/{user_id}", response_model=UserAdminView, responses={404: {"description": "No such user"}})
async def update_user(user_id: str, body: AdminUserUpdate, admin: AdminUser, services: ServicesDep) -> UserAdminView:
    """Disable (every session of the account ends at once) or enable an account, or set a new password."""
    accounts = services.accounts
    await accounts.user(user_id, by=admin.user)
    if body.disabled is not None:
        await accounts.set_disabled(user_id, body.disabled, by=admin.user)
    if body.password is not None:
        await accounts.reset_password(user_id, body.password, by=admin.user)
    return _view(await accounts.user(user_id, by=admin.user))
