"""The private names of NiceGUI, uvicorn, FastAPI/Starlette and socket.io that `chatui._patches` touches: one test
per patch, so an upgrade that renames or reshapes one fails a test named after the patch, instead of silently
disabling a guard or a speed-up. (What each patch does, and why, is in its module's docstring.)"""

from __future__ import annotations

import asyncio
import inspect
from contextlib import asynccontextmanager
from typing import Any

import nicegui.nicegui  # noqa: F401 (registers NiceGUI's socket.io handlers)
import pytest
import uvicorn
from engineio import async_server, async_socket, base_socket
from engineio.async_drivers import asgi
from fastapi import APIRouter, FastAPI
from httpx._client import AsyncClient, BoundAsyncStream
from nicegui import App, Client, core, middlewares, server, ui, ui_run
from nicegui.app.app_config import AppConfig
from nicegui.functions.navigate import navigate
from nicegui.outbox import Outbox
from nicegui.page import page
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from chatui._patches import (
    engineio_cycles,
    httpx_cycles,
    nicegui_cycles,
    nicegui_middleware,
    socketio_guard,
    staggered_deletes,
)


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(subclasses(sub) for sub in found)) if found else found


@pytest.fixture
async def client() -> Any:
    """A NiceGUI client of a page that is never served (its outbox loop waits for a socket that never comes)."""
    built = Client(page("/framework-contract"))
    yield built
    built.delete()


def test_nicegui_middleware_swaps_exactly_niceguis_base_http_middlewares() -> None:
    niceguis = {cls for cls in subclasses(BaseHTTPMiddleware) if cls.__module__.startswith("nicegui")}
    # NiceGUI's storage adds its own only with `ui.run(storage_secret=...)`, which chatui does not pass.
    assert {cls.__qualname__ for cls in niceguis - set(nicegui_middleware.REPLACEMENTS)} == {
        "RequestTrackingMiddleware"
    }, "NiceGUI has a BaseHTTPMiddleware that chatui does not replace"
    assert set(nicegui_middleware.REPLACEMENTS) == {
        middlewares.RedirectWithPrefixMiddleware,
        middlewares.SetCacheControlMiddleware,
    }
    assert ui_run.RedirectWithPrefixMiddleware is middlewares.RedirectWithPrefixMiddleware  # what `ui.run` adds
    assert ui_run.SetCacheControlMiddleware is middlewares.SetCacheControlMiddleware
    assert parameters(Starlette.build_middleware_stack) == ["self"]
    assert isinstance(Starlette().user_middleware, list)
    layer = Middleware(middlewares.SetCacheControlMiddleware, 1, key=2)
    assert (layer.cls, layer.args, layer.kwargs) == (middlewares.SetCacheControlMiddleware, (1,), {"key": 2})
    assert "cache_control_directives" in parameters(AppConfig.add_run_config)  # kept on `core.app.config`
    assert "self.cache_control_directives = cache_control_directives" in inspect.getsource(AppConfig.add_run_config)


async def test_nicegui_outbox_loop_and_the_private_names_it_reads(client: Client) -> None:
    loop = inspect.unwrap(Outbox.loop)  # NiceGUI's own, whether or not chatui's wait is installed
    assert inspect.iscoroutinefunction(loop) and parameters(loop) == ["self"]
    assert client.outbox._should_stop is False
    client.outbox.stop()
    assert client.outbox._should_stop is True
    assert client.outbox.client is client
    assert isinstance(client._connected, asyncio.Event) and not client._connected.is_set()
    assert client.has_socket_connection is False


def test_nicegui_outbox_stop_at_shutdown_runs_before_niceguis_task_teardown() -> None:
    """`stop_outboxes_at_shutdown` registers its handler in `create_app`; NiceGUI must add its teardown of the
    pages' tasks later, in `App.start()`, and run the handlers in order, so that the loops end themselves first."""
    assert "self.on_shutdown(background_tasks.teardown)" in inspect.getsource(App.start)
    assert "for handler in self._shutdown_handlers" in inspect.getsource(App.stop)
    assert "self._should_stop = True" in inspect.getsource(Outbox.stop)
    assert "while not self._should_stop" in inspect.getsource(inspect.unwrap(Outbox.loop))


async def test_outbox_progress_a_navigation_is_one_queued_message_sent_by_emit(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui, "navigate", navigate)  # NiceGUI's own: a page test's simulated user may be left there
    outbox = client.outbox
    assert len(outbox.messages) == 0
    with client:
        ui.navigate.to("/login")
    assert len(outbox.messages) == 1  # what `delete_after` waits for: a navigation is ONE message...
    loop = inspect.getsource(inspect.unwrap(Outbox.loop))
    assert "coros.append(self._emit(message))" in loop  # ...which the loop sends, as it is, through `_emit`
    assert parameters(Outbox._emit) == ["self", "message"]


