"""The collector's promise (`chatui/bootstrap/collector.py`): a full collection walks only what is new since the one
before, because its survivors are frozen; a frozen object is still freed by reference counting when its last
reference goes; a frozen cycle waits for `complete()`. Run in a fresh interpreter: the test process's own collector
state (frozen at collection, `tests/conftest.py`) stays as it is."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from testing.live import ROOT

SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, json, weakref
    from chatui.bootstrap.collector import Collector

    class Node:
        def __init__(self, parent=None):
            self.parent, self.children = parent, []

    def page():
        return [{"id": i, "props": {"text": str(i)}, "classes": ["a", "b"]} for i in range(2000)]

    def walked():
        return len(gc.get_objects())  # generations 0-2: what a full collection walks (not the frozen ones)

    async def main():
        collector = Collector(complete_every=3600)
        collector.start()
        out = {"walked_at_start": walked(), "frozen_at_start": gc.get_freeze_count()}
        pages = [page() for _ in range(20)]
        gc.collect()  # a full collection, as the thresholds start one: its survivors are frozen after it
        out["walked_after_full"] = walked()
        out["frozen_with_pages"] = gc.get_freeze_count()
        del pages  # no cycles: reference counting frees them, frozen or not
        out["frozen_after_close"] = gc.get_freeze_count()
        parent = Node()
        parent.children.append(Node(parent))  # a cycle, frozen while alive
        ref = weakref.ref(parent)
        gc.collect()
        del parent
        gc.collect()
        out["cycle_after_full"] = ref() is not None
        collector.complete()
        out["cycle_after_complete"] = ref() is not None
        out["walked_after_complete"] = walked()
        collector.stop()
        out["callback_left"] = collector._after_collection in gc.callbacks
        print(json.dumps(out))

    asyncio.run(main())
    """
)


def test_full_collections_walk_only_the_new_and_frozen_objects_are_still_freed() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    # Each page: 2,000 items of 2 tracked containers (a dict of ints and strings is not tracked). Full collections
    # ran on their own while the pages were built, and froze what they had built so far.
    assert out["frozen_with_pages"] - out["frozen_at_start"] > 20 * 2000 * 2, out
    assert out["walked_after_full"] < 1000, out  # the pages, alive, frozen: the next full collection skips them
    assert out["frozen_after_close"] - out["frozen_at_start"] < 1000, out  # freed though frozen
    assert out["cycle_after_full"] is True  # frozen, so no full collection can free it: why `complete()` runs
    assert out["cycle_after_complete"] is False
    assert out["walked_after_complete"] < 1000 and out["callback_left"] is False
