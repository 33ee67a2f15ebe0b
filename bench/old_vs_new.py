"""The figures of `bench/old_vs_new.sh` side by side: BENCHMARKS.md §1, §2 (N rounds and arrivals) and §4, old and new.

    python -m bench.old_vs_new          # reads bench/results/{ttft,concurrent_ws,arrivals,ui_pages}-{old,new}.json

Prints Markdown tables ready for BENCHMARKS.md; a benchmark whose two files are not both there is skipped, saying so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench._report import RESULTS, markdown_table

SIDES = ("old", "new")


def load(name: str) -> dict[str, dict[str, Any]] | None:
    paths = {side: RESULTS / f"{name}-{side}.json" for side in SIDES}
    missing = [str(path) for path in paths.values() if not path.exists()]
    if missing:
        print(f"({name}: no {', '.join(missing)})\n")
        return None
    return {side: json.loads(path.read_text()) for side, path in paths.items()}


def ttft(results: dict[str, dict[str, Any]]) -> None:
    rows = []
    for side, r in results.items():
        connect = r["from_connect_ms"]
        rows.append(
            {
                "code": side,
                "when": r["when"],
                "/ws median": r["ws_ttft_ms"]["median"],
                "direct median": r["direct_ttft_ms"]["median"],
                "added (paired)": f"{r['added_ms']} ({r['added_paired_median_ms']})",
                "from connect: /ws": connect["ws_median"],
                "provider, new connection": connect["direct_new_connection_median"],
                "bare relay": connect["bare_relay_median"],
                "added from connect": connect["added"],
            }
        )
    print("§1 time to first token (ms)\n")
    print(markdown_table(rows, list(rows[0])) + "\n")


def per_n(results: dict[str, dict[str, Any]], title: str, columns: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """A table of one row per side and N (the benchmarks that run several N on one server)."""
    rows = [{"code": side, "N": row["n"], **columns(row)} for side, r in results.items() for row in r["rows"]]
    print(f"{title}\n")
    print(markdown_table(rows, list(rows[0])) + "\n")


def concurrent(results: dict[str, dict[str, Any]]) -> None:
    per_n(
        results,
        "§2 concurrent /ws, N sockets open, N messages at once",
        lambda row: {
            "completed": row["completed"],
            "lost": row["tokens_lost"],
            "TTFT p50 / p99 ms": f"{row['ttft_p50_ms']} / {row['ttft_p99_ms']}",
            "reply p50 / p99 ms": f"{row['reply_p50_ms']} / {row['reply_p99_ms']}",
            "ratio p50 / p99": f"{row['ratio_p50']} / {row['ratio_p99']}",
            "server CPU %": row["server_cpu_percent"],
            "RSS peak MB": row["server_rss_peak_mb"],
            "others' CPU %": row.get("others_cpu_percent", ""),
            "db locked": row["database_locked"],
        },
    )


def arrivals(results: dict[str, dict[str, Any]]) -> None:
    rows = []
    for side, r in results.items():
        summary = r["summary"]
        chatui = [round_["chatui"] for round_ in r["rounds"]]
        rows.append(
            {
                "code": side,
                "rounds": len(chatui),
                "chatui ratio p50 (median; min-max)": _spread(summary["chatui_ratio_p50"]),
                "chatui ratio p99": _spread(summary["chatui_ratio_p99"]),
                "bare relay p50 / p99": f"{summary['relay_ratio_p50']['median']} / "
                f"{summary['relay_ratio_p99']['median']}",
                "completed": "/".join(str(c["completed"]) for c in chatui),
                "lost": sum(c["tokens_lost"] for c in chatui),
                "load average": " ".join(f"{x:.2f}" for x in r["load_average"]),
            }
        )
    print("§2 arrivals: 8 users x 25 conversations connect and send at once\n")
    print(markdown_table(rows, list(rows[0])) + "\n")


def ui_pages(results: dict[str, dict[str, Any]]) -> None:
    per_n(
        results,
        "§4 UI pages streaming Markdown",
        lambda row: {
            "exact HTML": f"{row['full_html']}/{row['n']}",
            "lag p50 / p99 / max ms": f"{row['lag_p50_ms']} / {row['lag_p99_ms']} / {row['lag_max_ms']}",
            "steady p99 ms": row["lag_steady_p99_ms"],
            "reply p50 / p99 s": f"{row['reply_p50_s']} / {row['reply_p99_s']}",
            "server CPU mean / peak %": f"{row['server_cpu_percent']} / {row['server_peak_cpu_percent']}",
            "RSS peak MB": row["server_rss_peak_mb"],
            "CPU ms per update": row.get("server_cpu_ms_per_update", ""),
        },
    )


def _spread(figure: dict[str, float]) -> str:
    return f"{figure['median']} ({figure['min']}-{figure['max']})"


def main() -> None:
    for name, show in (("ttft", ttft), ("concurrent_ws", concurrent), ("arrivals", arrivals), ("ui_pages", ui_pages)):
        results = load(name)
        if results is not None:
            show(results)


if __name__ == "__main__":
    main()