async def test_nicegui_cycles_clears_the_handler_lists_that_hold_a_deleted_page(client: Client) -> None:
    assert parameters(inspect.unwrap(Client.remove_elements)) == ["self", "elements"]
    assert parameters(inspect.unwrap(Client.delete)) == ["self"]
    with client:
        label = ui.label("text")
        box = ui.input(on_change=lambda: None)
    for element in (label, box):  # each collection's own `_update` is its change handler: a cycle per collection
        for collection in (element._props, element._style, element._classes):
            assert [handler for handler, _ in collection._change_handlers] == [collection._update]
    assert len(box._change_handlers) == 1
    lifecycle = (client.delete_handlers, client.connect_handlers, client.disconnect_handlers)
    assert all(isinstance(handlers, list) for handlers in lifecycle)
    nicegui_cycles.free_deleted_pages()
    client.remove_elements([label, box])
    assert not box._change_handlers and not any(c._change_handlers for c in (label._props, box._style, box._classes))
    other = Client(page("/framework-contract-deleted"))
    other.on_delete(lambda: None)
    other.delete()
    assert other.delete_handlers == [] and other.is_deleted


def test_staggered_deletes_answers_the_task_that_niceguis_disconnect_names_and_that_asks_the_page() -> None:
    disconnect = inspect.getsource(Client.handle_disconnect)
    assert "await asyncio.sleep(self.page.resolve_reconnect_timeout())" in disconnect
    assert f"name=f'{staggered_deletes.DELETE_TASK} {{document_id}}'" in disconnect
    assert parameters(inspect.unwrap(page.resolve_reconnect_timeout)) == ["self"]


async def test_engineio_cycles_read_loop_ends_on_none_and_the_names_the_patch_reads() -> None:
    handler = inspect.getsource(async_socket.AsyncSocket._websocket_handler)
    assert "data = await ws.wait()" in handler
    assert "if p is None:" in handler and "self.upgrading = True" in handler  # None ends the loop, like a close
    assert "self.upgrading = False" in inspect.getsource(base_socket.BaseSocket.__init__)
    assert "self._async['translate_request']" in inspect.getsource(async_server.AsyncServer.handle_request)
    assert asgi._async["translate_request"] in (asgi.translate_request, engineio_cycles._translate_request)
    own = inspect.getsource(engineio_cycles.ENGINEIOS_WAIT)
    assert "event = await self.asgi_receive()" in own and "raise OSError()" in own

    class Socket:
        upgrading = False

        async def _websocket_handler(self, ws: Any) -> None: ...

    ws = asgi.WebSocket(Socket()._websocket_handler, None)
    events = iter(
        [
            {"type": "websocket.receive", "text": "4probe"},
            {"type": "websocket.receive", "bytes": b"\x04", "text": None},
            {"type": "websocket.disconnect", "code": 1001},
        ]
    )

    async def receive() -> Any:
        return next(events)

    ws.asgi_receive = receive
    assert await engineio_cycles._wait(ws) == "4probe"
    assert await engineio_cycles._wait(ws) == b"\x04"
    assert await engineio_cycles._wait(ws) is None  # engine.io's own would raise OSError here
    ws.handler.__self__.upgrading = True
    ws.asgi_receive = lambda: asyncio.sleep(0, {"type": "websocket.disconnect", "code": 1001})
    with pytest.raises(OSError):  # what the upgrade path catches
        await engineio_cycles._wait(ws)


