"""The conversation domain: every rule about conversations, their events and titles (no NiceGUI, no FastAPI)."""
