#!/usr/bin/env bash
# Evolve the CarRacing controller inside the dream of the MDN-RNN made by scripts/train_carracing_models.sh,
# score it in real CarRacing-v3, run the temperature sweep and two rounds of iterative training, and ship the
# results into data/. Resumable: rerun
# the same command. Settings are the paper's (population 64, 16 dreams per candidate, sigma 0.1); this course
# ran GENERATIONS=27 on a 2-core CPU (about 20 s a generation when the machine is quiet). Usage:
#   bash scripts/evolve_carracing_controller.sh [RUNS_DIR]        e.g. GENERATIONS=200 bash ...
set -euo pipefail
RUNS=${1:-runs/CarRacing-v3}
GENERATIONS=${GENERATIONS:-27}
EPISODES=${EPISODES:-20}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
WM="python -m wmcourse"

$WM evolve --mdnrnn "$RUNS/mdnrnn.pt" --encoded "$RUNS/encoded" --out "$RUNS/controller.npz" --generations "$GENERATIONS"
$WM eval-agent --controller "$RUNS/controller.npz" --vae "$RUNS/vae_z32.pt" --mdnrnn "$RUNS/mdnrnn.pt" \
  --episodes "$EPISODES" --num-envs 2 --seed 1000 | tail -1 > "$RUNS/controller_eval.json"
$WM tau-sweep --vae "$RUNS/vae_z32.pt" --mdnrnn "$RUNS/mdnrnn.pt" --encoded "$RUNS/encoded" \
  --out "$RUNS/tau_sweep.json" --taus 0.5 1.0 1.3 --generations 15 --population 32 --rollouts 8 --real-episodes 6
# the paper's fix for a dream the controller exploits: ROUNDS rounds (this course ran 2) of collecting real episodes with the controller
# (plus noise), training M on them too, and evolving a new controller in the new dream
for round in $(seq 1 "${ROUNDS:-2}"); do
  python scripts/iterate_carracing.py "$RUNS" "$round"
  $WM eval-agent --controller "$RUNS/controller_iter$round.npz" --vae "$RUNS/vae_z32.pt" \
    --mdnrnn "$RUNS/mdnrnn_iter$round.pt" --episodes "$EPISODES" --num-envs 2 --seed 1000 | tail -1 > "$RUNS/controller_iter${round}_eval.json"
done
python scripts/ship_carracing_controller.py "$RUNS"
