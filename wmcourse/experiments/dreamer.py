"""The Dreamer experiment (notebook 08): train the minimal Dreamer agent from nothing, resumably, and write its
learning curve and the trained agent.

    python -m wmcourse dreamer --env CartPole-v1 --steps 50000 --out data/dreamer_cartpole.json

The settings are wmcourse.dreamer.agent.DreamerConfig (its defaults are the shipped run's); checkpoints go to a run
folder (default runs/dreamer/ENV-seedN), so the same command continues an interrupted run. Inside data/, the
results and the agent are recorded in the manifest with the command that made them.
"""

from __future__ import annotations

import shlex
from dataclasses import fields
from pathlib import Path

from ..dreamer import agent as dreamer
from ..dreamer import train as dreamer_training
from ..dreamer.agent import DreamerConfig

OUT = "runs/dreamer/dreamer_cartpole.json"


def default_run_dir(config: DreamerConfig) -> str:
    return f"runs/dreamer/{config.env_id}-seed{config.seed}"


def command(config: DreamerConfig, out: str | Path, run_dir: str | Path | None = None) -> str:
    """The command line that makes this run: the settings that differ from DreamerConfig's defaults."""
    default = DreamerConfig()
    options = [f"--{f.name.replace('_', '-')} {getattr(config, f.name)}" for f in fields(config)
               if f.name not in ("env_id", "steps", "seed", "rssm")
                  and getattr(config, f.name) != getattr(default, f.name)]
    options += [f"--seed {config.seed}"] if config.seed else []
    return " ".join([f"python -m wmcourse dreamer --env {config.env_id} --steps {config.steps}", *options,
                     f"--out {shlex.quote(str(out))}"]
                    + ([f"--run-dir {shlex.quote(str(run_dir))}"] if run_dir else []))


def run(config: DreamerConfig | None = None, out: str | Path = OUT, run_dir: str | Path | None = None,
        resume: bool = True, log=print) -> tuple[dict, list[Path]]:
    """Train (or resume) the agent for config.steps real steps; write the results to `out` and the agent beside
    it. Returns (results, the paths written). config None: DreamerConfig's defaults (the shipped run)."""
    config = config or DreamerConfig()
    folder = run_dir or default_run_dir(config)
    log(f"Dreamer on {config.env_id} for {config.steps:,} real steps; parameters "
        f"{dreamer.Dreamer(config).parameter_counts()}; checkpoints in {folder} (rerun the same command to resume)")
    results = dreamer_training.train(config, folder, resume=resume, log=log)
    paths = dreamer_training.write_results(results, out, folder, command(config, out, run_dir))
    return results, paths
