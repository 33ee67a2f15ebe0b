"""NiceGUI and httpx imported without the optional clients and message queues a chatui server never uses.

What it changes: python-socketio's package `__init__` imports every class it has, so a server's start loads `redis`
(its Redis managers; + opentelemetry through redis) and `requests` + urllib3 (engine.io's synchronous client);
NiceGUI's storage imports `redis` for a Redis-backed `app.storage` that only `NICEGUI_REDIS_URL` turns on; httpx
imports `rich` for its command-line client where the test extra installed it: ~200 modules, ~0.1 s of CPU and
~10 MB that nothing of chatui's serving uses (BENCHMARKS.md §12). `import_nicegui_lean()` imports NiceGUI and httpx
once with those packages refused. Each module that imports them already expects them to be missing (`try: import
redis / except ImportError: redis = None`, NiceGUI's `optional_features`, httpx's `main`): those managers, those
clients and that storage are then defined but unusable, exactly as in an install without the packages. `redis` is
not refused when `NICEGUI_REDIS_URL` is set. The refusal lasts only while these two are imported; afterwards `import
redis` (chatui's Redis coordination, `limits`' Redis storage) gets the real package as usual.

Called first thing by `chatui._patches` (which the launcher imports before `chatui.app`); a no-op when NiceGUI is
already loaded (under the test fixture NiceGUI's pytest plugin loaded it).

What breaks on an upgrade: a module that imports one of `REFUSED` without expecting it missing makes the lean import
fail; NiceGUI is then imported again plainly (start-up as before, nothing broken) and
`tests/chatui/test_lean_imports.py` fails by name.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

REFUSED = frozenset(
    {"redis", "valkey", "aioredis", "requests", "websocket", "kombu", "kafka", "aio_pika", "zmq", "rich"}
)
"""Top-level packages that only socketio's managers and synchronous client, NiceGUI's Redis storage and httpx's
command-line client (`httpx._main`: `rich`, where the test extra installed it) import."""
IMPORTED = ("nicegui", "socketio", "engineio", "httpx")


class _Refuse(MetaPathFinder):
    """An import of a refused package fails as if it were not installed."""

    def __init__(self, refused: frozenset[str]) -> None:
        self.refused = refused

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] in self.refused:
            raise ImportError(f"{fullname} is not loaded with NiceGUI (chatui._patches.lean_imports)", name=fullname)
        return None


def import_nicegui_lean() -> bool:
    """Import NiceGUI (with socketio) and httpx without `REFUSED`; whether that happened (False: plainly, or before)."""
    if any(name in sys.modules for name in IMPORTED):
        return False
    refused = REFUSED - {"redis"} if os.environ.get("NICEGUI_REDIS_URL") else REFUSED
    finder = _Refuse(refused)
    sys.meta_path.insert(0, finder)
    try:
        importlib.import_module("nicegui")
        importlib.import_module("httpx")
        return True
    except ImportError:
        for name in [n for n in sys.modules if n.partition(".")[0] in IMPORTED]:
            del sys.modules[name]
    finally:
        sys.meta_path.remove(finder)
    importlib.import_module("nicegui")
    importlib.import_module("httpx")
    return False
