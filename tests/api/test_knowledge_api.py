"""The knowledge API against a live server: collections, several files in one upload read in the background,
statuses with reasons, 404 for anyone else, an administrator's share, deletes."""

from __future__ import annotations

import asyncio

from testing import attachments

GUIDE = b"# Guide\n\n## Roses\n\nPrune roses in late winter.\n"


async def settled(account, collection_id: str) -> dict:
    """The collection once no document is pending (the ingest runs in the background)."""
    async with asyncio.timeout(20):
        while True:
            body = (await account.client.get(f"/api/knowledge/{collection_id}")).json()
            if all(d["status"] != "pending" for d in body["documents"]):
                return body
            await asyncio.sleep(0.05)


async def test_another_user_gets_404_until_an_administrator_shares_it(make_account):
    admin = await make_account()  # the module's server is new: its first account is the administrator (so first)
    alice, bob = await make_account(), await make_account()
    cid = (await alice.client.post("/api/knowledge", json={"name": "Alice's"})).json()["id"]
    upload = {"file": ("guide.md", GUIDE, "text/markdown")}
    assert (await alice.client.post(f"/api/knowledge/{cid}/documents", files=upload)).status_code == 201
    await settled(alice, cid)

    assert (await bob.client.get(f"/api/knowledge/{cid}")).status_code == 404
    assert (await bob.client.post(f"/api/knowledge/{cid}/documents", files=upload)).status_code == 404
    assert (await bob.client.delete(f"/api/knowledge/{cid}")).status_code == 404
    assert (await bob.client.patch(f"/api/knowledge/{cid}", json={"shared": True})).status_code == 403
    assert cid not in {c["id"] for c in (await bob.client.get("/api/knowledge")).json()}

    assert (await admin.client.patch(f"/api/knowledge/{cid}", json={"shared": True})).status_code == 200
    shared = (await bob.client.get(f"/api/knowledge/{cid}")).json()
    assert (shared["shared"], shared["mine"], len(shared["documents"])) == (True, False, 1)
    assert (await bob.client.delete(f"/api/knowledge/{cid}")).status_code == 404  # readable, not his to delete
    assert (await bob.client.post(f"/api/knowledge/{cid}/documents", files=upload)).status_code == 404


async def test_a_collection_takes_several_files_at_once_and_each_is_read_or_fails_alone(make_account):
    alice = await make_account()
    created = await alice.client.post("/api/knowledge", json={"name": "Manuals"})
    assert created.status_code == 201 and set(created.json()) == {"id", "name"}
    cid = created.json()["id"]
    files = [
        ("file", ("guide.md", GUIDE, "text/markdown")),
        ("file", ("page.html", b"<h1>Kiln</h1><p>Cone 04 bisque.</p>", "text/html")),
        ("file", ("report.pdf", attachments.pdf(2), "application/pdf")),
        ("file", ("broken.pdf", b"%PDF-1.4 nonsense", "application/pdf")),
    ]
    response = await alice.client.post(f"/api/knowledge/{cid}/documents", files=files)
    assert response.status_code == 201, response.text
    added = response.json()
    assert [d["name"] for d in added] == ["guide.md", "page.html", "report.pdf", "broken.pdf"]
    assert {d["status"] for d in added} <= {"pending", "ready", "failed"}

    body = await settled(alice, cid)
    documents = {d["name"]: d for d in body["documents"]}
    assert {n: d["status"] for n, d in documents.items()} == {
        "guide.md": "ready",
        "page.html": "ready",
        "report.pdf": "ready",
        "broken.pdf": "failed",
    }
    assert documents["report.pdf"]["chunk_count"] == 2  # one a page
    assert documents["broken.pdf"]["reason"] == "The PDF is damaged and cannot be read."
    listed = (await alice.client.get("/api/knowledge")).json()
    assert [(c["id"], c["documents"]) for c in listed if c["mine"]] == [(cid, 4)]

    gone = documents["guide.md"]["id"]
    assert (await alice.client.delete(f"/api/knowledge/{cid}/documents/{gone}")).status_code == 204
    assert "guide.md" not in {d["name"] for d in (await alice.client.get(f"/api/knowledge/{cid}")).json()["documents"]}
    assert (await alice.client.delete(f"/api/knowledge/{cid}")).status_code == 204
    assert (await alice.client.get(f"/api/knowledge/{cid}")).status_code == 404


async def test_a_body_without_files_is_refused(make_account):
    alice = await make_account()
    cid = (await alice.client.post("/api/knowledge", json={"name": "Empty"})).json()["id"]
    assert (await alice.client.post(f"/api/knowledge/{cid}/documents", data={"x": "1"})).status_code == 400
    assert (await alice.client.post(f"/api/knowledge/{cid}/documents", json={"file": "x"})).status_code == 400
