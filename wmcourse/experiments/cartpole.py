"""The CartPole experiment: a World Model that fails, measured, then fixed, next to DQN on the same budget.

Every row of the table is one run from nothing, with its own real steps counted:

    round 0   collect first_steps real steps with a uniformly random policy
    each round r = 0 .. rounds - 1:
              train M on all the real data so far (from scratch)
              evolve C with CMA-ES inside M's dream only
              score C: in the dream (100 dreams) and in reality (episodes not counted in the budget)
              if another round follows: collect round_steps more real steps with C (epsilon-random actions)

rounds = 1 is the paper's recipe on random data; rounds > 1 is the paper's own remedy, the iterative loop.
Real steps used = every real step that went into M's data (the scoring episodes are a measurement).
`run_experiment` runs every variant and DQN, and writes the table, the learning curves and small
checkpoints: `python -m wmcourse cartpole --out data/cartpole_results.json`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..baselines import dqn
from ..checkpoint import atomic_write_text
from ..real.evaluate import evaluate
from ..worldmodels import cartpole as cp
from ..worldmodels import controller, dream, evolve
from .over_seeds import curve_spread, format_spread, spread

COMMAND = "python -m wmcourse cartpole --out data/cartpole_results.json"
RESULTS_NAME = "cartpole_results.json"
FAILURE_MODEL, FAILURE_CONTROLLER = "cartpole_wm_random.pt", "cartpole_c_random.npz"
FIXED_MODEL, FIXED_CONTROLLER = "cartpole_wm_iterative.pt", "cartpole_c_iterative.npz"
RANDOM_DATA, ITERATIVE_DATA = "cartpole_data_random.npz", "cartpole_data_iterative.npz"
DQN_WEIGHTS = "cartpole_dqn.pt"
SEEDS_NAME = "cartpole_seeds.json"
RUN_DIR = "runs/cartpole"


@dataclass(frozen=True)
class Variant:
    """One row of the table: how M is built, what C reads, and how the real data is gathered."""

    name: str
    label: str
    done_head: bool = True
    features: str = "state+memory"   # the paper's C reads [z, h]
    tau: float = 1.0
    first_steps: int = 10_000        # random-policy steps in round 0
    rounds: int = 1
    round_steps: int = 10_000        # steps collected with the current C before each later round
    epsilon: float = 0.1             # share of random actions while collecting with C
    train_steps: int = 1500          # M's optimizer steps per round
    search_steps: int | None = None  # dream length while CMA-ES searches (None: the task's 500; scoring always 500)

    @property
    def budget(self) -> int:
        return self.first_steps + (self.rounds - 1) * self.round_steps

    def round0_key(self) -> tuple:
        """The settings that decide round 0 (two variants that share them share their round 0)."""
        return (self.done_head, self.features, self.tau, self.first_steps, self.train_steps) + (
            (self.search_steps,) if self.search_steps else ())  # the shipped runs' keys stay as they were


VARIANTS: tuple[Variant, ...] = (
    Variant("random_rule", "random data, no done head (the task's rule on M's predicted state)", done_head=False),
    Variant("random_head", "random data, learned done head"),
    Variant("random_all", "random data, learned done head, the whole budget", first_steps=50_000),
    Variant("iterative_rule", "iterative collection, no done head", done_head=False, rounds=5),
    Variant("iterative_head", "iterative collection, learned done head", rounds=5),
    Variant("iterative_tau", "iterative collection, learned done head, tau = 1.3", tau=1.3, rounds=5),
    Variant("iterative_long", "iterative collection, learned done head, C searched in 2,000-step dreams", rounds=5,
            search_steps=2000),
)
FIXED_VARIANT = "iterative_head"     # its final M and C are shipped, and its rounds are the WM learning curve
FAILURE_VARIANT = "random_head"      # its M and C are shipped as the failure to explain


@dataclass(frozen=True)
class ExperimentConfig:
    variants: tuple[Variant, ...] = VARIANTS
    controller: cp.ControllerSettings = cp.ControllerSettings(generations=30, rollouts=8)
    dqn: dqn.DQNConfig = dqn.DQNConfig()
    budget: int = 50_000             # real steps allowed to every learner
    eval_episodes: int = 100         # every real score: each row, each round, each point of a learning curve
    dream_episodes: int = 100
    dqn_eval_every: int = 5000
    seed: int = 0


def fast_config(seed: int = 0) -> ExperimentConfig:
    """A tiny version of the experiment, the same code paths (for tests and WMCOURSE_FAST notebooks)."""
    small = dict(first_steps=600, round_steps=400, train_steps=10)
    variants = (replace(VARIANTS[1], **small), replace(VARIANTS[4], **small, rounds=2))
    settings = cp.ControllerSettings(population=8, rollouts=2, generations=2, max_steps=100)
    return ExperimentConfig(variants=variants, controller=settings,
                            dqn=dqn.DQNConfig(steps=1500, learning_starts=500, train_freq=250, gradient_steps=4),
                            budget=1500, eval_episodes=3, dream_episodes=4, dqn_eval_every=750,
                            seed=seed)


@dataclass
class RoundResult:
    round: int
    steps: int                      # real steps in M's data so far
    dream_mean: float
    dream_std: float
    real_mean: float
    real_std: float
    episodes: int
    seconds: float
    model: cp.StateWorldModel | None = field(default=None, repr=False)
    params: np.ndarray | None = field(default=None, repr=False)
    data: cp.Episodes | None = field(default=None, repr=False)

    def summary(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("model", "params", "data")}


def evolve_and_dream_score(model: cp.StateWorldModel, start_states: np.ndarray, settings: cp.ControllerSettings,
                           dreams: int, seed: int, search_steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Evolve C with CMA-ES entirely inside M's dream, then score it in `dreams` fresh dreams (a new dream
    seeded alike): (C's parameters, its dream returns (dreams,)).

    search_steps lets the dreams of the search run longer than the task's cap (settings.max_steps): at the cap
    every decent controller scores the same, so the search cannot rank them; longer dreams keep ranking them
    by how long they stay up. The returned dream score is always over settings.max_steps."""
    search = replace(settings, max_steps=search_steps) if search_steps else settings
    world, c = cp.controller_dream(model, start_states, search, seed)
    params = evolve.evolve_in_dream(world, c, cp.evolve_settings(settings, seed), progress=False).best_params
    params = params.astype(np.float32)
    world, _ = cp.controller_dream(model, start_states, settings, seed)
    return params, dream.controller_returns(world, params, c, dreams)


