"""py-spy sampling a process while a benchmark runs (collapsed stacks: `python -m bench.pyspy_summary FILE`)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from bench._processes import spawn
from bench._report import RESULTS

MODES = ("busy", "idle", "native")


class PySpy:
    """py-spy recording one process into `results/<name>-pyspy.txt`, as a `with` block or from `start()` to `stop()`.

    100 Hz, per thread. "busy" samples running threads without pausing the process; "idle" also threads that wait;
    "native" also C frames, which needs the process paused at each sample (it runs slower).
    """

    def __init__(self, pid: int, name: str, mode: str = "busy") -> None:
        if mode not in MODES:
            raise ValueError(f"py-spy mode {mode!r}: one of {', '.join(MODES)}")
        self.output = RESULTS / f"{name}-pyspy.txt"
        self.command = [str(Path(sys.executable).with_name("py-spy")), "record", "-p", str(pid), "-r", "100"]
        self.command += ["--threads", *(["--native"] if mode == "native" else ["--nonblocking"]), "-f", "raw"]
        self.command += ["-o", str(self.output), *(["--idle"] if mode == "idle" else [])]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PySpy:
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.process = spawn(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        time.sleep(1)  # py-spy attaches
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT (a no-op once it has exited)
            self.process.wait(30)

    def __enter__(self) -> PySpy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
