"""Requests another site makes a signed-in browser send are refused and change nothing; oversized bodies get 413.

A browser marks a cross-site request with a foreign `Origin` (or `Origin: null` from a sandboxed frame, a `data:`
page or a redirect chain) and with `Sec-Fetch-Site: cross-site`. The victim's cookie is sent along in these tests
on purpose — as it would be with a SameSite=Lax or None cookie, or from a same-site sibling — so the refusal, not
SameSite, is what is tested. Programs that send no Origin (curl, the example client) keep working.
"""

from __future__ import annotations

import httpx
import pytest

FOREIGN = [
    pytest.param({"Origin": "http://evil.example"}, id="foreign-origin"),
    pytest.param({"Origin": "null"}, id="null-origin"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="sec-fetch-site-cross-site"),
    pytest.param({"Origin": "http://evil.example", "Sec-Fetch-Site": "same-site"}, id="same-site-sibling"),
    pytest.param({"Origin": "http://127.0.0.1:1"}, id="other-port"),
]


def same_origin(live_app) -> dict[str, str]:
    return {"Origin": live_app.url, "Sec-Fetch-Site": "same-origin"}


@pytest.mark.parametrize("marks", FOREIGN)
async def test_cross_site_writes_are_refused_and_change_nothing(live_app, make_account, marks) -> None:
    alice = await make_account()
    conversation = await alice.new_conversation(title="Mine")
    before = (await alice.client.get("/api/conversations")).json()

    attempts = [
        await alice.client.delete(f"/api/conversations/{conversation}", headers=marks),
        await alice.client.patch(f"/api/conversations/{conversation}", json={"title": "Pwned"}, headers=marks),
        await alice.client.post("/api/conversations", json={"title": "Planted"}, headers=marks),
        await alice.client.post(
            "/api/auth/password",
            json={"current_password": alice.password, "new_password": "attacker-chosen"},
            headers=marks,
        ),
        await alice.client.post("/api/auth/logout", headers=marks),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert all(r.json() == {"detail": "Cross-site requests are not allowed."} for r in attempts)

    assert (await alice.client.get("/api/conversations")).json() == before  # still there, same title, nothing new
    assert (await alice.client.get("/api/auth/me")).status_code == 200  # still signed in
    async with httpx.AsyncClient(base_url=live_app.url) as fresh:  # the password did not change
        login = await fresh.post("/api/auth/login", json={"username": alice.username, "password": alice.password})
        assert login.status_code == 200


@pytest.mark.parametrize("marks", FOREIGN)
async def test_cross_site_sign_up_and_sign_in_set_nothing(live_app, make_account, marks) -> None:
    victim = await make_account()
    async with httpx.AsyncClient(base_url=live_app.url) as browser:
        created = await browser.post(
            "/api/auth/register",
            json={"username": "planted-" + victim.username, "password": "attacker pass"},
            headers=marks,
        )
        signed_in = await browser.post(
            "/api/auth/login", json={"username": victim.username, "password": victim.password}, headers=marks
        )
        assert created.status_code == signed_in.status_code == 403
        assert "set-cookie" not in signed_in.headers and "chatui_session" not in browser.cookies
        assert (await browser.get("/api/auth/me")).status_code == 401
        planted = await browser.post(
            "/api/auth/login", json={"username": "planted-" + victim.username, "password": "attacker pass"}
        )
        assert planted.status_code == 401  # the account was never created


async def test_another_site_cannot_complete_a_sign_in(live_app, make_account) -> None:
    """`/auth/complete?ticket=` is a GET: refused when another site navigates to it."""
    alice = await make_account()
    for marks in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
        complete = await alice.client.get("/auth/complete", params={"ticket": "x" * 43}, headers=marks)
        assert complete.status_code == 403
        assert "set-cookie" not in complete.headers
    assert (await alice.client.get("/api/auth/me")).status_code == 200
    # from the app itself (or typed into the address bar) it answers as before
    bad_ticket = await alice.client.get("/auth/complete", params={"ticket": "x"}, headers={"Sec-Fetch-Site": "none"})
    assert bad_ticket.status_code == 303 and bad_ticket.headers["location"] == "/login?expired=1"


async def test_a_link_to_the_old_sign_out_address_signs_nobody_out(live_app, make_account) -> None:
    """`[x](/auth/signed-out)` in a chat message used to sign the reader out: no GET signs out any more."""
    alice = await make_account()
    for marks in ({"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {}):
        clicked = await alice.client.get("/auth/signed-out", headers=marks)
        assert "chatui_session" not in clicked.headers.get("set-cookie", "")
    assert (await alice.client.get("/api/auth/me")).status_code == 200


async def test_same_origin_and_origin_less_requests_work(live_app, make_account) -> None:
    alice = await make_account()
    with_origin = await alice.client.post(
        "/api/conversations", json={"title": "Browser"}, headers=same_origin(live_app)
    )
    without = await alice.client.post("/api/conversations", json={"title": "Script"})
    assert with_origin.status_code == without.status_code == 201
    renamed = await alice.client.patch(
        f"/api/conversations/{with_origin.json()['id']}", json={"title": "Renamed"}, headers=same_origin(live_app)
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"
    deleted = await alice.client.delete(f"/api/conversations/{without.json()['id']}", headers=same_origin(live_app))
    assert deleted.status_code == 204
    titles = [c["title"] for c in (await alice.client.get("/api/conversations")).json()]
    assert titles == ["Renamed"]
    # reading is never refused: a cross-site GET carries no SameSite=Strict cookie, and reads change nothing
    assert (await alice.client.get("/api/conversations", headers={"Sec-Fetch-Site": "cross-site"})).status_code == 200


async def test_oversized_bodies_are_refused_with_413_and_store_nothing(live_app, make_account) -> None:
    alice = await make_account()
    huge = {"title": "x" * 1_000_001}
    declared = await alice.client.post("/api/conversations", json=huge)

    async def chunks():  # no Content-Length: the limit is enforced while reading
        yield b'{"title": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    streamed = await alice.client.post(
        "/api/conversations", content=chunks(), headers={"Content-Type": "application/json"}
    )
    form = await alice.client.post("/api/auth/login", content=chunks(), headers={"Content-Type": "text/plain"})
    assert declared.status_code == streamed.status_code == form.status_code == 413
    assert (await alice.client.get("/api/conversations")).json() == []
    assert (await alice.client.get("/api/health")).status_code == 200
