"""One round of the paper's iterative training on CarRacing (wmcourse.experiments.carracing.run_round).

    python scripts/carracing_round.py [RUNS_DIR] [ROUND]     (default runs/CarRacing-v3, round 1)
"""

import sys

from wmcourse.experiments.carracing import run_round

run_round(sys.argv[1] if len(sys.argv) > 1 else "runs/CarRacing-v3", int(sys.argv[2]) if len(sys.argv) > 2 else 1)
