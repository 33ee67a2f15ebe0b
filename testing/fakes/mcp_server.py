"""A real MCP server written with the `mcp` SDK, for the tests and the benchmark: stdio or streamable HTTP.

    python -m testing.fakes.mcp_server stdio
    python -m testing.fakes.mcp_server http PORT

Its tools: `add` (two numbers), `echo`, `sleep` (seconds, for timeouts and Stop), `shout` (a long text, for the
output cap), `fail` (a tool error), `whoami` (the `Authorization` header it was sent, HTTP only) and `env` (an
environment variable of its own process, stdio only). Run as its own process, so that the app's client and this
server share nothing but the wire.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mcp.server.mcpserver import Context, MCPServer

from testing.fakes.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def build() -> MCPServer:
    server = MCPServer("fake-tools", log_level="WARNING")

    @server.tool(description="Add two numbers.")
    def add(a: float, b: float) -> str:
        total = a + b
        return str(int(total) if total == int(total) else total)

    @server.tool(description="Say the text back.")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Wait, then say how long.")
    async def sleep(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return f"slept {seconds}"

    @server.tool(description="A long text.")
    def shout(times: int) -> str:
        return "A" * times

    @server.tool(description="Always fails.")
    def fail(reason: str) -> str:
        raise ValueError(reason)

    @server.tool(description="The Authorization header of the request.")
    def whoami(ctx: Context) -> str:
        headers = ctx.headers
        return str(headers.get("authorization", "")) if headers is not None else ""

    @server.tool(description="An environment variable of this process.")
    def env(name: str) -> str:
        return os.environ.get(name, "")

    return server


@dataclass
class HttpMcpServer:
    """`python -m testing.fakes.mcp_server http PORT` in a process of its own, on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    @classmethod
    def start(cls, port: int | None = None) -> HttpMcpServer:
        port = port or free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "testing.fakes.mcp_server", "http", str(port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = cls(process, port)
        started.wait_listening()
        return started

    def wait_listening(self, seconds: float = 20.0) -> None:
        import socket

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the MCP server exited")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("the MCP server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def stdio_config(name: str = "local", **extra: object) -> dict[str, object]:
    """A `CHATUI_MCP_SERVERS` entry that runs this server over stdio."""
    return {
        "name": name,
        "command": sys.executable,
        "args": ["-m", "testing.fakes.mcp_server", "stdio"],
        "env": {"PYTHONPATH": str(ROOT)},
        **extra,
    }


def main(argv: list[str]) -> None:
    server = build()
    if argv[:1] == ["http"]:
        server.run("streamable-http", host="127.0.0.1", port=int(argv[1]))
    else:
        server.run("stdio")


if __name__ == "__main__":
    main(sys.argv[1:])
