"""Start chatui: `python main.py [--host 127.0.0.1] [--port 8001] [--data-dir data] [--no-browser]`.

Data operations: `python main.py backup|restore|migrate-db|reset-password ...` (`python main.py backup --help`).
"""

from __future__ import annotations

import os
import sys

from chatui.cli import COMMANDS

simulated = os.environ.get("NICEGUI_USER_SIMULATION") == "true"
env_file = os.environ.get("CHATUI_ENV_FILE", ".env") or None
if __name__ == "__main__" and not simulated and sys.argv[1:2] and sys.argv[1] in COMMANDS:
    # A data command: decided before NiceGUI is imported, which costs seconds and is not needed.
    from chatui import cli

    sys.exit(cli.run(sys.argv[1:], env_file))

import argparse  # noqa: E402 (the imports of the server, after the commands)
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from nicegui import ui  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from chatui._patches import header_timeout_protocol  # noqa: E402
from chatui.app import create_app  # noqa: E402
from chatui.config import Settings, StartupRefused  # noqa: E402
from storage.lock import DatabaseInUse  # noqa: E402


def parse_args(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="chatui", description=__doc__, allow_abbrev=False)
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1; CHATUI_HOST)")
    parser.add_argument("--port", type=int, help="port (default 8001; CHATUI_PORT)")
    parser.add_argument(
        "--data-dir", type=Path, help="folder for the database and secret (default data; CHATUI_DATA_DIR)"
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    parser.add_argument("--single-user", action="store_true", help="no sign-in: one local account (loopback only)")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {k: v for k, v in vars(args).items() if v is not None and k != "no_browser"}
    if args.no_browser:
        overrides["open_browser"] = False
    if not args.single_user:
        overrides.pop("single_user")
    return overrides


try:
    settings = Settings(_env_file=env_file, **parse_args([] if simulated else sys.argv[1:]))  # type: ignore[call-arg]
except ValidationError as error:
    sys.exit("chatui: " + "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors()))
try:
    services = create_app(settings)
except (StartupRefused, DatabaseInUse) as refusal:
    sys.exit(f"chatui: {refusal}")

if __name__ in {"__main__", "__mp_main__"}:
    ui.run(
        host=settings.host,
        port=settings.port,
        title="chatui",
        show=settings.open_browser,
        reload=False,
        fastapi_docs=True,
        show_welcome_message=not simulated,
        favicon="💬",
        # Compressing every small token frame costs more CPU than the bytes it saves on a LAN or loopback.
        ws_per_message_deflate=False,
        # uvicorn reads no WebSocket message larger than this (close 1009), whichever protocol serves the socket.
        ws_max_size=settings.ws_max_bytes,
        # A connection gets this long to finish its request line and headers (uvicorn has no such timeout).
        http=header_timeout_protocol(settings.header_timeout),
        **settings.proxy_options(),
    )
