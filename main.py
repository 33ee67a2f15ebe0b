"""Start chatui from a checkout: `python main.py [--host 127.0.0.1] [--port 8001] [--data-dir data] [--no-browser]`.

The same as the installed `chatui` command and `python -m chatui` (chatui/launcher.py), data operations included:
`python main.py backup|restore|migrate-db|reset-password ...` (`python main.py backup --help`). NiceGUI's `user`
test fixture runs this file for every test (pyproject.toml's `main_file`): there `main()` builds the app and returns.
"""

from __future__ import annotations

import sys

from chatui.launcher import main

if __name__ == "__main__" and (status := main()):
    sys.exit(status)
