"""Serve WebSockets with uvicorn's `websockets-sansio` protocol rather than the `wsproto` one NiceGUI asks for.

Why: `/ws` sends one frame per token, and building a frame is most of what a token costs the server after reading it
from the provider. wsproto builds each frame in Python (6.5 µs a frame on the benchmark machine); the `websockets`
package's sans-I/O protocol takes 1.7 µs. On a 5,000-token reply the server's CPU per token went from 38 to 30-32 µs
(`python -m bench.long_reply`). NiceGUI's own socket (socket.io) rides on the same protocol.

`ui.run()` pins `ws="wsproto"` only to stay off websockets' deprecated legacy implementation
(zauberzeug/nicegui#5256), which `websockets-sansio` does not use, and offers no way to choose. uvicorn's HTTP
protocol reads `config.ws_protocol_class` for each new connection, so setting it at start-up, before the first
connection, switches every WebSocket. Should a later uvicorn stop reading it there, sockets would keep working on
wsproto: `tests/api/test_uvicorn_websockets.py` tells the two apart on the wire and fails, and start-up logs an error
when the attribute is gone. `tests/test_framework_contract.py` checks `Config.ws_protocol_class`, that
`HttpToolsProtocol` reads it per connection, and NiceGUI's `Server.instance`.
"""

from __future__ import annotations

import logging

from nicegui import server
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger(__name__)


def use_websockets_sansio() -> None:
    """Switch the running uvicorn server to `websockets-sansio` (a no-op without one, as under the test `user`)."""
    instance = getattr(server.Server, "instance", None)
    if instance is None:
        return
    if not hasattr(instance.config, "ws_protocol_class"):
        log.error("uvicorn's config has no ws_protocol_class any more: WebSockets stay on %s", instance.config.ws)
        return
    instance.config.ws_protocol_class = WebSocketsSansIOProtocol
    log.debug("WebSockets served by %s", WebSocketsSansIOProtocol.__name__)
