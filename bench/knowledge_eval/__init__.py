"""Retrieval quality for Knowledge (issue 25): a corpus made from Python's own docs, questions, recall@5 and MRR."""
