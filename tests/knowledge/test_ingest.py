"""Ingest and retrieval on SQLite and PostgreSQL: each kind of document read into passages with their page and
heading path, a bad file failing alone with a reason, ownership, and deletion taking passages out of retrieval."""

from __future__ import annotations

from storage.knowledge import DocumentRow
from testing import attachments
from tests.knowledge.conftest import Setup

MARKDOWN = b"""# Gardening guide

Intro to the guide.

## Tomatoes

Tomatoes need six hours of sunlight and deep watering twice a week.

## Roses

Prune roses in late winter, just before the buds swell.
"""
HTML = b"""<!doctype html><html><head><title>Kiln</title><style>.x{color:red}</style>
<script>var secret = "zebrafish";</script></head>
<body><h1>Pottery</h1><p>Intro.</p><h2>Firing</h2><p>Bisque firing reaches cone 04 in the <b>electric kiln</b>.</p>
</body></html>"""
CODE = b'''def fibonacci(n):
    """Return the nth Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
'''
TEXT = b"The lighthouse keeper logs barometric pressure every four hours.\n\nNothing else."


async def ingest(k: Setup, user: str, collection_id: str, *files: tuple[str, bytes]) -> dict[str, DocumentRow]:
    added = await k.service.add(user, collection_id, [k.upload(name, content) for name, content in files])
    await k.service.wait_idle()
    found = await k.service.collection(user, collection_id)
    assert found is not None
    by_id = {d.id: d for d in found[1]}
    return {row.name: by_id[row.id] for row in added}


async def test_each_kind_is_read_into_passages_with_page_and_heading(knowledge: Setup) -> None:
    k = knowledge
    collection = await k.service.create(k.alice, "Hobbies")
    pdf = attachments.pdf(3, text="Page {n}: the carburetor float needle sticks when varnished.")
    docs = await ingest(
        k,
        k.alice,
        collection.id,
        ("guide.md", MARKDOWN),
        ("kiln.html", HTML),
        ("fib.py", CODE),
        ("log.txt", TEXT),
        ("manual.pdf", pdf),
    )
    assert {name: (d.status, d.kind) for name, d in docs.items()} == {
        "guide.md": ("ready", "markdown"),
        "kiln.html": ("ready", "html"),
        "fib.py": ("ready", "code"),
        "log.txt": ("ready", "text"),
        "manual.pdf": ("ready", "pdf"),
    }
    assert all(d.chunk_count >= 1 for d in docs.values())

    [roses] = await k.service.retrieve(k.alice, [collection.id], "When should I prune roses?", 1)
    assert (roses.document_name, roses.heading) == ("guide.md", "Gardening guide › Roses")
    assert "late winter" in roses.text

    [kiln] = await k.service.retrieve(k.alice, [collection.id], "bisque firing cone", 1)
    assert (kiln.document_name, kiln.heading) == ("kiln.html", "Pottery › Firing")
    assert "electric kiln" in kiln.text and "<b>" not in kiln.text
    assert await k.service.retrieve(k.alice, [collection.id], "zebrafish", 5) == []  # scripts are not text

    [code] = await k.service.retrieve(k.alice, [collection.id], "fibonacci", 1)
    assert code.document_name == "fib.py" and "a, b = b, a + b" in code.text

    [log] = await k.service.retrieve(k.alice, [collection.id], "barometric pressure", 1)
    assert log.document_name == "log.txt"

    pages = await k.service.retrieve(k.alice, [collection.id], "carburetor needle", 5)
    assert sorted(p.page for p in pages) == [1, 2, 3]
    assert {p.document_name for p in pages} == {"manual.pdf"}


async def test_a_malformed_pdf_fails_alone_with_a_reason(knowledge: Setup) -> None:
    k = knowledge
    collection = await k.service.create(k.alice, "Mixed")
    docs = await ingest(
        k,
        k.alice,
        collection.id,
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> garbage trailer"),
        ("image.png", attachments.png()),
        ("latin1.txt", "caf\xe9".encode("latin-1")),
        ("empty.md", b""),
        ("fine.md", MARKDOWN),
    )
    statuses = {name: (d.status, d.reason) for name, d in docs.items()}
    assert statuses["broken.pdf"] == ("failed", "The PDF is damaged and cannot be read.")
    assert statuses["image.png"][0] == "failed" and "cannot be added" in (statuses["image.png"][1] or "")
    assert statuses["latin1.txt"][0] == "failed" and "UTF-8" in (statuses["latin1.txt"][1] or "")
    assert statuses["empty.md"] == ("failed", "The file is empty.")
    assert statuses["fine.md"] == ("ready", None)
    assert list(k.folder.iterdir()) == []  # every upload deleted once read


