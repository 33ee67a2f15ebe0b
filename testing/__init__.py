"""Test doubles and helpers that the tests (`tests/`) and the benchmarks (`bench/`) share: the wire-exact fake
providers, database seeding, a live chatui server, llama.cpp's server, headless Chromium's settings. Not shipped:
the wheel holds chatui, providers and storage only (pyproject.toml, `[tool.setuptools.packages.find]`)."""
