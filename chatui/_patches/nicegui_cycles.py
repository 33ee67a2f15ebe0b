"""A closed page is freed by reference counting, at once, rather than by a full garbage collection much later.

Deleting a NiceGUI client (`Client.delete`: the page closed, or its session ended) leaves its objects in reference
cycles that only the cyclic collector can free:
- every element's props, style and classes are observable collections whose change handler is their own bound
  `_update`: three small cycles per element, each holding the element's data;
- a value element (input, select, textarea) keeps its `on_change` callbacks, usually bound methods of the component
  that holds the element (element → handler → component → element);
- the client keeps its `on_delete` / `on_connect` / `on_disconnect` handlers, usually bound methods of the page's
  view, which holds the client (client → handler → view → client), and with it everything the page built.
A page is ~2,500 such objects. By the time it closes they are in the oldest generation, so they wait for a full
collection, which then frees every closed page's objects in one pause: 299-375 ms for 150,000-245,000 objects
after 100 pages closed (BENCHMARKS.md §4). `free_deleted_pages()` clears those lists right after NiceGUI deleted the
client, so nothing of the page is left in a cycle and each object goes when its last reference does.

Why this is safe: a deleted client's outbox is stopped and its elements are marked deleted, so the cleared
handlers had nothing left to do; a late write to a deleted element (a reply that ends after its page closed) still
sets the value, it just no longer asks a dead page to update. Handlers are cleared only after NiceGUI ran them.

What breaks on upgrade: it wraps `Client.delete` and clears the private `_change_handlers` of
`ObservableCollection` and `ValueElement` and the client's `delete_handlers`, `connect_handlers` and
`disconnect_handlers`. Renamed, the clearing would raise `AttributeError` on every page close, so
`tests/test_framework_contract.py` names each of them; `tests/pages/test_page_memory.py` fails if a closed page's
objects are left for the collector again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from nicegui import Client
from nicegui.element import Element

from chatui._patches.marks import marked, replace


def free_deleted_pages() -> None:
    """Wrap `Client.remove_elements` and `Client.delete` (once: `create_app` runs for every test of the `user`
    fixture)."""
    if marked(Client.delete, "frees_cycles"):
        return
    replace(Client, "remove_elements", _elements_then_break_cycles(Client.remove_elements), "frees_cycles")
    replace(Client, "delete", _client_then_break_cycles(Client.delete), "frees_cycles")


def _elements_then_break_cycles(
    remove: Callable[[Client, Iterable[Element]], None],
) -> Callable[[Client, Iterable[Element]], None]:
    @functools.wraps(remove)  # NiceGUI's own stays reachable as `__wrapped__`
    def remove_and_break_cycles(client: Client, elements: Iterable[Element]) -> None:
        elements = list(elements)
        remove(client, elements)
        break_element_cycles(elements)

    return remove_and_break_cycles


def _client_then_break_cycles(delete: Callable[[Client], None]) -> Callable[[Client], None]:
    @functools.wraps(delete)
    def delete_and_break_cycles(client: Client) -> None:
        try:
            delete(client)  # its elements go through `remove_elements` above
        finally:
            client.delete_handlers.clear()
            client.connect_handlers.clear()
            client.disconnect_handlers.clear()

    return delete_and_break_cycles


def break_element_cycles(elements: Iterable[Element]) -> None:
    """Drop the handler lists that tie deleted elements into cycles (see the module)."""
    for element in elements:
        for collection in (element._props, element._style, element._classes):
            collection._change_handlers.clear()
        value_handlers = getattr(element, "_change_handlers", None)  # `ValueElement`
        if isinstance(value_handlers, list):
            value_handlers.clear()
