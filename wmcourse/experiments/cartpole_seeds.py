"""The CartPole table once per seed, one row at a time, and its summary over seeds (notebooks 07 and 08).

A sweep over seeds runs each row of the table (experiments.cartpole: the random policy, each variant, DQN)
for every seed, each row in its own file (run_dir/seedN/rows/NAME.json), so several processes can share one
sweep and a stopped one resumes; variants of one seed that share their round 0 share it on disk
(DiskRound0Cache). `over_seeds` sums the runs up: every row's real (and dream) score as a spread across seeds;
`write_over_seeds` writes it (cartpole.load_over_seeds reads the shipped one).

    python -m wmcourse cartpole --seeds 0 1 2 3 4 --out data/cartpole_seeds.json
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import atomic_write_text
from ..errors import SettingsError
from ..worldmodels import cartpole as cp
from .cartpole import (
    FAILURE_VARIANT,
    FIXED_VARIANT,
    RUN_DIR,
    ExperimentConfig,
    RoundResult,
    random_baseline,
    run_dqn,
    run_variant,
    seeds_command,
    variant_row,
)
from .over_seeds import curve_spread, spread

DEFAULT = ExperimentConfig()


ROW_NAMES_FIRST = ("random", "random_head", "random_rule", "random_all", "dqn")  # cheap rows first: every seed


def row_order(config: ExperimentConfig = DEFAULT) -> list[str]:
    """The rows of the table in the order a sweep over seeds runs them: the cheap ones (one round each, and
    DQN) for every seed first, then the fixed loop (FIXED_VARIANT), then the other iterative loops, each for
    every seed, so a sweep cut short still has whole rows."""
    names = ["random", *(v.name for v in config.variants), "dqn"]
    first = [n for n in (*ROW_NAMES_FIRST, FIXED_VARIANT) if n in names]
    return first + [n for n in names if n not in first]


class DiskRound0Cache:
    """run_variant's round-0 cache kept on disk (M, C's parameters, the data and the scores), so a second
    process, or a rerun, reuses a round 0 that another variant of the same seed already trained."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _stem(self, key: tuple) -> Path:
        (done_head, features, tau, first_steps, train_steps, *search), seed = key
        return self.folder / f"seed{seed}" / (f"round0_{'head' if done_head else 'rule'}_{features.replace('+', '_')}"
                                              f"_tau{tau:g}_{first_steps}_{train_steps}"
                                              + "".join(f"_search{s}" for s in search))

    def __contains__(self, key: tuple) -> bool:
        return self._stem(key).with_suffix(".json").exists()

    def __getitem__(self, key: tuple) -> RoundResult:
        stem = self._stem(key)
        summary = json.loads(stem.with_suffix(".json").read_text())
        with np.load(stem.with_suffix(".npz")) as f:
            params = f["params"]
        return RoundResult(**summary, model=cp.load_world_model(stem.with_suffix(".pt")), params=params,
                           data=cp.Episodes.load(f"{stem}_data.npz"))

    def __setitem__(self, key: tuple, result: RoundResult) -> None:
        stem = self._stem(key)
        stem.parent.mkdir(parents=True, exist_ok=True)
        cp.save_world_model(result.model, stem.with_suffix(".pt"))
        np.savez(stem.with_suffix(".npz"), params=result.params)
        result.data.save(f"{stem}_data.npz")
        atomic_write_text(stem.with_suffix(".json"), json.dumps(result.summary()))  # last: marks the entry complete


def run_row(name: str, config: ExperimentConfig, run_dir: str | Path = RUN_DIR, progress: bool = False) -> dict:
    """One row of the table for config.seed (what run_experiment puts in its rows; DQN's row also carries
    its learning curve), written to run_dir/seedN/rows/NAME.json; read from there if it already is."""
    out = Path(run_dir) / f"seed{config.seed}" / "rows" / f"{name}.json"
    if out.exists():
        return json.loads(out.read_text())
    torch.set_num_threads(1)
    if name == "random":
        row = random_baseline(config)
    elif name == "dqn":
        _, row, curve = run_dqn(config, progress)
        row["curve"] = curve
    else:
        variant = next(v for v in config.variants if v.name == name)
        row = variant_row(variant, run_variant(variant, config, DiskRound0Cache(run_dir), progress))
    row["seed"] = config.seed
    atomic_write_text(out, json.dumps(row, indent=1) + "\n")
    return row


