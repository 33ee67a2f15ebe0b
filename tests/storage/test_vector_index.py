"""The in-memory matrix of hybrid retrieval: rows added page by page (growing past its capacity), cosine order
whatever the stored vectors' lengths, a document filter, forgotten rows, and a query of another size."""

from __future__ import annotations

import numpy as np

from storage.knowledge_vectors import StoredVector, encode
from storage.vector_index import _Matrix


def rows(start: int, vectors: list[list[float]], document: str = "d1") -> list[StoredVector]:
    return [StoredVector(start + i, start + i, document, encode(v)) for i, v in enumerate(vectors)]


def test_rows_added_in_pages_are_searched_by_cosine_best_first() -> None:
    matrix = _Matrix()
    rng = np.random.default_rng(3)
    noise = (rng.standard_normal((300, 4)) * [0, 1, 1, 1]).tolist()  # orthogonal to the query's axis
    matrix.append(rows(1, noise))
    matrix.append(rows(1_000, [[3.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]], document="d2"))  # grows past 256
    assert matrix.size == 302
    found = matrix.nearest(np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32), None, 3)
    assert [chunk for chunk, _ in found[:2]] == [1_000, 1_001]  # length does not count: 3x the axis is still 1.0
    assert found[0][1] == np.float32(1.0) and abs(found[1][1] - 2**-0.5) < 1e-6

    only_d1 = matrix.nearest(np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32), {"d1"}, 5)
    assert {chunk for chunk, _ in only_d1} <= set(range(1, 301))

    matrix.forget({1_000})
    assert [c for c, _ in matrix.nearest(np.array([1.0, 0, 0, 0], dtype=np.float32), None, 1)] == [1_001]
    assert matrix.nearest(np.array([1.0, 0.0], dtype=np.float32), None, 1) == []  # another model's size
