"""Two chatui processes on two ports, one PostgreSQL database (created and dropped here) and one Redis prefix."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp
from tests.postgres import drop_postgres_database, fresh_postgres_database
from tests.redis_server import drop_redis_prefix, fresh_redis_prefix, redis_url

LEASE_SECONDS = "1"


@contextmanager
def two_instances(
    tmp_path_factory: pytest.TempPathFactory, ollama_url: str, **env: str
) -> Iterator[tuple[LiveApp, LiveApp]]:
    prefix = fresh_redis_prefix()
    database = fresh_postgres_database()
    shared = {
        "OLLAMA_BASE_URL": ollama_url,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url(),
        "CHATUI_REDIS_PREFIX": prefix,
        "CHATUI_LEASE_SECONDS": LEASE_SECONDS,
        "CHATUI_SECRET": secrets.token_urlsafe(32),  # a cookie from one instance is good on the other
        "CHATUI_REGISTRATIONS_PER_HOUR": "1000",
        **env,
    }
    started: list[LiveApp] = []
    try:
        for name in ("a", "b"):
            started.append(LiveApp(tmp_path_factory.mktemp(f"instance-{name}") / "data", shared).start())
        yield started[0], started[1]
    finally:
        for app in started:
            app.stop()
        drop_postgres_database(database)
        drop_redis_prefix(prefix)


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[tuple[LiveApp, LiveApp]]:
    """Instances A and B; 3 messages and 5 new conversations per user per minute, 3 failed sign-ins per window,
    3 sockets per user, shared.

    Passwords cost a real bcrypt check (2^10 rounds, tens of milliseconds): long enough for the checks of a burst to
    overlap, as they do in production. A test may give its requests a client address of their own (X-Forwarded-For,
    believed from 127.0.0.1), so that its failed sign-ins lock out no other test.
    """
    limits = {
        "CHATUI_MESSAGES_PER_MINUTE": "3",
        "CHATUI_CONVERSATIONS_PER_MINUTE": "5",
        "CHATUI_LOGIN_ATTEMPTS": "3",
        "CHATUI_MAX_SOCKETS_PER_USER": "3",
    }
    limits |= {"CHATUI_BCRYPT_ROUNDS": "10", "CHATUI_TRUSTED_PROXIES": "127.0.0.1"}
    # No test of this pair waits for a lease to end (test_instance_killed has its own pair): a 3 s lease, renewed
    # every second, so that a loaded CI machine cannot let one lapse mid-test. A lapsed lease drops that instance's
    # sign-in attempts in progress from the shared count, and a burst of guesses once ran 6 checks instead of 3.
    limits["CHATUI_LEASE_SECONDS"] = "3"
    with two_instances(tmp_path_factory, ollama_server[1].url, **limits) as instances:
        yield instances
