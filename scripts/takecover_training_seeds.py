"""Ship the Take Cover runs over training seeds side by side (data/takecover_training_seeds.json).

Each run is the whole pipeline from its own seed: new random rollouts, V, M and the controllers.

    python -m wmcourse takecover --out runs/TakeCover                                   # seed 0, every tau
    python -m wmcourse takecover --out runs/TakeCover_seed1 --seed 1 --taus 1.15 0.1  # the solved and the cheating tau
    python -m wmcourse takecover --out runs/TakeCover_seed2 --seed 2 --taus 1.15 0.1
    python scripts/takecover_training_seeds.py runs/TakeCover runs/TakeCover_seed1 runs/TakeCover_seed2 --fixed-policies

The same command plus `--rounds N` adds rounds of the paper's iterative training at tau 1.15 to a finished run,
and `--select 50` keeps the round whose controller lives longest over 50 held-out real episodes and scores it on
100 fresh ones (takecover.select_round). The summary keeps every run's rounds and choice, and spreads over the
seeds each round that every run has, and the kept rounds' fresh scores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from wmcourse import artefacts
from wmcourse.checkpoint import atomic_write_text
from wmcourse.experiments import takecover


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished `python -m wmcourse takecover` output folders")
    parser.add_argument("--out", type=Path, default=artefacts.data_dir() / takecover.SEEDS_NAME)
    parser.add_argument("--fixed-policies", action="store_true",
                        help="also measure how long the policies that see nothing live in each M's dream and in the "
                             "game (takecover.fixed_policy_rounds: about a minute per M)")
    args = parser.parse_args()
    summary = takecover.training_seed_summary(args.runs)
    if args.fixed_policies:
        for run, out in zip(summary["runs"], args.runs):
            run["fixed_policies"] = takecover.fixed_policy_rounds(out)
            for entry in run["fixed_policies"]:
                print(f"training seed {run['seed']}, M of round {entry['round']}: " + "; ".join(
                    f"{r['policy']} dream {r['dream_mean']:.0f}, real {r['real_mean']:.0f}" for r in entry["rows"]))
    for run in summary["runs"]:
        if "selection" in run:
            print(takecover.describe_selection(run["seed"], run["selection"]))
    atomic_write_text(args.out, json.dumps(summary, indent=1) + "\n")
    named = takecover.spreads_by_name(summary)
    for name, row in named.items():
        print(f"{name}: real {row['mean']:.1f} +- {row['std']:.1f} over training seeds {summary['seeds']} "
              f"({', '.join(f'{m:.1f}' for m in row['real_means'])}); above 750 on {row['solved']} of "
              f"{len(row['real_means'])}")
    if args.out.resolve().is_relative_to(artefacts.data_dir().resolve()):
        flags = " --fixed-policies" if args.fixed_policies else ""
        artefacts.record(args.out,
                         "python scripts/takecover_training_seeds.py " + " ".join(map(str, args.runs)) + flags,
                         seed=None, figures={name: {"mean": round(r["mean"], 1), "std": round(r["std"], 1)}
                                             for name, r in named.items()})
        print(f"recorded {args.out} in the manifest")


if __name__ == "__main__":
    main()
