"""Knowledge fixtures: the service on a fresh SQLite file and on PostgreSQL, with two users."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from chatui.knowledge.service import KnowledgeLimits, KnowledgeService, Upload
from storage import AccountRepository, Database, KnowledgeRepository, mark_interrupted
from tests.postgres import drop_postgres_database, fresh_postgres_database


@dataclass
class Setup:
    db: Database
    service: KnowledgeService
    alice: str
    bob: str
    folder: Path

    def upload(self, name: str, content: bytes) -> Upload:
        """A file spooled as the API spools it (the service deletes it once read)."""
        path = self.folder / f"{len(list(self.folder.iterdir()))}-{name}"
        path.write_bytes(content)
        return Upload(name, path, len(content))


@pytest.fixture(params=["sqlite", "postgresql"])
async def knowledge(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'database.db'}")
    else:
        db = Database(fresh_postgres_database())
    db.prepare(mark_interrupted)
    accounts = AccountRepository(db)
    alice, bob = await accounts.create_user("alice", "hash"), await accounts.create_user("bob", "hash")
    limits = KnowledgeLimits(max_bytes=1024 * 1024, pdf_seconds=20, pdf_max_pages=50)
    folder = tmp_path / "spool"
    folder.mkdir()
    service = KnowledgeService(KnowledgeRepository(db), limits, folder, single_instance=True)
    yield Setup(db, service, alice.id, bob.id, folder)
    await service.aclose()
    await db.close()
    if request.param == "postgresql":
        drop_postgres_database(db.url.set(drivername="postgresql").render_as_string(hide_password=False))
