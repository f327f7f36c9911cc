"""Ship the CarRacing controllers, their real scores and the tau sweep into data/.

    python scripts/ship_carracing_controller.py [RUNS_DIR]      (default runs/CarRacing-v3)

It runs carracing_experiment.ship_controllers.
"""

import sys

from wmcourse.experiments.carracing import ship_controllers

ship_controllers(sys.argv[1] if len(sys.argv) > 1 else "runs/CarRacing-v3")
