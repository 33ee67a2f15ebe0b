"""Accounts: sign-in rules, passwords, live sessions (no NiceGUI, no FastAPI)."""
