"""chatui: a self-hosted LLM chat app — NiceGUI pages, a JSON API and `/ws`, one generation engine."""