def _score_round(r: int, data: cp.Episodes, variant: Variant, config: ExperimentConfig, seed: int,
                 started: float) -> RoundResult:
    """Train M on `data`, evolve C in its dream, score C in the dream and in reality."""
    settings = replace(config.controller, features=variant.features, tau=variant.tau)
    wm_config = cp.WorldModelConfig(done_head=variant.done_head, train_steps=variant.train_steps)
    model, _ = cp.train_world_model(data, wm_config, seed=seed)
    params, dreamed = evolve_and_dream_score(model, data.first_states, settings, config.dream_episodes, seed,
                                             variant.search_steps)
    real = evaluate(cp.ENV_ID, cp.WorldModelPolicy(model, params, variant.features), config.eval_episodes,
                    seed=100_000 + seed, num_envs=10, progress=False)
    return RoundResult(r, data.num_steps, float(dreamed.mean()), float(dreamed.std()), real.mean, real.std,
                       config.eval_episodes, time.perf_counter() - started, model, params, data)


def run_variant(variant: Variant, config: ExperimentConfig = ExperimentConfig(),
                round0_cache: dict | None = None, progress: bool = True) -> list[RoundResult]:
    """Run one variant's rounds (see the module docstring); returns one RoundResult per round, each scored
    over config.eval_episodes real episodes. Variants that share their round 0 (Variant.round0_key) share it
    through round0_cache."""
    if variant.budget > config.budget:
        raise ValueError(f"Variant {variant.name!r} would use {variant.budget:,} real steps, over the budget of "
                         f"{config.budget:,}.")
    if variant.features not in cp.FEATURES:
        raise ValueError(f"Unknown features {variant.features!r}: expected one of {cp.FEATURES}.")
    seed, results = config.seed, []
    started = time.perf_counter()
    for r in tqdm(range(variant.rounds), desc=variant.name, unit="round", disable=not progress):
        key = (variant.round0_key(), seed)
        if r == 0 and round0_cache is not None and key in round0_cache:
            result = round0_cache[key]
        else:
            data = cp.collect_episodes(None, variant.first_steps, seed=seed) if r == 0 else results[-1].data
            if r > 0:
                prev = results[-1]
                policy = cp.WorldModelPolicy(prev.model, prev.params, variant.features)
                more = cp.collect_episodes(policy, variant.round_steps, seed=seed + 1000 * r, epsilon=variant.epsilon)
                data = cp.Episodes.join([data, more])
            result = _score_round(r, data, variant, config, seed + r, started)
            if r == 0 and round0_cache is not None:
                round0_cache[key] = result
        results.append(result)
    return results


