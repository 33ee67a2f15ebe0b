"""A patch marks the function it installs, so that installing it again finds it applied; `replace` installs one.

`create_app` runs once per test of NiceGUI's `user` fixture, over the same framework objects, and a patch applied
twice would wrap its own wrapper. The mark is an attribute of the function object: what `mark` writes, `marked`
reads, and the contract tests read it too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def mark(function: F, name: str) -> F:
    """Set the mark `name` on `function` (a function's `__dict__` holds its attributes; the type of a callable
    declares none, hence `vars` rather than an attribute assignment)."""
    vars(function)[name] = True
    return function


def marked(function: object, name: str) -> bool:
    return bool(getattr(function, name, False))


def replace(owner: object, attribute: str, new: Callable[..., Any], name: str) -> None:
    """Put `new`, marked `name`, in place of `owner.attribute`: every patch that swaps a framework's method does it
    here. The attribute must be there already, so a rename upstream fails at once, loudly, rather than adding an
    attribute nothing calls; and a method replaced on its class or app (which type checkers refuse, rightly, in
    ordinary code) is written once, here, not at each patch."""
    if not hasattr(owner, attribute):
        raise AttributeError(f"{owner!r} has no {attribute!r} to patch: the framework changed (see its contract test)")
    setattr(owner, attribute, mark(new, name))
