#!/usr/bin/env bash
# Remake the shipped CarRacing models of notebooks 01-03 from nothing: collect real rollouts, train the VAEs
# (the paper's z=32, four small ones for the latent-size comparison, a beta sweep), encode, train the MDN-RNN.
# Every step resumes if interrupted (rerun the same command). On a 2-core CPU with the defaults it takes
# about 45 minutes; on a machine with many cores or a GPU, raise NUM_ENVS and set PARALLEL=1. Usage:
#   bash scripts/train_carracing_models.sh [RUNS_DIR]      e.g. EPISODES=256 NUM_ENVS=16 PARALLEL=1 bash ...
set -euo pipefail
RUNS=${1:-runs/CarRacing-v3}
NUM_ENVS=${NUM_ENVS:-2}
EPISODES=${EPISODES:-64}
VAE_EPOCHS=${VAE_EPOCHS:-3}
SMALL_EPOCHS=${SMALL_EPOCHS:-2}
BETA_EPOCHS=${BETA_EPOCHS:-1}
PARALLEL=${PARALLEL:-0}  # 1: train the VAEs side by side (many cores or a GPU)
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # torch threads that spin starve each other on a busy CPU
WM="python -m wmcourse"
bg() { if [ "$PARALLEL" = 1 ]; then "$@" & else "$@"; fi; }

# 1. real data: training rollouts (pilot and walk shards alternate) and a held-out set with another seed
$WM collect --env CarRacing-v3 --episodes "$EPISODES" --episodes-per-shard 16 --num-envs "$NUM_ENVS" --policy mix --seed 0 --out "$RUNS/rollouts" ${MAX_STEPS:+--max-steps $MAX_STEPS}
$WM collect --env CarRacing-v3 --episodes 4 --episodes-per-shard 4 --num-envs 4 --policy mix --seed 1 --out "$RUNS/heldout" ${MAX_STEPS:+--max-steps $MAX_STEPS}

# 2. V: the paper's VAE, and in parallel the small ones (half width) and a beta sweep without free bits
bg $WM train-vae --rollouts "$RUNS/rollouts" --z 32 --epochs "$VAE_EPOCHS" --out "$RUNS/vae_z32.pt" --ship "$RUNS/ship/vae_carracing_z32.pt"
for z in 4 8 16 32; do
  bg $WM train-vae --rollouts "$RUNS/rollouts" --z $z --width 0.5 --epochs "$SMALL_EPOCHS" --out "$RUNS/vae_small_z$z.pt" --ship "$RUNS/ship/vae_carracing_small_z$z.pt"
done
for beta in 0.25 1 4; do
  bg $WM train-vae --rollouts "$RUNS/rollouts" --z 32 --width 0.5 --beta $beta --kl-tolerance 0 --epochs "$BETA_EPOCHS" --out "$RUNS/vae_beta$beta.pt"
done
wait

# 3. measured on the held-out rollouts
for f in "$RUNS"/ship/vae_carracing_*.pt "$RUNS"/vae_beta*.pt; do
  $WM eval-vae --vae "$f" --rollouts "$RUNS/heldout"
done | tee "$RUNS/ship/vae_eval.jsonl"

# 4. M: encode every episode with the paper's VAE and train the MDN-RNN with reward and done heads
$WM encode --vae "$RUNS/vae_z32.pt" --rollouts "$RUNS/rollouts" --out "$RUNS/encoded"
$WM encode --vae "$RUNS/vae_z32.pt" --rollouts "$RUNS/heldout" --out "$RUNS/heldout_encoded"
$WM train-mdnrnn --data "$RUNS/encoded" --out "$RUNS/mdnrnn.pt" --epochs 100 --seq-len 200 --batch-size 32 --predict-reward --predict-done