async def test_others_cannot_read_change_or_retrieve_a_collection_until_it_is_shared(knowledge: Setup) -> None:
    k = knowledge
    collection = await k.service.create(k.alice, "Private")
    await ingest(k, k.alice, collection.id, ("guide.md", MARKDOWN))
    assert await k.service.collection(k.bob, collection.id) is None
    assert [c.id for c in await k.service.collections(k.bob)] == []
    assert await k.service.retrieve(k.bob, [collection.id], "prune roses") == []
    assert await k.service.readable(k.bob, [collection.id]) == []
    assert not await k.service.delete(k.bob, collection.id)

    assert await k.service.set_shared(collection.id, True)
    assert [c.id for c in await k.service.collections(k.bob)] == [collection.id]
    assert len(await k.service.retrieve(k.bob, [collection.id], "prune roses")) == 1
    assert not await k.service.delete(k.bob, collection.id)  # readable, still not his to change
    assert await k.service.collection(k.alice, collection.id) is not None


async def test_a_deleted_document_or_collection_leaves_retrieval_at_once(knowledge: Setup) -> None:
    k = knowledge
    collection = await k.service.create(k.alice, "Notes")
    docs = await ingest(k, k.alice, collection.id, ("guide.md", MARKDOWN), ("log.txt", TEXT))
    assert await k.service.retrieve(k.alice, [collection.id], "prune roses")
    assert await k.service.delete_document(k.alice, collection.id, docs["guide.md"].id)
    assert await k.service.retrieve(k.alice, [collection.id], "prune roses") == []
    assert await k.service.retrieve(k.alice, [collection.id], "lighthouse")
    assert await k.service.delete(k.alice, collection.id)
    assert await k.service.retrieve(k.alice, [collection.id], "lighthouse") == []
    assert await k.service.collection(k.alice, collection.id) is None


async def test_a_word_in_most_chunks_is_left_out_beside_rarer_ones_and_kept_alone(
    knowledge: Setup, monkeypatch
) -> None:
    import storage.knowledge_search as search

    monkeypatch.setattr(search, "COMMON", 4)
    monkeypatch.setattr(search, "PG_COMMON", 4)
    k = knowledge
    collection = await k.service.create(k.alice, "Common")
    common = [(f"n{i}.txt", f"alpha beta note {i}.".encode()) for i in range(8)]
    await ingest(k, k.alice, collection.id, *common, ("zebra.txt", b"alpha zebra crossing."))
    await k.db.run_statements(lambda c: c.exec_driver_sql("ANALYZE"))  # PostgreSQL counts from its statistics
    [first, *_] = await k.service.retrieve(k.alice, [collection.id], "alpha zebra", 3)
    assert first.document_name == "zebra.txt"
    assert len(await k.service.retrieve(k.alice, [collection.id], "alpha beta", 8)) == 8  # all common: all of them


async def test_a_zip_adds_each_file_in_it_and_a_damaged_zip_fails_alone(knowledge: Setup) -> None:
    import io
    import zipfile

    k = knowledge
    collection = await k.service.create(k.alice, "Zipped")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zipped:
        zipped.writestr("docs/guide.md", MARKDOWN)
        zipped.writestr("docs/log.txt", TEXT)
        zipped.writestr("__MACOSX/docs/._guide.md", b"\x00\x01")
        zipped.writestr("docs/big.txt", b"x" * (2 * 1024 * 1024))
    docs = await ingest(k, k.alice, collection.id, ("docs.zip", packed.getvalue()), ("bad.zip", b"PK\x03\x04broken"))
    assert {name: (d.status, d.reason) for name, d in docs.items()} == {
        "docs/guide.md": ("ready", None),
        "docs/log.txt": ("ready", None),
        "docs/big.txt": ("failed", "The file is too large."),
        "bad.zip": ("failed", "The zip is damaged and cannot be read."),
    }
    assert await k.service.retrieve(k.alice, [collection.id], "prune roses")
    assert list(k.folder.iterdir()) == []
