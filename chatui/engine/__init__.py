"""Replies: where providers and storage meet. The engine owns every reply; pages and `/ws` only follow.

No NiceGUI, no FastAPI (`tests/test_layering.py`)."""
