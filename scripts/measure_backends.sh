#!/usr/bin/env bash
# Real steps per second for collection and for population evaluation (CMA-ES in the real environment),
# local backend (1 and 2 worker processes) against Ray (a local instance with 2 CPUs), each run REPEAT times.
# Small sizes, so the per-run start-up (worker processes importing torch, CarRacing building its first track) is
# counted; Ray's own start-up is printed apart and not counted. A run that fails (Ray gives its raylet 30 s to start:
# an overloaded machine may take longer) is reported and the others go on. Usage: bash scripts/measure_backends.sh [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${1:-3}
OUT=${OUT:-runs/measure_backends}
PY=${PY:-.venv/bin/python}
export OMP_NUM_THREADS=1
rm -rf "$OUT"
mkdir -p "$OUT"
for r in $(seq "$REPEAT"); do
  for setting in "local 1" "local 2" "ray 2"; do
    set -- $setting
    echo "== repeat $r: collect, $1 backend, $2 worker(s)"
    nice -n 10 $PY -m wmcourse collect --env CarRacing-v3 --episodes 8 --episodes-per-shard 1 --num-envs 1 \
      --max-steps 500 --out "$OUT/collect-$1-$2-$r" --backend "$1" --workers "$2" 2>>"$OUT/stderr.log" | grep -E "this run|Ray:" || echo "   failed: see $OUT/stderr.log"
    echo "== repeat $r: evolve-real, $1 backend, $2 worker(s)"
    nice -n 10 $PY -m wmcourse evolve-real --generations 1 --population 8 --rollouts 1 --max-steps 500 \
      --out "$OUT/real-$1-$2-$r/controller.npz" --backend "$1" --workers "$2" 2>>"$OUT/stderr.log" | grep -E "this run|Ray:" || echo "   failed: see $OUT/stderr.log"
  done
done
