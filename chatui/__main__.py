"""`python -m chatui`: the `chatui` command (chatui/launcher.py).

The guard matters: NiceGUI's native window runs in a spawned process that imports this module again as
`__mp_main__`, and that import must not start a second server.
"""

import sys

from chatui.launcher import main

if __name__ == "__main__":
    sys.exit(main())
