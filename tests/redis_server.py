"""Redis for the tests: the server CI provides at 127.0.0.1:6379, each test under its own key prefix.

`CHATUI_TEST_REDIS_URL` points elsewhere. Where no Redis answers, the tests that need it are skipped — unless
`CHATUI_REQUIRE_REDIS=1` (set by `.ci/run`), where that is a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest
import redis

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    return os.environ.get("CHATUI_TEST_REDIS_URL", DEFAULT_URL)


def fresh_redis_prefix() -> str:
    """A key prefix no other test uses (`drop_redis_prefix` deletes its keys), once Redis is known to answer."""
    try:
        with redis.Redis.from_url(redis_url(), socket_connect_timeout=3) as client:
            client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CHATUI_REQUIRE_REDIS") == "1":
            raise
        pytest.skip(f"no Redis at {redis_url()}: {exc}")
    return f"chatui-test-{uuid.uuid4().hex[:12]}:"


def drop_redis_prefix(prefix: str) -> None:
    with redis.Redis.from_url(redis_url()) as client:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
