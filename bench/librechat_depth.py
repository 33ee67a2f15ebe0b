"""How a LibreChat export thousands of levels deep is read (issue 29): `python -m bench.librechat_depth`.

A long LibreChat chat exported as its tree nests every message inside the one before it (`children`); it is read
flattened, without recursion (`chatui.transfer.librechat`). Prints, for chains of 5,000 and 50,000 exchanges, the
time to inspect and read the file into one conversation, and the process's peak memory.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from chatui.transfer.reading import inspect, read
from testing.exports import write_librechat_chain


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        for n in (5_000, 50_000):
            p = write_librechat_chain(Path(d) / f"c{n}.json", n)
            t = time.perf_counter()
            [parsed] = list(read(inspect(p), "ollama:x", lambda _: None))
            print(
                f"{n:,} exchanges ({2 * n:,} messages, {4 * n:,} JSON levels, {p.stat().st_size / 1e6:.1f} MB): "
                f"{time.perf_counter() - t:.2f} s, {len(parsed.record.messages):,} messages, "
                f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
            )


if __name__ == "__main__":
    main()
