"""Deterministic embeddings for the fake providers: a hashed bag of concepts, normalised to length 1.

Each word of a text (lower-cased, English function words dropped) is mapped to its concept (`FakeEmbedder.synonyms`,
else the word itself less a plural `s`), hashed to one of `dimensions` axes with a sign, and counted there. Texts that
share concepts point the same way, so a test can make a question whose words appear nowhere in the passage that
answers it, yet whose vector is nearest that passage's (give the question's words the passage's words as synonyms):
the case only hybrid retrieval finds. Real embedding models are normalised too (Ollama's `/api/embed` and OpenAI's
models), so cosine similarity is a dot product either way.

`FakeEmbedder` is the state both fakes' embedding routes share: the models that embed, the inputs seen per request,
and a status to fail with (a provider that is down for embeddings while its server still answers).
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import Sequence

_WORD = re.compile(r"[a-z0-9]+")
_FUNCTION_WORDS = """
a an and are as at be by do does for from how i in is it of on or the this to was what when where which who why
with you
"""
_STOP = frozenset(_FUNCTION_WORDS.split())


class FakeEmbedder:
    """What an embeddings endpoint of a fake answers, and what it was asked.

    models      the models that embed (any other answers the provider's "no such model" error)
    dimensions  the length of every vector
    synonyms    word -> concept: words of one concept get the same axis
    status      not 200: every embeddings request answers this status with `error` (the service is failing)
    requests    the inputs of each request, in order
    """

    def __init__(self, models: Sequence[str]) -> None:
        self._lock = threading.Lock()
        self.default_models = list(models)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.models = list(self.default_models)
            self.dimensions = 64
            self.synonyms: dict[str, str] = {}
            self.status = 200
            self.error = "the embedding model failed to load"
            self.requests: list[list[str]] = []

    def seen(self, inputs: list[str]) -> None:
        with self._lock:
            self.requests.append(inputs)

    @property
    def texts(self) -> list[str]:
        """Every text embedded so far, in order."""
        with self._lock:
            return [text for batch in self.requests for text in batch]

    def vector(self, text: str) -> list[float]:
        counts = [0.0] * self.dimensions
        for word in _WORD.findall(text.lower()):
            if word in _STOP:
                continue
            concept = self.synonyms.get(word) or (word[:-1] if len(word) > 3 and word.endswith("s") else word)
            digest = hashlib.blake2b(concept.encode(), digest_size=8).digest()
            axis = int.from_bytes(digest[:4], "little") % self.dimensions
            counts[axis] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in counts))
        if norm == 0:  # no words: a fixed unit vector rather than zeros (a real model never answers zeros)
            counts[0], norm = 1.0, 1.0
        return [x / norm for x in counts]


def inputs_of(body: object) -> list[str] | None:
    """The texts of an embeddings request's `input` (a string or a list of strings, as both APIs take), or None
    when it is neither."""
    value = body.get("input") if isinstance(body, dict) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None
