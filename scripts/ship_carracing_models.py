"""Ship the CarRacing models (V, M, held-out rollouts) into data/ (carracing_experiment.ship_models).

    python scripts/ship_carracing_models.py [RUNS_DIR]      (default runs/CarRacing-v3)
"""

import sys

from wmcourse.experiments.carracing import ship_models

ship_models(sys.argv[1] if len(sys.argv) > 1 else "runs/CarRacing-v3")
