"""Fresh venvs for the tests of what people install (tests/package, tests/desktop), made in about a second.

uv makes the venv; `install` goes in with `--no-deps`; the locked dependencies that this interpreter runs on are
reached through a `.pth` line instead of being installed again, with any `extra_paths` after them.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path


def fresh_venv(
    root: Path, install: Sequence[str | Path], *, offline: bool = False, extra_paths: Sequence[Path] = ()
) -> Path:
    """A venv at `root` holding `install`; returns its python."""
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, root], check=True, timeout=60)
    python = root / "bin" / "python"
    command = [uv, "pip", "install", "--quiet", "--no-deps", "--python", python, *install]
    subprocess.run([*command, "--offline"] if offline else command, check=True, timeout=120)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    lines = [sysconfig.get_paths()["purelib"], *map(str, extra_paths)]
    Path(site, "locked.pth").write_text("\n".join(lines) + "\n")
    return python
