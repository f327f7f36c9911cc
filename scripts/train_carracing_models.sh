#!/usr/bin/env bash
# Remake the shipped CarRacing models of notebooks 01-03 (real rollouts, the VAEs, their held-out scores, the MDN-RNN):
# the first stages of wmcourse.experiments.carracing (resumable). Usage: bash scripts/train_carracing_models.sh [RUNS_DIR] [OPTIONS]
set -euo pipefail; exec python -m wmcourse pipeline carracing --runs "${1:-runs/CarRacing-v3}" --stop-after train-mdnrnn "${@:2}"