@pytest.mark.parametrize(
    ("scope", "events"),
    [
        (
            {
                "type": "websocket",
                "path": "/_nicegui_ws/socket.io/",
                "query_string": b"client_id=abc&EIO=4&transport=websocket",
                "headers": [
                    (b"host", b"127.0.0.1:8080"),
                    (b"cookie", b"a=1"),
                    (b"cookie", b"b=2"),
                    (b"x-forwarded-proto", b"https"),
                    (b"x-bad", b"\xff\xfe"),
                    (b"origin", b"http://127.0.0.1:8080"),
                ],
            },
            [{"type": "websocket.connect"}],
        ),
        (
            {
                "type": "http",
                "method": "POST",
                "path": "/socket.io/",
                "query_string": b"\xff",
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"11")],
            },
            [
                {"type": "http.request", "body": b"hello", "more_body": True},
                {"type": "http.request", "body": b" world", "more_body": False},
            ],
        ),
        ({"type": "http", "path": "/socket.io/", "headers": []}, [{"type": "http.disconnect"}]),
    ],
)
async def test_engineio_cycles_translate_request_builds_engineios_own_environ(
    scope: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    async def run(translate: Any, length: int | None) -> tuple[dict[str, Any], Any]:
        pending = iter(events)

        async def receive() -> Any:
            return next(pending)

        environ = await translate(scope, receive, None)
        body = environ.pop("wsgi.input", None)
        environ.pop("asgi.receive", None)
        read = await body.read(length) if body is not None and events[0]["type"] == "http.request" else None
        return environ, read

    for length in (None, 5):
        assert await run(engineio_cycles._translate_request, length) == await run(asgi.translate_request, length)


def test_httpx_cycles_bound_stream_keeps_the_response_as_response_and_reads_it_only_to_close() -> None:
    own = inspect.unwrap(BoundAsyncStream.aclose)
    assert parameters(own) == ["self"]
    assert "self._response = response" in inspect.getsource(BoundAsyncStream.__init__)
    assert "self._response.elapsed" in inspect.getsource(own)
    assert [line for line in inspect.getsource(BoundAsyncStream).splitlines() if "self._response" in line] == [
        "        self._response = response",
        "        self._response.elapsed = datetime.timedelta(seconds=elapsed)",
    ]  # nothing else reads it: dropping it after the close loses nothing
    assert "response.stream = BoundAsyncStream(" in inspect.getsource(AsyncClient._send_single_request)
    httpx_cycles.release_closed_responses()
    assert getattr(BoundAsyncStream.aclose, "releases_response", False)


def test_socketio_guard_knows_every_niceguis_socketio_handler() -> None:
    assert set(core.sio.handlers) == {"/"}
    assert set(core.sio.handlers["/"]) == set(socketio_guard.HANDLERS), (
        "NiceGUI's socket.io handlers changed: a new one would run without the page guard (chatui._patches"
        ".socketio_guard.HANDLERS)"
    )
    for name in ("event", "javascript_response", "ack"):  # called as NiceGUI's `(sid, msg)` once the check passed
        assert len(parameters(inspect.unwrap(core.sio.handlers["/"][name]))) == 2, name
    assert parameters(core.sio.rooms)[:1] == ["sid"]


def test_socketio_guard_wraps_the_handlers_that_take_a_client_id() -> None:
    socketio_guard.install()
    handlers = core.sio.handlers["/"]
    guarded = {name for name, handler in handlers.items() if getattr(handler, "chatui_guarded", False)}
    assert guarded == {name for name, rule in socketio_guard.HANDLERS.items() if not rule.startswith("NiceGUI's")}


def test_page_options_are_per_load_attributes_that_niceguis_renderer_reads() -> None:
    route = page("/framework-contract-options")
    assert {"dark", "viewport", "language"} <= set(vars(route))
    route.dark, route.viewport, route.language = True, "width=320", "en-US"
    assert (route.resolve_dark(), route.resolve_viewport(), route.resolve_language()) == (True, "width=320", "en-US")
    assert not hasattr(type(route), "__slots__")
    rendered = inspect.getsource(Client.build_response)
    assert "self.page.resolve_dark()" in rendered and "self.page.resolve_viewport()" in rendered
    assert "self.page.resolve_language()" in inspect.getsource(Client)


def test_uvicorn_ws_protocol_class_is_on_the_config_and_read_per_connection() -> None:
    config = uvicorn.Config(app=FastAPI(), ws="wsproto")
    config.load()
    assert config.ws_protocol_class is not None
    assert "self.ws_protocol_class = config.ws_protocol_class" in inspect.getsource(HttpToolsProtocol.__init__)
    assert "instance" in server.Server.__annotations__ and callable(server.Server.create_singleton)
    assert WebSocketsSansIOProtocol.__module__ == "uvicorn.protocols.websockets.websockets_sansio_impl"


def test_uvicorn_http_hooks_of_httptools_protocol() -> None:
    assert parameters(HttpToolsProtocol.__init__)[:3] == ["self", "config", "server_state"]
    assert parameters(HttpToolsProtocol.connection_made) == ["self", "transport"]
    assert parameters(HttpToolsProtocol.on_message_begin) == ["self"]
    assert parameters(HttpToolsProtocol.on_headers_complete) == ["self"]
    assert parameters(HttpToolsProtocol.connection_lost) == ["self", "exc"]
    source = inspect.getsource(HttpToolsProtocol)
    for attribute in ("self.loop =", "self.transport =", "self.client ="):
        assert attribute in source, attribute


async def test_fastapi_lifespan_context_nests_at_include_router_and_is_read_by_the_router() -> None:
    app = FastAPI()
    own = app.router.lifespan_context
    app.include_router(APIRouter())
    assert app.router.lifespan_context is not own  # FastAPI nests: the reason for `include_routers`

    entered: list[str] = []

    @asynccontextmanager
    async def lifespan(_: Any) -> Any:
        entered.append("ours")
        yield

    app.router.lifespan_context = lifespan
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> Any:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "state": {}}, receive, send)
    assert entered == ["ours"]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
