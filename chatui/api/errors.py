"""The REST edge of the conversation service: its exceptions as HTTP statuses, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from chatui.conversations.service import ConversationError, InvalidInput, NotFound
from chatui.engine.engine import Refusal, SendRefused

_REFUSAL_STATUS = {
    Refusal.BUSY: status.HTTP_409_CONFLICT,
    Refusal.RATE_LIMITED: status.HTTP_429_TOO_MANY_REQUESTS,
    Refusal.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
    Refusal.NOTHING_TO_REGENERATE: status.HTTP_409_CONFLICT,
}


async def _conversation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConversationError)
    if isinstance(exc, NotFound):
        return JSONResponse({"detail": exc.message}, status_code=status.HTTP_404_NOT_FOUND)
    field = exc.field if isinstance(exc, InvalidInput) else None
    body = {"detail": [{"type": "value_error", "loc": ["body", field] if field else ["body"], "msg": exc.message}]}
    return JSONResponse(body, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)


async def _send_refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SendRefused)
    code = _REFUSAL_STATUS.get(exc.reason, status.HTTP_422_UNPROCESSABLE_ENTITY)
    headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after else None
    return JSONResponse({"detail": exc.message, "reason": exc.reason.value}, status_code=code, headers=headers)


def install(app: FastAPI) -> None:
    """Answer the service's refusals with their statuses wherever a route lets one through."""
    app.add_exception_handler(ConversationError, _conversation_error)
    app.add_exception_handler(SendRefused, _send_refused)
