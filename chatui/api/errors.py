"""The REST edge of the services: their exceptions as HTTP statuses, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from chatui.accounts.errors import AuthError, AuthRefusal
from chatui.conversations.errors import ConversationError, InvalidInput, NotFound, ReadOnly, Refusal, SendRefused
from chatui.files.errors import FileProblem, FileRefused
from chatui.transfer.jobs import ImportBusy
from chatui.transfer.upload import UploadProblem, UploadRefused

_REFUSAL_STATUS = {
    Refusal.BUSY: status.HTTP_409_CONFLICT,
    Refusal.RATE_LIMITED: status.HTTP_429_TOO_MANY_REQUESTS,
    Refusal.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
    Refusal.NOTHING_TO_REGENERATE: status.HTTP_409_CONFLICT,
    Refusal.NOTHING_TO_CONTINUE: status.HTTP_409_CONFLICT,
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
    AuthRefusal.PENDING: status.HTTP_403_FORBIDDEN,
    AuthRefusal.NOT_PENDING: status.HTTP_409_CONFLICT,
    AuthRefusal.SIGNUP_CLOSED: status.HTTP_403_FORBIDDEN,
    AuthRefusal.BAD_INVITE: status.HTTP_403_FORBIDDEN,
}

_UPLOAD_STATUS = {
    UploadProblem.NOT_MULTIPART: status.HTTP_400_BAD_REQUEST,
    UploadProblem.MALFORMED: status.HTTP_400_BAD_REQUEST,
    UploadProblem.NO_FILE: status.HTTP_400_BAD_REQUEST,
    UploadProblem.NOT_AN_EXPORT: status.HTTP_400_BAD_REQUEST,
}

_FILE_STATUS = {
    FileProblem.NOT_MULTIPART: status.HTTP_400_BAD_REQUEST,
    FileProblem.MALFORMED: status.HTTP_400_BAD_REQUEST,
    FileProblem.NO_FILE: status.HTTP_400_BAD_REQUEST,
    FileProblem.TOO_LARGE: status.HTTP_413_CONTENT_TOO_LARGE,
    FileProblem.QUOTA: status.HTTP_413_CONTENT_TOO_LARGE,
    FileProblem.UNSUPPORTED: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    FileProblem.TOO_MANY_PIXELS: status.HTTP_422_UNPROCESSABLE_CONTENT,
    FileProblem.TOO_MANY_PAGES: status.HTTP_422_UNPROCESSABLE_CONTENT,
    FileProblem.UNREADABLE: status.HTTP_422_UNPROCESSABLE_CONTENT,
    FileProblem.TOO_MANY_FILES: status.HTTP_422_UNPROCESSABLE_CONTENT,
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
    if isinstance(exc, ReadOnly):
        return JSONResponse({"detail": exc.message}, status_code=status.HTTP_403_FORBIDDEN)
    field = exc.field if isinstance(exc, InvalidInput) else None
    body = {"detail": [{"type": "value_error", "loc": ["body", field] if field else ["body"], "msg": exc.message}]}
    return JSONResponse(body, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _auth_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
    return JSONResponse({"detail": exc.message}, status_code=_AUTH_STATUS[exc.reason], headers=headers)


async def _upload_refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UploadRefused)
    return JSONResponse({"detail": exc.message, "reason": exc.reason.value}, status_code=_UPLOAD_STATUS[exc.reason])


async def _file_refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FileRefused)
    return JSONResponse({"detail": exc.message, "reason": exc.reason.value}, status_code=_FILE_STATUS[exc.reason])


async def _import_busy(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ImportBusy)
    return JSONResponse({"detail": exc.message, "reason": "import_running"}, status_code=status.HTTP_409_CONFLICT)


def install(app: FastAPI) -> None:
    """Answer the services' refusals with their statuses wherever a route lets one through."""
    app.add_exception_handler(ConversationError, _conversation_error)
    app.add_exception_handler(AuthError, _auth_error)
    app.add_exception_handler(UploadRefused, _upload_refused)
    app.add_exception_handler(FileRefused, _file_refused)
    app.add_exception_handler(ImportBusy, _import_busy)
