"""The REST edge of the conversation service: its exceptions as HTTP statuses, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from chatui.conversations.service import ConversationError, InvalidInput, NotFound, TooManyConversations
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
    if isinstance(exc, TooManyConversations):  # answered like the message limit
        return _rate_limited(exc.message, exc.retry_after)
    field = exc.field if isinstance(exc, InvalidInput) else None
    body = {"detail": [{"type": "value_error", "loc": ["body", field] if field else ["body"], "msg": exc.message}]}
    return JSONResponse(body, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)


async def _send_refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SendRefused)
    code = _REFUSAL_STATUS.get(exc.reason, status.HTTP_422_UNPROCESSABLE_ENTITY)
    if code == status.HTTP_429_TOO_MANY_REQUESTS and exc.retry_after:
        return _rate_limited(exc.message, exc.retry_after)
    return JSONResponse({"detail": exc.message, "reason": exc.reason.value}, status_code=code)


def _rate_limited(message: str, retry_after: float) -> JSONResponse:
    body = {"detail": message, "reason": Refusal.RATE_LIMITED.value}
    headers = {"Retry-After": str(max(1, round(retry_after)))}
    return JSONResponse(body, status_code=status.HTTP_429_TOO_MANY_REQUESTS, headers=headers)


def install(app: FastAPI) -> None:
    """Answer the service's refusals with their statuses wherever a route lets one through."""
    app.add_exception_handler(ConversationError, _conversation_error)
    app.add_exception_handler(SendRefused, _send_refused)
