"""What instances share: one process, or several through Redis; throttles and socket slots (no NiceGUI, no FastAPI)."""
