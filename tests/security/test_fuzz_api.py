"""Fuzzed and malformed requests over the whole OpenAPI schema always get a 4xx (or a success), never a 5xx.

Schemathesis generates valid and invalid requests for every operation in `/openapi.json` of a live server, sent
with a signed-in administrator's cookie (the first account is the administrator, so the admin routes are reached
too). Afterwards the server still answers, the session still works, and its log holds no traceback.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from testing.live import LiveApp

EXAMPLES = 25  # per operation and mode: the whole fuzz run takes about ten seconds
SKIP = {("POST", "/api/auth/logout")}  # would end the session the rest of the run uses
TRACEBACK = "Traceback (most recent call last)"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, ollama_server) -> Iterator[LiveApp]:
    """This module's own server; fuzzed sign-ins must not throttle the other tests' sign-ins from 127.0.0.1."""
    _, ollama = ollama_server
    env = {
        "OLLAMA_BASE_URL": ollama.url,
        "CHATUI_LOGIN_ATTEMPTS": "100000",
        "CHATUI_MESSAGES_PER_MINUTE": "1000",
        "CHATUI_CONVERSATIONS_PER_MINUTE": "1000",
    }
    app = LiveApp(tmp_path_factory.mktemp("fuzz") / "data", env).start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def admin(live_app: LiveApp) -> Iterator[httpx.Client]:
    """The first account on this module's fresh server: an administrator."""
    with httpx.Client(base_url=live_app.url, timeout=10) as client:
        credentials = {"username": "fuzz-admin", "password": "correct horse battery"}
        assert client.post("/api/auth/register", json=credentials).status_code == 201
        assert client.post("/api/auth/login", json=credentials).status_code == 200
        client.post("/api/conversations", json={"title": "Something to find"})
        yield client


def fuzz(operation, mode: GenerationMode, cookie: str, base_url: str) -> list[str]:
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        response = case.call(base_url=base_url, cookies={"chatui_session": cookie}, timeout=10)
        if response.status_code >= 500:
            failures.append(f"{response.status_code} ← {case.as_curl_command()}")

    with contextlib.suppress(Unsatisfiable):  # nothing in this operation can be made invalid (e.g. no parameters)
        run()
    return failures


@pytest.mark.timeout(360)  # ~3,000 requests: 30 s on a quiet machine, 100 s beside another worker on a busy one
def test_fuzzing_the_openapi_schema_finds_no_server_error(live_app: LiveApp, admin: httpx.Client) -> None:
    schema = schemathesis.openapi.from_url(f"{live_app.url}/openapi.json")
    cookie = admin.cookies["chatui_session"]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"/api/auth/login", "/api/conversations/{conversation_id}"} <= {op.path for op in operations}
    failures: list[str] = []
    try:
        for operation in operations:
            if (operation.method.upper(), operation.path) in SKIP:
                continue
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                failures += fuzz(operation, mode, cookie, live_app.url)
    finally:
        # the fuzzed PUT /api/admin/signup left some mode; the module's other tests sign people up, even after a
        # failure here (else each of them fails too, for no fault of its own)
        assert admin.put("/api/admin/signup", json={"mode": "open"}).status_code == 200
    assert failures == [], "\n".join(failures) + "\n\nserver log:\n" + live_app.log()[-5000:]
    assert admin.get("/api/health").json() == {"status": "ok"}
    assert admin.get("/api/auth/me").status_code == 200
    assert TRACEBACK not in live_app.log()


DEEP = b"[" * 100_000 + b"]" * 100_000
MALFORMED = [
    pytest.param("POST", "/api/auth/login", b'{"username": "a", "password": ', id="truncated-json"),
    pytest.param("POST", "/api/auth/login", b"\xff\xfe\xfd", id="not-utf8"),
    pytest.param("POST", "/api/auth/login", b"", id="empty"),
    pytest.param("POST", "/api/auth/login", b"null", id="null"),
    pytest.param("POST", "/api/auth/login", b'["a", "b"]', id="array"),
    pytest.param("POST", "/api/auth/login", b'{"username": 5, "password": ["x"]}', id="wrong-types"),
    pytest.param("POST", "/api/auth/login", b'{"username": "a", "password": "b", "extra": 1}', id="extra-field"),
    pytest.param("POST", "/api/auth/register", json.dumps({"username": "u" * 900_000, "password": "p" * 8}).encode()),
    pytest.param("POST", "/api/auth/register", b'{"username": "\\ud800x", "password": "longenough"}', id="surrogate"),
    pytest.param("POST", "/api/auth/login", b'{"username": "a", "password": NaN}', id="nan"),
    pytest.param("POST", "/api/conversations", b'{"title": 1e999}', id="infinite-number"),
    pytest.param("POST", "/api/conversations", b'{"title": "\\udfff"}', id="lone-low-surrogate"),
    pytest.param("POST", "/api/conversations", b'{"title": "x", "model": {"$gt": ""}}', id="object-for-string"),
    pytest.param("POST", "/api/conversations", b'{"title": "' + b"t" * 900_000 + b'"}', id="huge-title"),
    pytest.param("POST", "/api/conversations", DEEP, id="deeply-nested-array"),
    pytest.param("POST", "/api/conversations", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, id="deeply-nested-object"),
    pytest.param("PATCH", "/api/conversations/{id}", b'{"title": ""}', id="empty-title"),
    pytest.param("PATCH", "/api/conversations/{id}", b'{"title": true}', id="bool-title"),
    pytest.param("PATCH", "/api/conversations/{id}", b'{"model": "' + b"m" * 5000 + b'"}', id="long-model"),
    pytest.param("POST", "/api/auth/password", b'{"current_password": 1, "new_password": 2}', id="password-types"),
]


@pytest.mark.parametrize(("method", "path", "body"), MALFORMED)
async def test_malformed_bodies_get_a_4xx(live_app: LiveApp, make_account, method: str, path: str, body: bytes):
    alice = await make_account()
    existing = []
    if "{id}" in path:
        path = path.replace("{id}", await alice.new_conversation(title="Target"))
        existing = ["Target"]
    tracebacks = live_app.log().count(TRACEBACK)
    response = await alice.client.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.json()["detail"]  # a readable JSON error, not an HTML crash page
    assert live_app.log().count(TRACEBACK) == tracebacks
    assert (await alice.client.get("/api/health")).status_code == 200
    assert [c["title"] for c in (await alice.client.get("/api/conversations")).json()] == existing  # nothing stored