def variant_row(variant: Variant, rounds: list[RoundResult]) -> dict:
    """A variant's row of the table: its last round's scores, and every round's."""
    last = rounds[-1]
    return {"name": variant.name, "label": variant.label, "dream_mean": last.dream_mean,
            "dream_std": last.dream_std, "real_mean": last.real_mean, "real_std": last.real_std,
            "steps": last.steps, "episodes": last.episodes, "seconds": last.seconds,
            "rounds": [r.summary() for r in rounds], "variant": asdict(variant)}


def random_baseline(config: ExperimentConfig) -> dict:
    result = evaluate(cp.ENV_ID, None, config.eval_episodes, seed=100_000 + config.seed, num_envs=10, progress=False)
    return {"name": "random", "label": "random policy (no learning)", "dream_mean": None, "dream_std": None,
            "real_mean": result.mean, "real_std": result.std, "steps": 0, "episodes": config.eval_episodes}


def run_dqn(config: ExperimentConfig, progress: bool = True) -> tuple[torch.nn.Module, dict, list[dict]]:
    """DQN on the same real budget: (Q, table row, learning curve)."""
    started = time.perf_counter()
    dqn_config = replace(config.dqn, steps=config.budget)
    q, curve = dqn.train_dqn(cp.ENV_ID, dqn_config, seed=config.seed, eval_every=config.dqn_eval_every,
                             eval_episodes=config.eval_episodes, progress=progress)
    real = evaluate(cp.ENV_ID, dqn.GreedyPolicy(q), config.eval_episodes, seed=100_000 + config.seed, num_envs=10,
                    progress=False)
    row = {"name": "dqn", "label": "DQN (model-free, rl-zoo settings)", "dream_mean": None, "dream_std": None,
           "real_mean": real.mean, "real_std": real.std, "steps": dqn_config.steps, "episodes": config.eval_episodes,
           "seconds": time.perf_counter() - started}
    return q, row, curve


def run_experiment(config: ExperimentConfig = ExperimentConfig(), out: str | Path | None = None,
                   progress: bool = True, record: bool = True, command: str = COMMAND) -> dict:
    """Run every variant and DQN; with `out`, write the results there and the checkpoints beside it
    (recorded in the manifest when that folder is data/). Returns the results (see load_cartpole_results)."""
    torch.set_num_threads(1)
    started = time.perf_counter()
    cache: dict = {}
    rows, runs = [random_baseline(config)], {}
    for variant in config.variants:
        rounds = run_variant(variant, config, cache, progress)
        runs[variant.name] = rounds
        rows.append(variant_row(variant, rounds))
    q, dqn_row, dqn_curve = run_dqn(config, progress)
    rows.append(dqn_row)
    fixed = FIXED_VARIANT if FIXED_VARIANT in runs else config.variants[-1].name
    failure = FAILURE_VARIANT if FAILURE_VARIANT in runs else config.variants[0].name
    results = {
        "env": cp.ENV_ID, "budget": config.budget, "seed": config.seed, "command": command,
        "config": {"controller": asdict(config.controller), "dqn": asdict(config.dqn),
                   "eval_episodes": config.eval_episodes, "dream_episodes": config.dream_episodes},
        "rows": rows,
        "curves": {"wm_iterative": [{"steps": r.steps, "mean": r.real_mean, "std": r.real_std} for r in runs[fixed]],
                   "dqn": dqn_curve},
        "fixed_variant": fixed, "failure_variant": failure,
        "seconds": time.perf_counter() - started,
    }
    if out is not None:
        _write(results, Path(out), runs[failure][0], runs[fixed][-1], q, record)
    return results


