"""Single-user mode's host rule (`chatui.web.hosts`): loopback names and addresses only, a port or not."""

from __future__ import annotations

import pytest

from chatui.web.hosts import host_is_loopback


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:8001", "127.0.0.1", "127.0.0.1:8001", "127.4.5.6:80", "[::1]", "[::1]:8001", "::1"]
)
def test_loopback_names_and_addresses_are_served(host: str) -> None:
    assert host_is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example:8001",
        "127.attacker.example",
        "127.0.0.1.attacker.example:8001",
        "localhost.attacker.example",
        "10.0.0.1",
        "[::2]:8001",
        "[::ffff:8.8.8.8]",
        "",
    ],
)
def test_other_names_are_refused(host: str) -> None:
    assert not host_is_loopback(host)
