"""Security headers on every response, a nonce-based Content-Security-Policy on pages, and the app working under it.

The CSP's reasoning is in `chatui.web.csp`; here the live server is asked, and headless Chromium reports every
`securitypolicyviolation` and console error while a user signs in, chats, renames, picks a model and reloads.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from testing.fakes.server import Script
from tests.browser.conftest import create_account_and_sign_in
from tests.security.conftest import Watch

NONCE = re.compile(r"'nonce-([A-Za-z0-9_\-]+)'")


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_security_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    policy = directives(response.headers.get("content-security-policy", "missing"))
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "no-referrer", where
    assert response.headers.get("x-frame-options") == "DENY", where


async def test_every_page_and_api_response_carries_the_security_headers(live_app, make_account) -> None:
    alice = await make_account()
    conversation = await alice.new_conversation(title="Headers")
    anonymous = httpx.AsyncClient(base_url=live_app.url, timeout=10)
    async with anonymous:
        responses = [
            await anonymous.get("/login"),
            await anonymous.get("/"),  # a redirect to /login
            await anonymous.get("/api/health"),
            await anonymous.get("/api/auth/me"),  # 401
            await anonymous.get("/openapi.json"),
            await anonymous.get("/docs"),
            await anonymous.get("/no-such-page"),
            await anonymous.get("/chatui-static/chatui.js"),
            await anonymous.post("/api/auth/login", json={"username": "x"}),  # 422
            await anonymous.post("/api/auth/login", json={}, headers={"Origin": "http://evil.example"}),  # 403
            await anonymous.post("/api/auth/login", content=b"{" + b" " * 1_000_001 + b"}"),  # 413
            await alice.client.get(f"/chat/{conversation}"),
            await alice.client.get("/chat/not-a-conversation"),  # 404 page
            await alice.client.get("/api/conversations"),
            await alice.client.patch(f"/api/conversations/{conversation}", json={"title": "Renamed"}),
        ]
    expected = [200, 303, 200, 401, 200, 200, 404, 200, 422, 403, 413, 200, 404, 200, 200]
    assert [r.status_code for r in responses] == expected
    for response in responses:
        assert_security_headers(response)
    for response in (responses[2], responses[3], responses[4], responses[13]):  # JSON may load and run nothing
        assert directives(response.headers["content-security-policy"])["default-src"] == ["'none'"]


async def test_pages_allow_only_their_own_scripts_with_a_fresh_nonce(live_app, make_account) -> None:
    alice = await make_account()
    conversation = await alice.new_conversation(title="Nonces")
    nonces = []
    for path in ("/login", f"/chat/{conversation}", f"/chat/{conversation}"):
        client = alice.client if path.startswith("/chat") else httpx.AsyncClient(base_url=live_app.url)
        response = await client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        policy = directives(response.headers["content-security-policy"])
        script_src = policy["script-src"]
        assert "'unsafe-inline'" not in script_src and "*" not in script_src
        assert [s for s in script_src if not s.startswith("'nonce-")] == ["'self'", "'unsafe-eval'"]
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
        assert policy["img-src"] == ["'self'", "data:"]  # no remote images
        assert policy["connect-src"] == ["'self'"] and policy["form-action"] == ["'self'"]
        nonce = NONCE.search(" ".join(script_src)).group(1)  # type: ignore[union-attr]
        tags = re.findall(r"<script\b[^>]*>", response.text, flags=re.IGNORECASE)
        assert len(tags) >= 4 and all(f'nonce="{nonce}"' in tag for tag in tags), tags
        nonces.append(nonce)
        if client is not alice.client:
            await client.aclose()
    assert len(set(nonces)) == len(nonces)  # never reused
    assert all(len(n) >= 22 for n in nonces)  # at least 128 bits


async def test_api_docs_are_served_with_a_policy_of_their_own(live_app) -> None:
    """Swagger UI and ReDoc load from jsDelivr (offline they render empty); only they may, and the schema is local."""
    async with httpx.AsyncClient(base_url=live_app.url) as client:
        docs = await client.get("/docs")
        redoc = await client.get("/redoc")
        schema = await client.get("/openapi.json")
        login = await client.get("/login")
    assert docs.status_code == redoc.status_code == schema.status_code == 200
    assert "/api/conversations" in schema.json()["paths"]
    for page in (docs, redoc):
        assert_security_headers(page)
        policy = directives(page.headers["content-security-policy"])
        assert "https://cdn.jsdelivr.net" in policy["script-src"] and "'unsafe-inline'" not in policy["script-src"]
        nonce = NONCE.search(" ".join(policy["script-src"])).group(1)  # type: ignore[union-attr]
        assert all(f'nonce="{nonce}"' in tag for tag in re.findall(r"<script\b[^>]*>", page.text))
    assert "cdn.jsdelivr.net" not in login.headers["content-security-policy"]


@pytest.mark.browser
async def test_the_app_works_under_its_csp_without_a_single_violation(page: Page, live_app, fake_ollama) -> None:
    watch = await Watch.start(page)
    fake_ollama.then(Script(tokens=["Streaming", " under", " a", " strict", " **policy**", "."], delay=0.1))
    await create_account_and_sign_in(page, live_app, "csp-user")

    message = page.get_by_label("Message")
    await message.fill("Does the page still work?")
    await message.press("Enter")
    bubble = page.locator(".assistant-bubble")
    await expect(page.get_by_role("button", name="Stop")).to_be_visible()  # streaming
    await expect(bubble).to_contain_text("Streaming")
    await expect(bubble).to_contain_text("Streaming under a strict policy.")
    await expect(bubble.locator("strong")).to_have_text("policy")
    await expect(page.get_by_role("button", name="Send")).to_be_visible()

    await page.get_by_role("button", name="Conversation menu").click()  # a menu, then a dialog
    await page.get_by_text("Rename", exact=True).click()
    await page.get_by_label("Title").fill("Under CSP")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("header").get_by_text("Under CSP")).to_be_visible()

    await page.get_by_label("Model", exact=True).click()  # a select's popup
    await page.get_by_role("option", name="llama3.2:3b").click()
    await expect(page.get_by_role("option")).to_have_count(0)

    await page.reload()
    await expect(page.locator(".assistant-bubble")).to_contain_text("Streaming under a strict policy.")
    await expect(page.locator(".q-drawer").get_by_text("Under CSP")).to_be_visible()
    # NiceGUI's own socket connected over WebSocket: connect-src 'self' covers ws:// of this origin in Chromium
    await page.wait_for_function("window.socket && window.socket.connected")
    assert await page.evaluate("window.socket.io.engine.transport.name") == "websocket"

    assert watch.csp == []
    assert watch.errors == []
    assert watch.xss == [] and watch.dom == []


@pytest.mark.browser
async def test_the_csp_stops_script_that_got_past_the_sanitizers(page: Page, live_app) -> None:
    """If markdown-it and DOMPurify both failed, the policy still refuses inline handlers, scripts and javascript:."""
    watch = await Watch.start(page)
    await create_account_and_sign_in(page, live_app, "csp-injected")
    blocked = await page.evaluate(
        """() => {
          const violation = () => new Promise((resolve) => document.addEventListener(
            "securitypolicyviolation", (e) => resolve(e.effectiveDirective), { once: true }));
          const steps = [
            () => document.body.insertAdjacentHTML("beforeend", '<img src="/missing.png" onerror="window.__xss=1">'),
            () => document.body.append(Object.assign(document.createElement("script"), {
              textContent: "window.__xss = 2" })),
            () => { const a = document.createElement("a"); a.href = "javascript:window.__xss=3";
                    document.body.append(a); a.click(); },
          ];
          return steps.reduce(async (done, step) => {
            const results = await done;
            const next = violation();
            step();
            return [...results, await next];
          }, Promise.resolve([]));
        }"""
    )
    assert blocked == ["script-src-attr", "script-src-elem", "script-src-elem"]
    assert await page.evaluate("window.__xss") is None
    assert watch.xss == []
