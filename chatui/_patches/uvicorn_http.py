"""A header-read timeout for uvicorn: a connection must finish its request line and headers within N seconds.

uvicorn (0.54) has none. Its keep-alive timer starts only after a response, and is cancelled by the first byte of the
next request, so a client that connects and says nothing, or sends half a request and then one byte now and then,
holds its connection (a socket, a protocol object, buffers) forever; the outside attack of issue 11 held 8,000 such
half-sent requests for a minute. A reverse proxy with its own header timeout is the usual answer; this closes the gap
for a chatui reached directly.

`header_timeout_protocol()` makes a subclass of uvicorn's httptools protocol (what `http="auto"` picks when
httptools is installed, as with `uvicorn[standard]`) that arms a timer when a connection opens and when a request
begins (httptools' `on_message_begin`, at its first byte), and cancels it when the headers are complete
(`on_headers_complete`, also reached before a WebSocket upgrade). When it fires the connection is closed without an
answer. The request body and WebSocket traffic are not timed by it.

What breaks on upgrade: renamed hooks (`connection_made`, `on_message_begin`, `on_headers_complete`,
`connection_lost`) or attributes (`loop`, `transport`, `client`) would leave the timer never armed or never cancelled,
silently: `tests/test_framework_contract.py` checks each name, `tests/api/test_header_timeout.py` the behaviour on
the wire. A uvicorn that picks another HTTP protocol for `http="auto"` is unaffected: chatui passes this class.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    # BaseProtocol declares a BaseTransport; uvicorn's own override narrows it the same way, with the same ignore
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's own
        super().connection_made(transport)
        self._arm_header_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        log.debug("closing %s: no complete request headers within %g s", self.client, self.header_timeout)
        self.transport.close()


def header_timeout_protocol(seconds: float) -> type[HeaderTimeoutProtocol]:
    """uvicorn's HTTP protocol class (`ui.run(http=...)`) with a header-read timeout of `seconds`."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": seconds})
