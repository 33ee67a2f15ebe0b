#!/usr/bin/env bash
# Issue 28's figures, old code against this checkout, in one sitting (BENCHMARKS.md §25): bench/old_vs_new.sh (§1,
# §2, §4), then the 1,000-page churn, the dead provider, memory at rest, 1,000 streams (each on both codes) and two
# instances (this checkout only: bench.instances has no --code). One benchmark at a time, each under the benchmark
# lock ($BENCH prints the load average before and after). About 20 minutes on a quiet 2-core machine.
#
#   bench/quiet_sitting.sh                      # old = /work/wt/old-4e859c4 (git worktree add --detach DIR 4e859c4)
#   OLD=/path/to/checkout BENCH="flock /tmp/bench.lock" bench/quiet_sitting.sh
set -uo pipefail
cd "$(dirname "$0")/.."

OLD=${OLD:-/work/wt/old-4e859c4}
BENCH=${BENCH:-/work/bin/bench}
PY=.venv/bin/python
[ -f "$OLD/main.py" ] || { echo "no checkout at OLD=$OLD" >&2; exit 2; }
echo "=== start $(date -u +%H:%M:%S), this checkout at $(git rev-parse --short HEAD)"
OLD=$OLD BENCH=$BENCH bash bench/old_vs_new.sh
for code in "$OLD" .; do
  side=$([ "$code" = . ] && echo new || echo old)
  echo "=== 1,000 pages, $side $(date -u +%H:%M:%S)"
  $BENCH $PY -m bench.ui_churn --pages 1000 --wave 50 --gc-log --code "$code" --name "churn-$side"
done
echo "=== dead provider $(date -u +%H:%M:%S)"
$BENCH $PY -m bench.dead_provider --code "$OLD" --code .
echo "=== memory $(date -u +%H:%M:%S)"
$BENCH $PY -m bench.memory --code "$OLD" --code . --runs 3
for code in "$OLD" .; do
  side=$([ "$code" = . ] && echo new || echo old)
  echo "=== 1,000 streams, $side $(date -u +%H:%M:%S)"
  $BENCH $PY -m bench.concurrent_ws --users 40 --per-user 25 --rounds 3 --code "$code" --name "streams1000-$side"
done
echo "=== two instances $(date -u +%H:%M:%S)"
$BENCH $PY -m bench.instances --n 200 --sequential 40
echo "=== end $(date -u +%H:%M:%S)"
