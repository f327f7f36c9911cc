"""Notebook 07: how much of the CartPole table's spread across seeds comes from the controller search.

For the failure row (random data, learned done head) of the given seeds, M and its data are kept (the round 0
that `python -m wmcourse cartpole --seeds ...` cached in runs/cartpole/seedN/) and C is evolved again with
other CMA-ES seeds; each C is scored in 100 dreams and over 100 real episodes, as in the table (search seed
N of seed N is the table's own C).

    python scripts/cartpole_search_spread.py --out data/cartpole_search_spread.json --seeds 0 3 --search-seeds 1 2
"""

import argparse
import json
from dataclasses import replace
from pathlib import Path

import torch

from wmcourse.artefacts import data_dir, record
from wmcourse.experiments import cartpole as ce
from wmcourse.experiments import cartpole_seeds

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=f"data/{ce.SEARCH_NAME}")
    parser.add_argument("--run-dir", default=ce.RUN_DIR)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--search-seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    args = parser.parse_args()
    command = (f"python scripts/cartpole_search_spread.py --out {args.out} --seeds {' '.join(map(str, args.seeds))} "
               f"--search-seeds {' '.join(map(str, args.search_seeds))}")
    torch.set_num_threads(1)
    config = ce.ExperimentConfig()
    variant = next(v for v in config.variants if v.name == ce.FAILURE_VARIANT)
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {"variant": variant.name, "command": command, "runs": {}}
    for seed in args.seeds:
        if str(seed) in results["runs"]:
            continue
        cached = cartpole_seeds.DiskRound0Cache(args.run_dir)[(variant.round0_key(), seed)]
        results["runs"][str(seed)] = ce.search_spread(cached.model, cached.data, variant, replace(config, seed=seed),
                                                      args.search_seeds)
        print(seed, results["runs"][str(seed)], flush=True)
        out.write_text(json.dumps(results, indent=1) + "\n")
    if out.parent.resolve() == data_dir().resolve():
        record(out, command, None, {s: [round(r["real_mean"], 1) for r in rows] for s, rows in results["runs"].items()})
