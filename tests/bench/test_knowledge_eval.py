"""The retrieval evaluation set (issue 25) stays scoreable: its quotes are in the corpus the interpreter ships, and the
chunker and the BM25 baseline behave as `bench/knowledge_eval/run.py` reports them."""

from __future__ import annotations

import itertools
import sys

import pytest

from bench.knowledge_eval import corpus
from bench.knowledge_eval.baseline import Fts5Bm25, or_query
from bench.knowledge_eval.chunking import chunk_document
from bench.knowledge_eval.run import Question, coverage, evaluate, load_questions, missing_quotes, mrr, recall


def test_the_corpus_is_the_reference_as_markdown_with_its_titles_as_headings() -> None:
    documents = corpus.documents()
    assert len(documents) >= 79
    assert documents["try.md"].startswith('# The "try" statement\n')
    assert '\n## "finally" clause\n' in documents["try.md"]
    assert "*****" not in documents["try.md"]


@pytest.mark.skipif(not sys.version.startswith(corpus.PYTHON), reason="the quotes were checked on Python 3.11")
def test_every_question_has_a_quote_from_its_document_that_a_chunk_holds_whole() -> None:
    questions = load_questions()
    documents = corpus.documents()
    assert len(questions) >= 100
    assert len({q.question for q in questions}) == len(questions)
    assert missing_quotes(questions, documents) == []
    chunks = [c for name, text in documents.items() for c in chunk_document(name, text)]
    assert coverage(questions, chunks) == len(questions)


def test_chunks_follow_headings_and_repeat_the_end_of_the_chunk_before() -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 40 for i in range(6)]
    markdown = "# Title\n\nIntro.\n\n## Part\n\n" + "\n\n".join(paragraphs) + "\n\n## Other\n\nLast words.\n"
    chunks = chunk_document("doc.md", markdown, size=500, overlap=250)
    assert next(c.heading_path for c in chunks) == "Title"
    assert chunks[-1].heading_path == "Title > Other" and chunks[-1].text == "Last words."
    part = [c for c in chunks if c.heading_path == "Title > Part"]
    assert len(part) > 1 and all(len(c.text) <= 500 + 250 for c in part)
    for before, after in itertools.pairwise(part):
        assert after.text.split("\n\n")[0] == before.text.split("\n\n")[-1]  # the overlap: one whole paragraph
    assert {p.strip() for c in part for p in c.text.split("\n\n")} == {p.strip() for p in paragraphs}


def test_a_paragraph_longer_than_a_chunk_is_cut_into_overlapping_windows() -> None:
    long = " ".join(f"w{i}" for i in range(400))
    chunks = chunk_document("doc.md", long, size=300, overlap=60)
    assert len(chunks) > 4 and all(len(c.text) <= 300 + 60 for c in chunks)
    assert all(c.text.split()[0] in before.text.split() for before, c in itertools.pairwise(chunks))
    assert chunks[-1].text.endswith("w399")


def test_the_baseline_ranks_the_passage_that_shares_the_rare_words_first() -> None:
    docs = {
        "a.md": "# Loops\n\nA for loop repeats a block for each item.\n",
        "b.md": "# Generators\n\nA generator stops when it returns; the value becomes StopIteration.value.\n",
    }
    chunks = [c for name, text in docs.items() for c in chunk_document(name, text)]
    with Fts5Bm25() as retriever:
        retriever.index(chunks)
        assert next(c.document for c in retriever.search("How do I make a generator stop?", 5)) == "b.md"
        assert retriever.search('?! "" *', 5) == []
    assert or_query('say "hi" OR NEAR') == '"say" OR "hi" OR "or" OR "near"'


def test_recall_and_mrr_count_ranks_within_the_cut() -> None:
    ranks: list[int | None] = [1, 2, 6, None]
    assert recall(ranks, 5) == 0.5
    assert mrr(ranks) == pytest.approx((1 + 1 / 2 + 1 / 6) / 4)


def test_an_answer_in_another_document_counts_but_not_for_the_document_figure() -> None:
    docs = {"a.md": "# A\n\nThe same passage about yield.\n", "b.md": "# B\n\nThe same passage about yield.\n"}
    chunks = [c for name, text in docs.items() for c in chunk_document(name, text)]
    with Fts5Bm25() as retriever:
        retriever.index(chunks)
        [outcome] = evaluate(retriever, [Question("passage about yield", "b.md", "same passage")])
    assert outcome.rank == 1 and outcome.doc_rank in (1, 2)


def test_the_product_retriever_reads_the_documents_with_chatuis_ingest_and_ranks_with_its_retrieval() -> None:
    from bench.knowledge_eval.product import ChatuiKnowledge

    docs = {
        "loops.md": "# Loops\n\nA for loop repeats a block for each item.\n",
        "generators.md": "# Generators\n\nA generator stops when it returns; the value becomes StopIteration.value.\n",
    }
    with ChatuiKnowledge("sqlite") as product:
        chunks = product.index_documents(docs)
        assert sorted(c.document for c in chunks) == ["generators.md", "loops.md"]
        [outcome] = evaluate(product, [Question("How do I make a generator stop?", "generators.md", "generator stops")])
    assert outcome.rank == 1 and outcome.doc_rank == 1
