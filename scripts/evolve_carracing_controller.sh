#!/usr/bin/env bash
# The controller stages of wmcourse.experiments.carracing (evolve in the dream, real score, tau sweep, the iterative rounds),
# then ship them into data/. Resumable. Usage: bash scripts/evolve_carracing_controller.sh [RUNS_DIR] [OPTIONS]
set -euo pipefail; python -m wmcourse pipeline carracing --runs "${1:-runs/CarRacing-v3}" "${@:2}" && python scripts/ship_carracing_controller.py "${1:-runs/CarRacing-v3}"
