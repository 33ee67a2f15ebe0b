"""Administration: accounts (create, approve or reject, promote or demote, disable, reset a password, delete),
invitation links and the sign-up mode. Administrators only (403 for others); the rules (never demote or delete
yourself, ...) are the account service's, its refusals mapped in `chatui.api.errors`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from chatui.accounts.signup import SignupMode, invite_url
from chatui.api.deps import AdminUser, ServicesDep
from chatui.api.schemas import AdminUserCreate, AdminUserUpdate, InvitePublic, SignupSetting, UserAdminView
from storage import User
from storage.models import utcnow

router = APIRouter(prefix="/api/admin", tags=["admin"])


def _view(user: User) -> UserAdminView:
    state = "pending" if not user.is_approved else "disabled" if user.is_disabled else "active"
    return UserAdminView(
        id=user.id,
        username=user.username,
        is_admin=user.is_admin,
        is_disabled=user.is_disabled,
        approved=user.is_approved,
        state=state,
        created_at=user.created_at,
    )


@router.get("/users", response_model=list[UserAdminView])
async def list_users(admin: AdminUser, services: ServicesDep) -> list[UserAdminView]:
    """Every account with its state: `pending` (waiting for approval), `disabled` or `active`."""
    return [_view(u) for u in await services.accounts.list_users(by=admin.user)]


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserAdminView,
    responses={409: {"description": "Name taken"}},
)
async def create_user(body: AdminUserCreate, admin: AdminUser, services: ServicesDep) -> UserAdminView:
    """An account that works at once, whatever the sign-up mode."""
    user = await services.accounts.create_user(body.username, body.password, is_admin=body.is_admin, by=admin.user)
    return _view(user)


@router.patch("/users/{user_id}", response_model=UserAdminView, responses={404: {"description": "No such user"}})
async def update_user(user_id: str, body: AdminUserUpdate, admin: AdminUser, services: ServicesDep) -> UserAdminView:
    """Approve or withdraw approval (`approved`), promote or demote (`is_admin`), disable or enable (`disabled`:
    every session of the account ends at once), or set a new password."""
    accounts = services.accounts
    await accounts.user(user_id, by=admin.user)
    if body.approved is not None:
        await accounts.set_approved(user_id, body.approved, by=admin.user)
    if body.is_admin is not None:
        await accounts.set_admin(user_id, body.is_admin, by=admin.user)
    if body.disabled is not None:
        await accounts.set_disabled(user_id, body.disabled, by=admin.user)
    if body.password is not None:
        await accounts.reset_password(user_id, body.password, by=admin.user)
    return _view(await accounts.user(user_id, by=admin.user))


@router.delete(
    "/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"description": "No such user"}}
)
async def delete_user(user_id: str, admin: AdminUser, services: ServicesDep) -> Response:
    """The account and everything it owns (conversations, messages, sessions) go; its open pages close."""
    await services.accounts.delete_user(user_id, by=admin.user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/invites", status_code=status.HTTP_201_CREATED, response_model=InvitePublic)
async def create_invite(request: Request, admin: AdminUser, services: ServicesDep) -> InvitePublic:
    """A sign-up link that works once, in any sign-up mode, until `expires_at` (`CHATUI_INVITE_DAYS`)."""
    token = await services.signup.invite(by=admin.user)
    return InvitePublic(
        url=invite_url(str(request.base_url), token), expires_at=utcnow() + services.signup.invite_lifetime
    )


@router.get("/signup", response_model=SignupSetting)
async def signup_mode(admin: AdminUser, services: ServicesDep) -> SignupSetting:
    return SignupSetting(mode=(await services.signup.mode()).value)


@router.put("/signup", response_model=SignupSetting)
async def set_signup_mode(body: SignupSetting, admin: AdminUser, services: ServicesDep) -> SignupSetting:
    """Who may sign up from now on, on every instance: `open`, `approval` or `closed`."""
    await services.signup.set_mode(SignupMode(body.mode), by=admin.user)
    return SignupSetting(mode=(await services.signup.mode()).value)