def _write(results: dict, out: Path, failure: RoundResult, fixed: RoundResult, q: torch.nn.Module,
           record: bool) -> None:
    from ..artefacts import data_dir
    from ..artefacts import record as record_artefact

    folder = out.parent
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        FAILURE_MODEL: lambda p: cp.save_world_model(failure.model, p),
        FAILURE_CONTROLLER: lambda p: _save_controller(p, failure, _features(results, "failure")),
        FIXED_MODEL: lambda p: cp.save_world_model(fixed.model, p),
        FIXED_CONTROLLER: lambda p: _save_controller(p, fixed, _features(results, "fixed")),
        RANDOM_DATA: lambda p: failure.data.save(p),
        ITERATIVE_DATA: lambda p: fixed.data.save(p),
        DQN_WEIGHTS: lambda p: torch.save(q.state_dict(), p),
    }
    for name, write in files.items():
        write(folder / name)
    atomic_write_text(out, json.dumps(results, indent=1) + "\n")
    if not record or folder.resolve() != data_dir().resolve():
        return
    by_name = {row["name"]: row for row in results["rows"]}
    fixed_row, failure_row = by_name[results["fixed_variant"]], by_name[results["failure_variant"]]
    figures = {"failure": {k: failure_row[k] for k in ("dream_mean", "real_mean", "steps")},
               "fixed": {k: fixed_row[k] for k in ("dream_mean", "real_mean", "steps")},
               "dqn": {k: by_name["dqn"][k] for k in ("real_mean", "steps")}}
    record_artefact(out, results["command"], results["seed"], figures)
    for name in files:
        record_artefact(folder / name, results["command"], results["seed"], figures)


# --- the table once per seed, one row at a time ---------------------------------------------------------

ROW_NAMES_FIRST = ("random", "random_head", "random_rule", "random_all", "dqn")  # cheap rows first: every seed


def row_order(config: ExperimentConfig = ExperimentConfig()) -> list[str]:
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


