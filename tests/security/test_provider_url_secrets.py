"""A provider base URL with a user name, password or token in it: used, never shown to users or written to logs."""

from __future__ import annotations

import logging

import pytest
from nicegui.testing import User

from testing.fakes.server import free_port

SECRETS = ("alice", "hunter2", "t0ps3cret")


@pytest.fixture
def secret_urls(app_env, monkeypatch: pytest.MonkeyPatch) -> str:
    port = free_port()  # nothing listens: the model list reports the provider as unavailable, naming its URL
    monkeypatch.setenv("OLLAMA_BASE_URL", f"http://alice:hunter2@127.0.0.1:{port}/?token=t0ps3cret")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://alice:hunter2@127.0.0.1:{port}/v1?key=t0ps3cret")
    return f"127.0.0.1:{port}"


async def test_models_list_and_logs_show_provider_urls_without_secrets(
    secret_urls: str, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    credentials = {"username": "reader", "password": "password123"}
    await user.http_client.post("/api/auth/register", json=credentials)
    await user.http_client.post("/api/auth/login", json=credentials)
    response = await user.http_client.get("/api/models?refresh=true")
    assert response.status_code == 200
    errors = [p["error"] for p in response.json()["providers"]]
    assert all(secret_urls in error for error in errors), errors  # the server is named...
    assert not any(secret in response.text for secret in SECRETS)  # ...without what it was given to sign in
    assert not any(secret in caplog.text for secret in SECRETS)
