"""The REST edge of the services: their exceptions as HTTP statuses, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from chatui.accounts.errors import AuthError, AuthRefusal
from chatui.conversations.errors import ConversationError, InvalidInput, NotFound, Refusal, SendRefused
from chatui.transfer.jobs import UploadProblem, UploadRefused

_REFUSAL_STATUS = {
    Refusal.BUSY: status.HTTP_409_CONFLICT,
    Refusal.RATE_LIMITED: status.HTTP_429_TOO_MANY_REQUESTS,
    Refusal.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
    Refusal.NOTHING_TO_REGENERATE: status.HTTP_409_CONFLICT,
}

_AUTH_STATUS = {
    AuthRefusal.INVALID_CREDENTIALS: status.HTTP_401_UNAUTHORIZED,
    AuthRefusal.TOO_MANY_ATTEMPTS: status.HTTP_429_TOO_MANY_REQUESTS,
    AuthRefusal.INVALID_REGISTRATION: status.HTTP_422_UNPROCESSABLE_CONTENT,
    AuthRefusal.NAME_TAKEN: status.HTTP_409_CONFLICT,
    AuthRefusal.WRONG_PASSWORD: status.HTTP_403_FORBIDDEN,
    AuthRefusal.NO_SUCH_USER: status.HTTP_404_NOT_FOUND,
    AuthRefusal.NOT_YOURSELF: status.HTTP_409_CONFLICT,
    AuthRefusal.ADMINS_ONLY: status.HTTP_403_FORBIDDEN,
}

_UPLOAD_STATUS = {
    UploadProblem.NOT_MULTIPART: status.HTTP_400_BAD_REQUEST,
    UploadProblem.MALFORMED: status.HTTP_400_BAD_REQUEST,
    UploadProblem.NO_FILE: status.HTTP_400_BAD_REQUEST,
}


def _retry_after(seconds: float | None) -> dict[str, str] | None:
    return {"Retry-After": str(max(1, round(seconds)))} if seconds else None


async def _conversation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConversationError)
    if isinstance(exc, SendRefused):
        code = _REFUSAL_STATUS.get(exc.reason, status.HTTP_422_UNPROCESSABLE_CONTENT)
        body = {"detail": exc.message, "reason": exc.reason.value}
        return JSONResponse(body, status_code=code, headers=_retry_after(exc.retry_after))
    if isinstance(exc, NotFound):
        return JSONResponse({"detail": exc.message}, status_code=status.HTTP_404_NOT_FOUND)
    field = exc.field if isinstance(exc, InvalidInput) else None
    body = {"detail": [{"type": "value_error", "loc": ["body", field] if field else ["body"], "msg": exc.message}]}
    return JSONResponse(body, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _auth_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
    return JSONResponse({"detail": exc.message}, status_code=_AUTH_STATUS[exc.reason], headers=headers)


async def _upload_refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UploadRefused)
    return JSONResponse({"detail": exc.message}, status_code=_UPLOAD_STATUS[exc.reason])


def install(app: FastAPI) -> None:
    """Answer the services' refusals with their statuses wherever a route lets one through."""
    app.add_exception_handler(ConversationError, _conversation_error)
    app.add_exception_handler(AuthError, _auth_error)
    app.add_exception_handler(UploadRefused, _upload_refused)
