"""Benchmarks run by hand (`python -m bench.<name>`); see BENCHMARKS.md for the commands and the figures."""
