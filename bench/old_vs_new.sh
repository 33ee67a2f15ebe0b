#!/usr/bin/env bash
# BENCHMARKS.md §1, §2 and §4 on the code before a change and on this checkout, side by side in one run: for each
# benchmark the old code, then the new, one at a time, each under the benchmark lock (`$BENCH`, which prints the load
# average before and after). The same benchmark scripts (this checkout's) drive both; `--code` picks whose `main.py`
# serves, with this virtualenv. Then `python -m bench.old_vs_new` prints the figures side by side.
#
#   bench/old_vs_new.sh                       # old = /work/wt/old-4e859c4 (before issue 22's reshape)
#   OLD=/path/to/checkout bench/old_vs_new.sh
#   BENCH="flock /tmp/bench.lock" bench/old_vs_new.sh   # elsewhere than this machine
#   bench/old_vs_new.sh --all                 # then issue 28's sitting (BENCHMARKS.md §25): the 1,000-page churn, the
#                                             # dead provider, memory at rest, 1,000 streams (both codes) and two
#                                             # instances (this checkout only: bench.instances has no --code); ~20 min
#
# Results: bench/results/<benchmark>-old.json and -new.json, the output in old_vs_new.log. About 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

OLD=${OLD:-/work/wt/old-4e859c4}
BENCH=${BENCH:-/work/bin/bench}
PY=.venv/bin/python
[ -f "$OLD/main.py" ] || { echo "no checkout at OLD=$OLD (git worktree add --detach $OLD <commit>)" >&2; exit 2; }
mkdir -p bench/results
exec > >(tee bench/results/old_vs_new.log) 2>&1  # the load averages $BENCH prints are kept with the figures

both() {  # both NAME ARGS...: the benchmark on the old code, then on this checkout
  local name=$1
  shift
  echo "=== $name: old ($OLD, $(git -C "$OLD" rev-parse --short HEAD))"
  $BENCH $PY -m "$@" --code "$OLD" --name "$name-old"
  echo "=== $name: new (., $(git rev-parse --short HEAD))"
  $BENCH $PY -m "$@" --code . --name "$name-new"
}

both ttft bench.ttft
both concurrent_ws bench.concurrent_ws --n 50 100 200
both arrivals bench.concurrent_ws --users 8 --per-user 25 --rounds 3
both ui_pages bench.ui_pages --n 25 50 100
$PY -m bench.old_vs_new

if [ "${1:-}" = "--all" ]; then
  both churn bench.ui_churn --pages 1000 --wave 50 --gc-log
  echo "=== dead provider, memory: both checkouts in one run each"
  $BENCH $PY -m bench.dead_provider --code "$OLD" --code .
  $BENCH $PY -m bench.memory --code "$OLD" --code . --runs 3
  both streams1000 bench.concurrent_ws --users 40 --per-user 25 --rounds 3
  echo "=== two instances (this checkout)"
  $BENCH $PY -m bench.instances --n 200 --sequential 40
fi
