"""chatui: a self-hosted LLM chat app. The public surface is `create_app(settings)` and `Settings`.

Everything else is internal and grouped by reason to change (see README, "Code layout"): `conversations` (the
domain), `engine` (replies), `accounts`, `coordination` (one instance or several), `web` (the ASGI edge), `api`
(REST and `/ws`), `ui` (NiceGUI pages), `transfer` (export/import), `_patches` (framework internals we change).
The two names load lazily: `import chatui.cli` must not pay for NiceGUI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatui.app import create_app
    from chatui.config import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from chatui.app import create_app

        return create_app
    if name == "Settings":
        from chatui.config import Settings

        return Settings
    raise AttributeError(f"module 'chatui' has no attribute {name!r}")
