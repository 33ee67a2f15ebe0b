"""The chat page: the view (`view`), the rows of actions under its messages (`rows`), its conversation menu (`menu`)."""

from chatui.ui.chat.view import ChatView

__all__ = ["ChatView"]