def run_rows(seeds: list[int], run_dir: str | Path = RUN_DIR, config: ExperimentConfig = ExperimentConfig(),
             progress: bool = True) -> None:
    """Every row of the table for every seed, in row_order (each row for all seeds before the next row).
    Rows already written are skipped, and a row another process is running (its .claim file exists) is left
    to it, so several processes can share one sweep and a stopped sweep resumes (after a crash, delete the
    .claim files of rows that have no .json, or they stay unrun)."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"Need distinct seeds, got {seeds}.")
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


def collect_runs(seeds: list[int], run_dir: str | Path = RUN_DIR, config: ExperimentConfig = ExperimentConfig()) -> list[dict]:
    """The rows written by run_rows, one run dict per seed (run_experiment's layout) for over_seeds;
    a row not yet written for a seed is simply absent from that seed's run."""
    runs = []
    for seed in seeds:
        folder = Path(run_dir) / f"seed{seed}" / "rows"
        rows = [json.loads((folder / f"{n}.json").read_text()) for n in ["random", *(v.name for v in config.variants), "dqn"]
                if (folder / f"{n}.json").exists()]
        runs.append({"env": cp.ENV_ID, "budget": config.budget, "seed": seed, "command": row_command(seed, run_dir),
                     "config": {"controller": asdict(config.controller), "dqn": asdict(config.dqn),
                                "eval_episodes": config.eval_episodes, "dream_episodes": config.dream_episodes},
                     "rows": rows, "fixed_variant": FIXED_VARIANT, "failure_variant": FAILURE_VARIANT,
                     "seconds": sum(r.get("seconds") or 0.0 for r in rows)})
    return runs


def row_command(seed: int, run_dir: str | Path = RUN_DIR) -> str:
    extra = "" if Path(run_dir) == Path(RUN_DIR) else f" --run-dir {run_dir}"
    return f"python -m wmcourse cartpole --seeds {seed}{extra} --rows-only"


SEARCH_NAME = "cartpole_search_spread.json"


def search_spread(model: cp.StateWorldModel, data: cp.Episodes, variant: Variant, config: ExperimentConfig,
                  search_seeds: list[int]) -> list[dict]:
    """How much of a row's spread is the search's: with M and its data fixed, evolve C again with other
    CMA-ES seeds (search seed config.seed is the table's own), and score each C in the dream and in reality
    as the table does. If every C dreams the cap while their real scores differ, the dream cannot choose
    between them, and re-scoring in more dreams cannot either."""
    settings = replace(config.controller, features=variant.features, tau=variant.tau)
    rows = []
    for s in search_seeds:
        params, dreamed = evolve_and_dream_score(model, data.first_states, settings, config.dream_episodes, s)
        real = evaluate(cp.ENV_ID, cp.WorldModelPolicy(model, params, variant.features), config.eval_episodes,
                        seed=100_000 + config.seed, num_envs=10, progress=False)
        rows.append({"search_seed": s, "dream_mean": float(dreamed.mean()), "real_mean": real.mean,
                     "real_std": real.std, "episodes": config.eval_episodes})
    return rows


def _dqn_curve(run: dict, row: dict) -> list[dict] | None:
    return row.get("curve") or run.get("curves", {}).get("dqn")


def over_seeds(runs: list[dict]) -> dict:
    """The table over seeds from one run per seed (run_experiment's results, or collect_runs'): for every row
    its real (and dream) score as a spread across the seeds that have it (each seed's score is the mean over
    its real episodes), every round of every loop, and the learning curves of the fixed World Model and of
    DQN with their spread."""
    if not runs:
        raise ValueError("No runs to summarise.")
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
            raise ValueError(f"The seeds' {name!r} rows were made with different settings.")
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


def seeds_command(seeds: list[int], out: str | Path, run_dir: str | Path = RUN_DIR) -> str:
    extra = "" if Path(run_dir) == Path(RUN_DIR) else f" --run-dir {run_dir}"
    return f"python -m wmcourse cartpole --seeds {' '.join(map(str, seeds))}{extra} --out {out}"


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
                          "real_min": row["real"]["min"], "real_max": row["real"]["max"]} for name, row in by_name.items()}
        record_artefact(out, summary["command"], None, {"seeds": summary["seeds"], **figures})
    return summary


def load_over_seeds(folder: str | Path | None = None) -> dict:
    """The table over seeds in data/cartpole_seeds.json (made by seeds_command)."""
    from ..artefacts import require

    path = require(SEEDS_NAME, seeds_command([0, 1, 2, 3, 4], f"data/{SEEDS_NAME}"), Path(folder) if folder else None)
    return json.loads(path.read_text())


SEARCH_COMMAND = ("python scripts/cartpole_search_spread.py --out data/cartpole_search_spread.json --seeds 0 3 "
                  "--search-seeds 1 2")


def load_search_spread(folder: str | Path | None = None) -> dict:
    """data/cartpole_search_spread.json: the failure row's M kept, C evolved again with other CMA-ES seeds
    (search_spread, run by SEARCH_COMMAND)."""
    from ..artefacts import require

    return json.loads(require(SEARCH_NAME, SEARCH_COMMAND, Path(folder) if folder else None).read_text())


CURVE_LABELS = {"wm_iterative": "World Model, iterative loop", "dqn": "DQN"}  # notebook 07's learning curves


