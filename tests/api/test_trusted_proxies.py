"""`X-Forwarded-For` is believed only from `CHATUI_TRUSTED_PROXIES` (none by default), on a live server: otherwise
anyone could choose the address the sign-in limits count against, one fresh address per guess."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from chatui.config import Settings
from testing.live import LiveApp


def start(tmp_path_factory: pytest.TempPathFactory, ollama_url: str, **env: str) -> Iterator[LiveApp]:
    data_dir = tmp_path_factory.mktemp("proxies") / "data"
    app = LiveApp(data_dir, {"OLLAMA_BASE_URL": ollama_url, "CHATUI_LOGIN_ATTEMPTS": "3", **env}).start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def no_proxy_app(tmp_path_factory, ollama_server) -> Iterator[LiveApp]:
    yield from start(tmp_path_factory, ollama_server[1].url)


@pytest.fixture(scope="module")
def proxied_app(tmp_path_factory, ollama_server) -> Iterator[LiveApp]:
    yield from start(tmp_path_factory, ollama_server[1].url, CHATUI_TRUSTED_PROXIES="127.0.0.1")


async def wrong_sign_ins(app: LiveApp, forwarded_for: list[str]) -> list[int]:
    """One wrong sign-in (each for another name) per forged address, all from 127.0.0.1 — a local proxy's address."""
    codes = []
    async with httpx.AsyncClient(base_url=app.url) as client:
        for n, address in enumerate(forwarded_for):
            answer = await client.post(
                "/api/auth/login",
                json={"username": f"nobody{n}", "password": "whatever12"},
                headers={"X-Forwarded-For": address},
            )
            codes.append(answer.status_code)
    return codes


async def test_forged_forwarded_for_from_loopback_does_not_change_the_throttled_address(no_proxy_app: LiveApp):
    codes = await wrong_sign_ins(no_proxy_app, [f"203.0.113.{n}" for n in range(6)])
    assert codes == [401, 401, 401, 429, 429, 429]  # every guess counted against 127.0.0.1, whatever it claimed


async def test_a_trusted_proxy_forwards_each_client_address(proxied_app: LiveApp):
    codes = await wrong_sign_ins(proxied_app, [f"203.0.113.{n}" for n in range(6)])
    assert codes == [401] * 6  # six different clients behind the proxy, one guess each
    codes = await wrong_sign_ins(proxied_app, ["198.51.100.7"] * 4)
    assert codes == [401, 401, 401, 429]  # one client behind the proxy is limited as itself


def test_trusted_proxies_must_be_addresses_or_networks():
    assert Settings(_env_file=None, trusted_proxies=" 10.0.0.5, 172.18.0.0/16 ").proxy_options() == {  # type: ignore[call-arg]
        "proxy_headers": True,
        "forwarded_allow_ips": "10.0.0.5,172.18.0.0/16",
    }
    assert Settings(_env_file=None).proxy_options() == {"proxy_headers": False}  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="CHATUI_TRUSTED_PROXIES must list IP addresses"):
        Settings(_env_file=None, trusted_proxies="proxy.example")  # type: ignore[call-arg]
