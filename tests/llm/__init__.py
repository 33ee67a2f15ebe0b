"""Tests against a real (tiny) model served by llama.cpp; opt-in with `pytest -m llm`."""