def learning_curves(summary: dict, results: dict) -> dict[str, dict]:
    """Notebook 07's learning curves, for cartpole_plots.curves_over_seeds_plot: the World Model's iterative loop
    and DQN over seeds where the table over seeds (`summary`, load_over_seeds) has them, then, for those not run
    over seeds yet, the earlier single run (`results`, load_cartpole_results), labelled "(one run, seed N)"."""
    curves = {label: summary["curves"][key] for key, label in CURVE_LABELS.items() if key in summary["curves"]}
    curves.update({f"{label} (one run, seed {results['seed']})": curve_spread([results["curves"][key]], [results["seed"]])
                   for key, label in CURVE_LABELS.items() if key not in summary["curves"]})
    return curves


def format_seeds_table(summary: dict) -> str:
    """The table over seeds as Markdown: real score as mean ± std across seeds (min–max), then each seed's."""
    seeds = summary["seeds"]
    lines = ["| setup | real score over seeds: mean ± std (min–max) | " + " | ".join(f"seed {s}" for s in seeds)
             + " | real steps used |", "|---|---:|" + "---:|" * len(seeds) + "---:|"]
    for row in summary["rows"]:
        per = " | ".join(f"{row['real']['per_seed'][str(s)]:.1f}" if str(s) in row["real"]["per_seed"] else "-"
                         for s in seeds)
        lines.append(f"| {row['label']} | {format_spread(row['real'])} | {per} | {row['steps']:,} |")
    return "\n".join(lines)


def _save_controller(path: Path, result: RoundResult, features: str) -> Path:
    config = cp.ControllerSettings(features=features).controller_config(result.model.config.hidden)
    return controller.save_controller(path, result.params, config, features=features)


def _features(results: dict, which: str) -> str:
    name = results[f"{which}_variant"]
    return next(row["variant"]["features"] for row in results["rows"] if row["name"] == name)


# --- loading the shipped results ---------------------------------------------------------------------

def load_cartpole_results(folder: str | Path | None = None) -> dict:
    """The measured table and learning curves in data/cartpole_results.json (made by COMMAND)."""
    from ..artefacts import require

    path = require(RESULTS_NAME, COMMAND, Path(folder) if folder else None)
    return json.loads(path.read_text())


def load_shipped(which: str = "failure", folder: str | Path | None = None) -> tuple[cp.StateWorldModel, np.ndarray, str, cp.Episodes]:
    """(M, C's parameters, C's features, M's real training data) of the shipped "failure" or "fixed" agent."""
    from ..artefacts import require

    if which not in ("failure", "fixed"):
        raise ValueError(f"which must be 'failure' (random data) or 'fixed' (iterative loop), got {which!r}.")
    folder = Path(folder) if folder else None
    names = (FAILURE_MODEL, FAILURE_CONTROLLER, RANDOM_DATA) if which == "failure" else \
        (FIXED_MODEL, FIXED_CONTROLLER, ITERATIVE_DATA)
    model_path, controller_path, data_path = (require(n, COMMAND, folder) for n in names)
    params, _, details = controller.load_controller(controller_path)
    return cp.load_world_model(model_path), params, details["features"], cp.Episodes.load(data_path)


def load_shipped_dqn(folder: str | Path | None = None, hidden: int = 256) -> torch.nn.Module:
    from ..artefacts import require

    q = dqn.q_network(4, 2, hidden)
    q.load_state_dict(torch.load(require(DQN_WEIGHTS, COMMAND, Path(folder) if folder else None), weights_only=True))
    return q.eval()


def format_table(results: dict) -> str:
    """The measured table as Markdown: dream score, real score (mean +- std over the episodes) and real steps."""
    lines = ["| setup | dream score | real score | real steps used |", "|---|---:|---:|---:|"]
    for row in results["rows"]:
        dream = "-" if row["dream_mean"] is None else f"{row['dream_mean']:.1f} ± {row['dream_std']:.1f}"
        lines.append(f"| {row['label']} | {dream} | {row['real_mean']:.1f} ± {row['real_std']:.1f} | {row['steps']:,} |")
    return "\n".join(lines)
