"""Sign-up, sign-in and sign-out over HTTP — for the JSON API, and the cookie hand-off the UI's sign-in ends with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from chatui.accounts.auth import COOKIE_NAME
from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import Credentials, PasswordChange, Registration, SignedUp, UserPublic
from chatui.config import Settings
from chatui.web.client import client_ip
from chatui.web.next_path import safe_next
from chatui.web.sign_in_binding import BINDING_COOKIE

router = APIRouter(tags=["auth"])


def set_session_cookie(response: Response, token: str, request: Request, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(settings.session_max_days * 86400),
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies or request.url.scheme == "https",
    )


def clear_session_cookie(response: Response, request: Request, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies or request.url.scheme == "https",
    )


@router.post(
    "/api/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=SignedUp,
    responses={
        403: {"description": "Sign-up closed, or the invitation was used or expired"},
        409: {"description": "Name taken"},
        429: {"description": "Too many sign-ups from this address"},
    },
)
async def register(body: Registration, request: Request, services: ServicesDep) -> SignedUp:
    """Create an account (the first one becomes the administrator). Does not sign in. Limited per address.

    Under `CHATUI_SIGNUP=approval` the account waits for an administrator (`approved` false; signing in answers
    403 until then); under `closed` only the first account or one with an `invite` is created."""
    user = await services.signup.register(body.username, body.password, client_ip(request), body.invite)
    return SignedUp(id=user.id, username=user.username, approved=user.is_approved)


@router.post(
    "/api/auth/login",
    response_model=UserPublic,
    responses={401: {"description": "Wrong username or password"}, 429: {"description": "Too many attempts"}},
)
async def login(body: Credentials, request: Request, services: ServicesDep) -> JSONResponse:
    """Sign in: sets the `chatui_session` cookie (HttpOnly, SameSite=Strict). The token is never in the body."""
    user = await services.auth.authenticate(body.username, body.password, client_ip(request))
    token = await services.auth.start_session(user)
    response = JSONResponse(UserPublic(id=user.id, username=user.username).model_dump())
    set_session_cookie(response, token, request, services.settings)
    return response


@router.post("/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, services: ServicesDep) -> Response:
    """Revoke this session on the server and clear the cookie."""
    await services.auth.sign_out(request.cookies.get(COOKIE_NAME))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, request, services.settings)
    return response


@router.get("/api/auth/me", response_model=UserPublic)
async def me(signed_in: CurrentUser) -> UserPublic:
    return UserPublic(id=signed_in.user.id, username=signed_in.user.username)


@router.post(
    "/api/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": "Current password wrong"}, 429: {"description": "Too many wrong passwords"}},
)
async def change_password(
    body: PasswordChange, signed_in: CurrentUser, request: Request, services: ServicesDep
) -> Response:
    """Change the password; every session of the account ends, this one included. Wrong guesses are limited."""
    await services.auth.change_own_password(
        signed_in.user.id, body.current_password, body.new_password, client_ip(request)
    )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, request, services.settings)
    return response


@router.get("/auth/complete", include_in_schema=False)
async def complete_sign_in(
    ticket: str, request: Request, services: ServicesDep, then: Annotated[str | None, Query(alias="next")] = None
) -> RedirectResponse:
    """Where the UI's sign-in lands: swaps the one-time ticket for the session cookie — in the browser it was issued
    to only (its sign-in cookie, `chatui.web.sign_in_binding`), so a ticket in a link signs nobody else in."""
    binding = request.cookies.get(BINDING_COOKIE)
    token = await services.auth.redeem_ticket(ticket, binding) if len(ticket) <= 100 else None
    if token is None:
        return RedirectResponse("/login?expired=1", status_code=status.HTTP_303_SEE_OTHER)
    response = RedirectResponse(safe_next(then) or "/", status_code=status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, token, request, services.settings)
    return response