def run_rows(seeds: list[int], run_dir: str | Path = RUN_DIR, config: ExperimentConfig = DEFAULT,
             progress: bool = True) -> None:
    """Every row of the table for every seed, in row_order (each row for all seeds before the next row).
    Rows already written are skipped, and a row another process is running (its .claim file exists) is left
    to it, so several processes can share one sweep and a stopped sweep resumes (after a crash, delete the
    .claim files of rows that have no .json, or they stay unrun)."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise SettingsError(f"Need distinct seeds, got {seeds}.")
    for name in row_order(config):
        for seed in seeds:
            folder = Path(run_dir) / f"seed{seed}" / "rows"
            if (folder / f"{name}.json").exists():
                continue
            folder.mkdir(parents=True, exist_ok=True)
            try:
                claim = os.open(folder / f"{name}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                continue
            os.close(claim)
            started = time.perf_counter()
            run_row(name, replace(config, seed=seed), run_dir, progress=False)
            if progress:
                print(f"seed {seed} {name}: {time.perf_counter() - started:.0f} s", flush=True)


def collect_runs(seeds: list[int], run_dir: str | Path = RUN_DIR, config: ExperimentConfig = DEFAULT) -> list[dict]:
    """The rows written by run_rows, one run dict per seed (run_experiment's layout) for over_seeds;
    a row not yet written for a seed is simply absent from that seed's run."""
    runs = []
    for seed in seeds:
        folder = Path(run_dir) / f"seed{seed}" / "rows"
        rows = [json.loads((folder / f"{n}.json").read_text())
                for n in ["random", *(v.name for v in config.variants), "dqn"] if (folder / f"{n}.json").exists()]
        runs.append({"env": cp.ENV_ID, "budget": config.budget, "seed": seed, "command": row_command(seed, run_dir),
                     "config": {"controller": asdict(config.controller), "dqn": asdict(config.dqn),
                                "eval_episodes": config.eval_episodes, "dream_episodes": config.dream_episodes},
                     "rows": rows, "fixed_variant": FIXED_VARIANT, "failure_variant": FAILURE_VARIANT,
                     "seconds": sum(r.get("seconds") or 0.0 for r in rows)})
    return runs


def row_command(seed: int, run_dir: str | Path = RUN_DIR) -> str:
    extra = "" if Path(run_dir) == Path(RUN_DIR) else f" --run-dir {run_dir}"
    return f"python -m wmcourse cartpole --seeds {seed}{extra} --rows-only"


def _dqn_curve(run: dict, row: dict) -> list[dict] | None:
    return row.get("curve") or run.get("curves", {}).get("dqn")


def over_seeds(runs: list[dict]) -> dict:
    """The table over seeds from one run per seed (run_experiment's results, or collect_runs'): for every row
    its real (and dream) score as a spread across the seeds that have it (each seed's score is the mean over
    its real episodes), every round of every loop, and the learning curves of the fixed World Model and of
    DQN with their spread."""
    if not runs:
        raise SettingsError("No runs to summarise.")
    names: list[str] = []
    for run in runs:
        names += [row["name"] for row in run["rows"] if row["name"] not in names]
    rows, curves = [], {}
    fixed, failure = runs[0]["fixed_variant"], runs[0]["failure_variant"]
    for name in names:
        have = [(run, row) for run in runs for row in run["rows"] if row["name"] == name]
        seeds = [run["seed"] for run, _ in have]
        per_seed = [row for _, row in have]
        first = per_seed[0]
        if any(p["steps"] != first["steps"] or len(p.get("rounds", ())) != len(first.get("rounds", ()))
               for p in per_seed):
            raise SettingsError(f"The seeds' {name!r} rows were made with different settings.")
        row = {"name": name, "label": first["label"], "steps": first["steps"], "episodes": first["episodes"],
               "seeds": seeds, "real": spread([p["real_mean"] for p in per_seed], seeds),
               "dream": None if first["dream_mean"] is None else spread([p["dream_mean"] for p in per_seed], seeds)}
        if "rounds" in first:
            row["rounds"] = [{"steps": first["rounds"][k]["steps"],
                              "real": spread([p["rounds"][k]["real_mean"] for p in per_seed], seeds),
                              "dream": spread([p["rounds"][k]["dream_mean"] for p in per_seed], seeds)}
                             for k in range(len(first["rounds"]))]
            row["curve"] = curve_spread([[{"steps": r["steps"], "mean": r["real_mean"]} for r in p["rounds"]]
                                         for p in per_seed], seeds)
            if name == fixed:
                curves["wm_iterative"] = row["curve"]
        if name == "dqn":
            curves["dqn"] = curve_spread([_dqn_curve(run, r) for run, r in have], seeds)
        rows.append(row)
    return {"env": runs[0]["env"], "budget": runs[0]["budget"], "seeds": [r["seed"] for r in runs],
            "config": runs[0]["config"], "rows": rows, "curves": curves, "fixed_variant": fixed,
            "failure_variant": failure, "seed_commands": {str(r["seed"]): r["command"] for r in runs},
            "seconds": {str(r["seed"]): round(r["seconds"], 1) for r in runs}}


def write_over_seeds(runs: list[dict], out: str | Path, run_dir: str | Path = RUN_DIR, record: bool = True) -> dict:
    """Write over_seeds(runs) to `out` (JSON) and each seed's run beside it (out without .json/seedN.json);
    in data/, record them all in the manifest with their commands."""
    from ..artefacts import data_dir
    from ..artefacts import record as record_artefact

    summary = over_seeds(runs)
    summary["command"] = seeds_command(summary["seeds"], out, run_dir)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    per_seed = out.with_suffix("")  # each seed's own rows, beside the summary: cartpole_seeds/seedN.json
    per_seed.mkdir(exist_ok=True)
    for run in runs:
        (per_seed / f"seed{run['seed']}.json").write_text(json.dumps(run, indent=1) + "\n")
    out.write_text(json.dumps(summary, indent=1) + "\n")
    if record and out.parent.resolve() == data_dir().resolve():
        for run in runs:
            record_artefact(per_seed / f"seed{run['seed']}.json", run["command"], run["seed"],
                            {row["name"]: round(row["real_mean"], 1) for row in run["rows"]})
        by_name = {row["name"]: row for row in summary["rows"]}
        figures = {name: {"real_mean": round(row["real"]["mean"], 1), "real_std": round(row["real"]["std"], 1),
                          "real_min": row["real"]["min"], "real_max": row["real"]["max"]}
                   for name, row in by_name.items()}
        record_artefact(out, summary["command"], None, {"seeds": summary["seeds"], **figures})
    return summary
