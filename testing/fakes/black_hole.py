"""A loopback server that accepts TCP connections and never answers: a provider that hangs."""

from __future__ import annotations

import socket
import threading


class BlackHole:
    """Accepts on a free 127.0.0.1 port and holds every connection open, silent, until `stop()`."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self._server.settimeout(0.1)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="black hole", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    @property
    def accepted(self) -> int:
        """Connections taken so far (each one a request that will never be answered)."""
        return len(self._held)

    def start(self) -> BlackHole:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self._held:
            connection.close()
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                self._held.append(self._server.accept()[0])
            except TimeoutError:
                continue
