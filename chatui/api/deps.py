"""FastAPI dependencies: the app's services and the signed-in user, resolved from the session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from chatui.accounts.auth import COOKIE_NAME
from chatui.bootstrap import Services
from storage import SignedIn


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services  # set by create_app; Starlette's state is untyped
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_user(request: Request, services: ServicesDep) -> SignedIn:
    signed_in = await services.auth.resolve(request.cookies.get(COOKIE_NAME))
    if signed_in is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not signed in.")
    return signed_in


CurrentUser = Annotated[SignedIn, Depends(current_user)]


async def admin_user(signed_in: CurrentUser) -> SignedIn:
    if not signed_in.user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Administrators only.")
    return signed_in


AdminUser = Annotated[SignedIn, Depends(admin_user)]
