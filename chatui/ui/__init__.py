"""NiceGUI pages, the page guard and Markdown rendering (never imports `chatui.api`)."""
