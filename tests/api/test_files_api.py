"""POST /api/files and GET /api/files/{id} against a live server: types found from the bytes, every limit refused
with its status and reason and nothing stored, files served to their owner only and never as a page."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Iterator

import pytest

from testing import attachments
from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app

MB = 1024 * 1024


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    yield from module_app(
        tmp_path_factory,
        ollama_server[1].url,
        "files",
        CHATUI_UPLOAD_MAX_MB="1",
        CHATUI_FILES_QUOTA_MB="3",
        CHATUI_IMAGE_MAX_PIXELS="1000000",
        CHATUI_PDF_MAX_PAGES="3",
    )


async def upload(account, name: str, content: bytes, declared: str = "application/octet-stream"):
    return await account.client.post("/api/files", files={"file": (name, content, declared)})


def stored_counts(app: LiveApp) -> tuple[int, int, int]:
    """(files, blobs, chunks) in the server's database, read directly."""
    with sqlite3.connect(app.data_dir / "database.db") as raw:
        return tuple(raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("files", "blobs", "blob_chunks"))


async def test_each_allowed_kind_is_stored_under_the_type_its_bytes_show(make_account):
    alice = await make_account()
    cases = [
        ("photo.png", attachments.png(), "image/png"),
        ("photo.JPG", attachments.jpeg(), "image/jpeg"),
        ("report.pdf", attachments.pdf(2), "application/pdf"),
        ("notes.md", "# Notes\n\ncafé".encode(), "text/markdown"),
        ("data.csv", b"a,b\n1,2\n", "text/csv"),
        ("main.py", b"print('hi')\n", "text/plain"),
        ("page.html", b"<html><script>alert(1)</script></html>", "text/plain"),  # text to read, never a page
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "text/plain"),
        ("actually-text.png", b"not an image at all", "text/plain"),  # the name is not believed
    ]
    for name, content, media_type in cases:
        response = await upload(alice, name, content, declared="image/png")
        assert response.status_code == 201, (name, response.text)
        body = response.json()
        assert set(body) == {"id", "name", "media_type", "size"}
        assert (body["name"], body["media_type"], body["size"]) == (name, media_type, len(content))


async def test_an_image_comes_back_inline_as_itself_and_anything_else_as_a_download(make_account):
    alice = await make_account()
    image = attachments.png(30, 20)
    png = (await upload(alice, "red dot.png", image)).json()
    got = await alice.client.get(f"/api/files/{png['id']}")
    assert got.status_code == 200 and got.content == image
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("inline;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]

    page = (await upload(alice, "résumé final.html", b"<script>alert(document.cookie)</script>")).json()
    got = await alice.client.get(f"/api/files/{page['id']}")
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    assert (
        got.headers["content-disposition"]
        == "attachment; filename=\"r_sum_ final.html\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20final.html"
    )
    assert got.headers["x-content-type-options"] == "nosniff"

    report = attachments.pdf(1)
    pdf = (await upload(alice, "r.pdf", report)).json()
    got = await alice.client.get(f"/api/files/{pdf['id']}")
    assert got.content == report and got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")


async def test_a_file_is_served_to_its_owner_only(make_account, live_app):
    alice, bob = await make_account(), await make_account()
    mine = (await upload(alice, "a.png", attachments.png())).json()
    assert (await bob.client.get(f"/api/files/{mine['id']}")).status_code == 404
    assert (await bob.client.get("/api/files/no-such-file")).status_code == 404
    bob.client.cookies.clear()
    assert (await bob.client.get(f"/api/files/{mine['id']}")).status_code == 401
    assert (await upload(bob, "b.png", attachments.png())).status_code == 401


async def test_each_refusal_has_its_status_and_reason_and_stores_nothing(make_account, live_app):
    alice = await make_account()
    before = stored_counts(live_app)
    refusals = [
        ("big.txt", b"a" * (MB + 1), 413, "too_large"),
        ("archive.zip", b"PK\x03\x04" + bytes(range(256)) * 8, 415, "unsupported"),
        ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00", 415, "unsupported"),
        ("latin1.txt", "café".encode("latin-1"), 415, "unsupported"),
        ("bomb.png", attachments.bomb_png(), 422, "too_many_pixels"),
        ("huge.png", attachments.png(1100, 1000), 422, "too_many_pixels"),
        ("long.pdf", attachments.pdf(4), 422, "too_many_pages"),
        ("broken.pdf", attachments.damaged_pdf(), 422, "unreadable"),
        ("fake.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, 422, "unreadable"),
        ("empty.txt", b"", 422, "unreadable"),
    ]
    for name, content, status, reason in refusals:
        response = await upload(alice, name, content)
        assert (response.status_code, response.json()["reason"]) == (status, reason), name
        assert response.json()["detail"]
    missing = await alice.client.post("/api/files", files={"other": ("a.txt", b"hi", "text/plain")})
    assert (missing.status_code, missing.json()["reason"]) == (400, "no_file")
    not_multipart = await alice.client.post("/api/files", content=b"hi", headers={"content-type": "text/plain"})
    assert (not_multipart.status_code, not_multipart.json()["reason"]) == (400, "not_multipart")
    assert stored_counts(live_app) == before
    assert not list((live_app.data_dir / "uploads").glob("*"))  # nothing left spooled either


async def test_a_body_far_past_the_limit_is_cut_off_not_read(make_account, live_app):
    alice = await make_account()

    async def endless():
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.txt"\r\n\r\n'
        for _ in range(10_000):  # 640 MB if it were all read
            yield b"a" * 65536

    started = time.monotonic()
    response = await alice.client.post(
        "/api/files", content=endless(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 413
    assert time.monotonic() - started < 5


async def test_the_quota_counts_each_content_once_and_refuses_past_it(make_account, live_app):
    alice, bob = await make_account(), await make_account()
    texts = [bytes([65 + n]) * (900 * 1024) for n in range(4)]
    for n in range(3):
        assert (await upload(alice, f"{n}.txt", texts[n])).status_code == 201
    assert (await upload(alice, "again.txt", texts[0])).status_code == 201  # the same bytes take no more room
    before = stored_counts(live_app)
    response = await upload(alice, "3.txt", texts[3])
    assert (response.status_code, response.json()["reason"]) == (413, "quota")
    assert "3.0 MB" in response.json()["detail"]
    assert stored_counts(live_app) == before
    assert (await upload(bob, "3.txt", texts[3])).status_code == 201  # a quota is per user


async def test_concurrent_uploads_of_one_file_share_its_bytes(make_account, live_app):
    alice = await make_account()
    content = os.urandom(16) + b"x" * 300_000
    text = content.hex().encode()[:600_000]
    before = stored_counts(live_app)
    responses = await asyncio.gather(*(upload(alice, f"{n}.txt", text) for n in range(4)))
    assert [r.status_code for r in responses] == [201] * 4
    files, blobs, _ = stored_counts(live_app)
    assert (files - before[0], blobs - before[1]) == (4, 1)
