"""`deploy/nginx-chatui.conf` as shipped (ports and certificate paths aside), in front of two instances on loopback:
TLS, both WebSocket paths upgraded, the Secure cookie, and X-Forwarded-For that a client cannot forge."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from testing.fakes.server import Script, free_port
from testing.live import ROOT, LiveApp
from testing.waiting import until_sync
from tests.cluster.conftest import two_instances

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")
SITE = ROOT / "deploy" / "nginx-chatui.conf"


def configure(folder: Path, upstreams: list[int], http_port: int, https_port: int) -> Path:
    """The shipped site with loopback ports and a self-signed certificate, in a main config of its own."""
    certificate = ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")]
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            *certificate,
        ],
        check=True,
        capture_output=True,
    )
    site = SITE.read_text()
    for old, new in (
        ("server 127.0.0.1:8001;", f"server 127.0.0.1:{upstreams[0]};"),
        ("server 127.0.0.1:8002;", f"server 127.0.0.1:{upstreams[1]};"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("/etc/ssl/chatui/fullchain.pem", str(folder / "cert.pem")),
        ("/etc/ssl/chatui/privkey.pem", str(folder / "key.pem")),
    ):
        assert old in site, old
        site = site.replace(old, new)
    (folder / "site.conf").write_text(site)
    (folder / "tmp").mkdir()
    temp = " ".join(
        f"{kind}_temp_path {folder / 'tmp'};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\nevents {{}}\n"
        f"http {{ access_log off; {temp} include {folder / 'site.conf'}; }}\n"
    )
    return main


@pytest.fixture(scope="module")
def proxied(tmp_path_factory, ollama_server) -> Iterator[tuple[str, LiveApp, LiveApp]]:
    env = {"CHATUI_TRUSTED_PROXIES": "127.0.0.1", "CHATUI_SECURE_COOKIES": "true", "CHATUI_LOGIN_ATTEMPTS": "3"}
    with two_instances(tmp_path_factory, ollama_server[1].url, **env) as (a, b):
        folder = tmp_path_factory.mktemp("nginx")
        https_port = free_port()
        main = configure(folder, [a.port, b.port], free_port(), https_port)
        nginx = subprocess.Popen([NGINX, "-c", str(main), "-p", str(folder), "-g", "daemon off;"])
        url = f"https://127.0.0.1:{https_port}"

        def answering() -> bool:
            if nginx.poll() is not None:
                raise RuntimeError((folder / "error.log").read_text())
            try:
                return httpx.get(f"{url}/api/health", verify=False, timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        try:
            try:
                until_sync(answering, within=15, what="nginx answering on its HTTPS port")
            except AssertionError as late:
                raise RuntimeError((folder / "error.log").read_text()) from late
            yield url, a, b
        finally:
            nginx.terminate()
            nginx.wait(10)


def insecure() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def test_the_shipped_config_loads(tmp_path):
    main = configure(tmp_path, [8001, 8002], free_port(), free_port())
    result = subprocess.run([NGINX, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


async def test_a_reply_streams_over_wss_through_nginx_with_a_secure_cookie(proxied, fake_ollama):
    url, _, _ = proxied
    async with httpx.AsyncClient(base_url=url, verify=False, timeout=10) as client:
        credentials = {"username": "behind-nginx", "password": "password123"}
        assert (await client.post("/api/auth/register", json=credentials)).status_code == 201
        login = await client.post("/api/auth/login", json=credentials)
        assert login.status_code == 200 and "secure" in login.headers["set-cookie"].lower()
        conversation = (await client.post("/api/conversations", json={})).json()["id"]
        cookie = client.cookies["chatui_session"]
    fake_ollama.then(Script(tokens=["through ", "the ", "proxy"]))
    headers = {"Cookie": f"chatui_session={cookie}", "Origin": url}  # as a browser on this page sends them
    async with connect(f"wss{url[5:]}/ws/{conversation}", additional_headers=headers, ssl=insecure()) as ws:
        await ws.send(json.dumps({"type": "message", "content": "hello"}))
        frames = []
        async with asyncio.timeout(20):
            while not frames or frames[-1]["type"] != "done":
                frames.append(json.loads(await ws.recv()))
    assert [f["token"] for f in frames if f["type"] == "token"] == ["through ", "the ", "proxy"]


async def test_the_pages_socket_upgrades_through_nginx(proxied):
    url, _, _ = proxied
    socket_io = f"wss{url[5:]}/_nicegui_ws/socket.io/?EIO=4&transport=websocket"
    async with connect(socket_io, ssl=insecure()) as ws, asyncio.timeout(10):
        opened = await ws.recv()
    assert isinstance(opened, str) and opened.startswith("0{") and '"sid"' in opened  # engine.io's open packet


async def test_a_forged_x_forwarded_for_does_not_escape_the_sign_in_limit(proxied):
    url, _, _ = proxied
    async with httpx.AsyncClient(base_url=url, verify=False, timeout=10) as client:
        wrong = {"username": "nobody-here", "password": "wrong password"}
        codes = [
            (
                await client.post("/api/auth/login", json=wrong, headers={"X-Forwarded-For": f"203.0.113.{i}"})
            ).status_code
            for i in range(4)
        ]
    assert codes == [401, 401, 401, 429]  # all counted against the real address, nginx's $remote_addr
