"""`weakly(view.method)`: a page's method handed to one of its components without tying them into a cycle.

A page's view holds its components (the model picker, the sidebar, the message list), and each component calls
back into the view. Handed a bound method, a component holds the view, and view and component form a reference
cycle: once the page closes, nothing but a full garbage collection frees the page, and a full collection then frees
every closed page's objects in one pause of hundreds of milliseconds (BENCHMARKS.md §4). Through a weak reference
the view lives exactly as long as its client holds it (its `on_delete` handler), and goes with it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def weakly(method: Callable[P, R]) -> Callable[P, R]:
    """`method` (a bound method) called through a weak reference to its object."""
    ref, name = weakref.WeakMethod(method), method.__qualname__  # nothing else of `method` kept: it holds the view

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        bound = ref()
        if bound is None:  # only a closed page's component can still call: its page is gone
            raise RuntimeError(f"{name}: its page was closed")
        return bound(*args, **kwargs)

    return call
