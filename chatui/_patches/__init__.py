"""Every patch of NiceGUI, uvicorn or FastAPI internals, in one place (see the README's list)."""
