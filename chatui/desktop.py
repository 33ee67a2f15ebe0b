"""`chatui --native`: chatui in a window of its own, through NiceGUI's native mode (pywebview, the `desktop` extra).

The window is a browser for one person on this machine, so the desktop app is single-user mode (no sign-in, loopback
only, the Host guard against DNS rebinding), which the launcher sets before the settings are validated.

NiceGUI opens the window in a spawned process and watches it: when the window closes, the server process runs the
app's shutdown handlers (replies being written are checkpointed and stored as `interrupted`, as on Ctrl+C) and
exits. Code after `ui.run` never runs then (`nicegui.core.stop_and_exit` ends with `os._exit`), so the window's size
and position, followed through its `resized`/`moved` events, are written by a shutdown handler too. `reload=False`
is required: with the reloader the window's events would reach the reloader process, never the server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nicegui import app, events

log = logging.getLogger(__name__)

WINDOW_FILE = "window.json"
DEFAULT_SIZE = (1100, 800)
SMALLEST = (360, 400)
LARGEST = 16_384


@dataclass
class Geometry:
    """The window's outer size and, once it has moved, its position on the screen."""

    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    x: int | None = None
    y: int | None = None


def load_geometry(data_dir: Path) -> Geometry:
    """The size and position the window had when it last closed; the default for a first start or a bad file."""
    try:
        saved = json.loads((data_dir / WINDOW_FILE).read_text())
        width, height = int(saved["width"]), int(saved["height"])
        x, y = saved.get("x"), saved.get("y")
        position_ok = isinstance(x, int) and isinstance(y, int) and abs(x) < LARGEST and abs(y) < LARGEST
    except (OSError, ValueError, KeyError, TypeError):
        return Geometry()
    if not (SMALLEST[0] <= width <= LARGEST and SMALLEST[1] <= height <= LARGEST):
        return Geometry()
    return Geometry(width, height, x, y) if position_ok else Geometry(width, height)


def save_geometry(data_dir: Path, geometry: Geometry) -> None:
    """Written whole to a new file, then renamed over the old one: a crash mid-write leaves the old size."""
    path = data_dir / WINDOW_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(geometry)))
    os.replace(temporary, path)


def prepare(data_dir: Path) -> dict[str, Any]:
    """Set up the window (where it last was, and following it from now on); `ui.run`'s native options."""
    geometry = load_geometry(data_dir)
    if geometry.x is not None and geometry.y is not None:
        app.native.window_args.update(x=geometry.x, y=geometry.y)

    def resized(event: events.NativeEventArguments) -> None:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            geometry.width, geometry.height = int(event.args["width"]), int(event.args["height"])

    def moved(event: events.NativeEventArguments) -> None:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            geometry.x, geometry.y = int(event.args["x"]), int(event.args["y"])

    def remember() -> None:
        try:
            save_geometry(data_dir, geometry)
        except OSError as exc:  # a full or read-only disk: the next start opens at the default size
            log.warning("could not remember the window's size: %s", exc)

    app.native.on("resized", resized)
    app.native.on("moved", moved)
    app.on_shutdown(remember)
    return {"native": True, "window_size": (geometry.width, geometry.height)}
