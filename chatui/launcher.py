"""The `chatui` command, also `python -m chatui` and, in a checkout, `python main.py`: one way to start, three names.

    chatui [--host 127.0.0.1] [--port 8001] [--data-dir DIR] [--no-browser] [--single-user]
    chatui --native                                          (a window of its own: the `desktop` extra)
    chatui --version
    chatui backup|restore|migrate-db|reset-password ...     (data operations: `chatui backup --help`)

A data command is decided before NiceGUI is imported (seconds that it does not need); so is `--version`.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from chatui.config import Settings


NATIVE_MISSING = (
    "--native needs the desktop extra: pip install 'chatui[desktop]' (pywebview; on Debian/Ubuntu also "
    "apt-get install python3-gi python3-gi-cairo gir1.2-gtk-3.0 gir1.2-webkit2-4.1)"
)


def version() -> str:
    """The installed distribution's version (a checkout is installed editable, so it has one too)."""
    try:
        return metadata.version("chatui")
    except metadata.PackageNotFoundError:  # run from a folder that was never installed
        return "unknown (not installed)"


def parse_args(argv: list[str]) -> dict[str, Any]:
    """The server's flags as `Settings` overrides: only those given, so the environment and `.env` fill the rest."""
    parser = argparse.ArgumentParser(prog="chatui", description=__doc__, allow_abbrev=False)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--version", action="version", version=f"chatui {version()}")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1; CHATUI_HOST)")
    parser.add_argument("--port", type=int, help="port (default 8001; CHATUI_PORT)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder for the database and secret (default: data in a checkout, else the user's data folder, "
        "~/.local/share/chatui on Linux; CHATUI_DATA_DIR)",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    parser.add_argument("--single-user", action="store_true", help="no sign-in: one local account (loopback only)")
    parser.add_argument(
        "--native", action="store_true", help="open in a window of its own, single-user (pip install 'chatui[desktop]')"
    )
    args = parser.parse_args(argv)
    flags = ("no_browser", "native")
    overrides: dict[str, Any] = {k: v for k, v in vars(args).items() if v is not None and k not in flags}
    if args.no_browser or args.native:
        overrides["open_browser"] = False
    if args.native:  # the window is one person's, on this machine
        overrides["single_user"] = True
    elif not args.single_user:
        overrides.pop("single_user")
    return overrides


def main(argv: list[str] | None = None) -> int:
    """Start the server (returns when it stops), or run a data command; the exit status.

    Under NiceGUI's `user` test fixture (which runs `main.py` once per test) the command line is pytest's, so it is
    ignored, and `ui.run` returns at once after the app is built.
    """
    simulated = os.environ.get("NICEGUI_USER_SIMULATION") == "true"
    argv = [] if simulated else (sys.argv[1:] if argv is None else argv)
    env_file = os.environ.get("CHATUI_ENV_FILE", ".env") or None
    from chatui.cli import COMMANDS

    if argv[:1] and argv[0] in COMMANDS:
        from chatui import cli

        return cli.run(argv, env_file)
    overrides = parse_args(argv)
    if not simulated:
        # No cycle collection while the app is imported and built: ~430 collections walked its ~200,000 new objects
        # again and again for ~0.2 s of every start (BENCHMARKS.md §12); `create_app`'s start hook freezes what was
        # built and turns collection back on before the first request.
        gc.disable()
    native = "--native" in argv
    if native and importlib.util.find_spec("webview") is None:
        sys.exit(f"chatui: {NATIVE_MISSING}")

    from pydantic import ValidationError

    from chatui.config import Settings, StartupRefused
    from storage.lock import DatabaseInUse

    try:
        settings = Settings.load(env_file, **overrides)
    except ValidationError as error:
        sys.exit("chatui: " + "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors()))
    first_start = not settings.data_dir.exists()

    # Before `chatui.app`: the patches import NiceGUI first, without the Redis and HTTP clients it never uses here.
    import chatui._patches  # noqa: F401
    from chatui.app import create_app

    try:
        create_app(settings)
    except (StartupRefused, DatabaseInUse) as refusal:
        sys.exit(f"chatui: {refusal}")
    if first_start and not simulated:
        print(
            f"chatui: your conversations and settings are kept in {settings.data_dir.resolve()} "
            "(a new folder; --data-dir or CHATUI_DATA_DIR puts them elsewhere)",
            flush=True,
        )
    window: dict[str, Any] = {}
    if native:
        from chatui import desktop

        window = desktop.prepare(settings.data_dir)
        # A free port unless one was asked for: the window needs no fixed address, and 8001 may be a server's.
        explicit_port = "port" in overrides or "CHATUI_PORT" in os.environ
        window["port"] = settings.port if explicit_port else None
    serve(settings, simulated, window)
    return 0


GZIP_LEVEL = 5
"""zlib's level for HTTP responses (Starlette's default is 9: 2.8 times the CPU for 3 % less)."""


def gzip_middleware(app: ASGIApp) -> ASGIApp:
    """NiceGUI's GZip middleware (Starlette's, for responses of 500 bytes and more) at `GZIP_LEVEL`."""
    from starlette.middleware.gzip import GZipMiddleware

    return GZipMiddleware(app, minimum_size=500, compresslevel=GZIP_LEVEL)


def serve(settings: Settings, simulated: bool, window: dict[str, Any]) -> None:
    """`ui.run` with chatui's server options (blocks until the server stops; at once under the `user` fixture).

    `window`: the native window's options (`chatui.desktop.prepare`), empty for a server.
    """
    from nicegui import ui

    from chatui._patches import header_timeout_protocol

    options: dict[str, Any] = {"port": settings.port, **window}
    ui.run(
        host=settings.host,
        title="chatui",
        show=settings.open_browser,
        reload=False,
        fastapi_docs=True,
        show_welcome_message=not simulated,
        favicon="💬",
        # Compressing every small token frame costs more CPU than the bytes it saves on a LAN or loopback.
        ws_per_message_deflate=False,
        # HTTP responses compressed at level 5, not Starlette's 9: a chat page's 48 KB of HTML in 0.42 ms of the event
        # loop instead of 1.17, 3 % larger (BENCHMARKS.md §26); 50 pages opened at once held the loop ~37 ms longer.
        gzip_middleware_factory=gzip_middleware,
        # uvicorn reads no WebSocket message larger than this (close 1009), whichever protocol serves the socket.
        ws_max_size=settings.ws_max_bytes,
        # A connection gets this long to finish its request line and headers (uvicorn has no such timeout).
        http=header_timeout_protocol(settings.header_timeout),
        **settings.proxy_options(),
        **options,
    )
