"""llama.cpp's own OpenAI-compatible HTTP server (the C++ `llama-server` code, from the xllamacpp wheel), on a loopback
port, in a process of its own: the real-model `llm` test and `bench.local_model` talk to it through the OpenAI provider.

    python -m testing.llama_server MODEL.gguf PORT [--alias NAME] [--places 1] [--threads 1]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model")
    parser.add_argument("port", type=int)
    parser.add_argument("--alias", default="")
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--places", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_ctx = args.context
    params.n_parallel = args.places
    params.kv_unified = True
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.use_jinja = True
    params.ui = False
    params.cache_ram_mib = 0
    params.warmup = False
    params.verbosity = -1
    if args.alias:
        params.model_alias = {args.alias}
    server = xllamacpp.Server(params)  # serves HTTP from its own threads until deleted
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"listening at {server.listening_address}", flush=True)
    stop.wait()
    del server


@contextmanager
def llama_server(
    model: Path, port: int, log_path: Path, *, alias: str = "", places: int = 1, threads: int = 1
) -> Iterator[tuple[str, str]]:
    """Run the server; yields its API URL (`.../v1`) and the model id it lists once it answers."""
    command = [sys.executable, "-m", "testing.llama_server", str(model), str(port)]
    command += ["--places", str(places), "--threads", str(threads)] + (["--alias", alias] if alias else [])
    root = Path(__file__).resolve().parent.parent
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        yield url, _wait_for_models(process, url, log_path)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_for_models(process: subprocess.Popen[bytes], url: str, log_path: Path, seconds: float = 120) -> str:
    """Poll `/models` until the server answers (loading the model takes a moment); the first model's id."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited:\n{log_path.read_text(errors='replace')}")
        try:
            response = httpx.get(f"{url}/models", timeout=2)
            if response.status_code == 200 and response.json()["data"]:
                return str(response.json()["data"][0]["id"])
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"llama.cpp server not ready after {seconds:g} s:\n{log_path.read_text(errors='replace')}")


if __name__ == "__main__":
    main()
