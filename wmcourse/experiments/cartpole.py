"""The CartPole experiment: a World Model that fails, measured, then fixed, next to DQN on the same budget.

Every row of the table (a `Variant`, the table of variants) is one run from nothing, with its own real steps
counted; each of its rounds is one round of the World Models recipe (recipe.one_round):

    round 0   collect first_steps real steps with a uniformly random policy
    round r   collect round_steps more real steps with the last C (epsilon-random actions)
    each round: train M on all the real data so far (from scratch)
              evolve C with CMA-ES inside M's dream only
              score C: in the dream (100 dreams) and in reality (episodes not counted in the budget)

rounds = 1 is the paper's recipe on random data; rounds > 1 is the paper's own remedy, the iterative loop.
Real steps used = every real step that went into M's data (the scoring episodes are a measurement).
`run_experiment` runs every variant and DQN (the stages of a runner.Run), and writes the table, the learning
curves and small checkpoints: `python -m wmcourse cartpole --out data/cartpole_results.json`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..baselines import dqn
from ..checkpoint import atomic_write_text
from ..errors import SettingsError
from ..real.evaluate import evaluate
from ..worldmodels import cartpole as cp
from ..worldmodels import controller
from . import recipe
from .over_seeds import curve_spread, format_spread
from .runner import Run, Stage

COMMAND = "python -m wmcourse cartpole --out data/cartpole_results.json"
RESULTS_NAME = "cartpole_results.json"
FAILURE_MODEL, FAILURE_CONTROLLER = "cartpole_wm_random.pt", "cartpole_c_random.npz"
FIXED_MODEL, FIXED_CONTROLLER = "cartpole_wm_iterative.pt", "cartpole_c_iterative.npz"
RANDOM_DATA, ITERATIVE_DATA = "cartpole_data_random.npz", "cartpole_data_iterative.npz"
DQN_WEIGHTS = "cartpole_dqn.pt"
SEEDS_NAME = "cartpole_seeds.json"
RUN_DIR = "runs/cartpole"  # where a sweep over seeds keeps each seed's rows (experiments.cartpole_seeds)


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


_SMALL = dict(first_steps=600, round_steps=400, train_steps=10)
OVERLAYS = {  # named changes to the defaults (runner.overlay): "fast" is a tiny run of the same code paths
    "fast": {"variants": (replace(VARIANTS[1], **_SMALL), replace(VARIANTS[4], **_SMALL, rounds=2)),
             "controller": cp.ControllerSettings(population=8, rollouts=2, generations=2, max_steps=100),
             "dqn": dqn.DQNConfig(steps=1500, learning_starts=500, train_freq=250, gradient_steps=4),
             "budget": 1500, "eval_episodes": 3, "dream_episodes": 4, "dqn_eval_every": 750},
}


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


@dataclass
class CartPoleModel:
    """M of CartPole as a world model of the recipe (recipe.WorldModel): its dream from real start states, with
    the controller that reads `settings.features`, and that controller in the real game."""

    model: cp.StateWorldModel
    start_states: np.ndarray
    settings: cp.ControllerSettings
    env_id: str = cp.ENV_ID

    def dream(self, tau: float, max_steps: int, seed: int) -> tuple[cp.CartPoleDream, controller.ControllerConfig]:
        return cp.controller_dream(self.model, self.start_states, replace(self.settings, tau=tau, max_steps=max_steps),
                                   seed)

    def policy(self, params: np.ndarray, config: controller.ControllerConfig) -> cp.WorldModelPolicy:
        return cp.WorldModelPolicy(self.model, params, self.settings.features)


def evolve_and_score(model: cp.StateWorldModel, start_states: np.ndarray, settings: cp.ControllerSettings,
                     scoring: recipe.Scoring, seed: int, search_steps: int | None = None) -> recipe.Scored:
    """Evolve C with CMA-ES entirely inside M's dream (seeded by `seed`), then score it in fresh dreams and in
    reality as `scoring` says (recipe.evolve_and_score).

    search_steps lets the dreams of the search run longer than the task's cap (settings.max_steps): at the cap
    every decent controller scores the same, so the search cannot rank them; longer dreams keep ranking them
    by how long they stay up. The dream score is always over settings.max_steps."""
    return recipe.evolve_and_score(CartPoleModel(model, start_states, settings), settings.tau, settings.max_steps,
                                   cp.evolve_settings(settings, seed), scoring, search_steps=search_steps,
                                   progress=False)


def _scoring(config: ExperimentConfig, seed: int, real_seed: int | None = None) -> recipe.Scoring:
    """The table's scoring: config.dream_episodes dreams from `seed`, config.eval_episodes real episodes on 10
    copies reset from 100,000 + real_seed (the same as `seed` unless given)."""
    return recipe.Scoring(config.dream_episodes, seed, config.eval_episodes,
                          100_000 + (seed if real_seed is None else real_seed), 10)


@dataclass
class _Rounds:
    """One variant's rounds (recipe.RoundTask): collect (round 0 with a random policy, later ones with the last
    C and epsilon-random actions), train M from scratch on all the data, evolve and score a new C."""

    variant: Variant
    config: ExperimentConfig
    results: list[RoundResult]
    started: float

    def collect(self, round_: int) -> None:
        seed, v = self.config.seed, self.variant
        if round_ == 0:
            self.data = cp.collect_episodes(None, v.first_steps, seed=seed)
            return
        last = self.results[-1]
        policy = cp.WorldModelPolicy(last.model, last.params, v.features)
        more = cp.collect_episodes(policy, v.round_steps, seed=seed + 1000 * round_, epsilon=v.epsilon)
        self.data = cp.Episodes.join([last.data, more])

    def encode(self, round_: int) -> None:
        """M reads CartPole's state itself: nothing to encode."""

    def retrain(self, round_: int) -> None:
        wm_config = cp.WorldModelConfig(done_head=self.variant.done_head, train_steps=self.variant.train_steps)
        self.model, _ = cp.train_world_model(self.data, wm_config, seed=self.config.seed + round_)

    def evolve(self, round_: int) -> RoundResult:
        v, seed = self.variant, self.config.seed + round_
        settings = replace(self.config.controller, features=v.features, tau=v.tau)
        scored = evolve_and_score(self.model, self.data.first_states, settings, _scoring(self.config, seed), seed,
                                  v.search_steps)
        return RoundResult(round_, self.data.num_steps, float(scored.dreams.mean()), float(scored.dreams.std()),
                           scored.real.mean, scored.real.std, self.config.eval_episodes,
                           time.perf_counter() - self.started, self.model, scored.params, self.data)


def run_variant(variant: Variant, config: ExperimentConfig = ExperimentConfig(),
                round0_cache: dict | None = None, progress: bool = True) -> list[RoundResult]:
    """Run one variant's rounds (see the module docstring); returns one RoundResult per round, each scored
    over config.eval_episodes real episodes. Variants that share their round 0 (Variant.round0_key) share it
    through round0_cache."""
    if variant.budget > config.budget:
        raise SettingsError(f"Variant {variant.name!r} would use {variant.budget:,} real steps, over the budget of "
                            f"{config.budget:,}.")
    if variant.features not in cp.FEATURES:
        raise SettingsError(f"Unknown features {variant.features!r}: expected one of {cp.FEATURES}.")
    results: list[RoundResult] = []
    task = _Rounds(variant, config, results, time.perf_counter())
    key = (variant.round0_key(), config.seed)
    for r in tqdm(range(variant.rounds), desc=variant.name, unit="round", disable=not progress):
        if r == 0 and round0_cache is not None and key in round0_cache:
            results.append(round0_cache[key])
            continue
        results.append(recipe.one_round(task, r))
        if r == 0 and round0_cache is not None:
            round0_cache[key] = results[0]
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
    runs: dict[str, list[RoundResult]] = {}
    rows: list[dict] = []
    trained: dict = {}

    def variant(v: Variant) -> dict:
        runs[v.name] = run_variant(v, config, cache, progress)
        return variant_row(v, runs[v.name])

    def dqn_row() -> dict:
        trained["q"], row, trained["curve"] = run_dqn(config, progress)
        return row

    keep = lambda _, row: rows.append(row)  # noqa: E731
    stages = [Stage("random", lambda: random_baseline(config), keep=keep),
              *(Stage(v.name, lambda v=v: variant(v), keep=keep) for v in config.variants),
              Stage("dqn", dqn_row, keep=keep)]
    Run(None, config, ExperimentConfig()).run(stages)
    q, dqn_curve = trained["q"], trained["curve"]
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
        scored = evolve_and_score(model, data.first_states, settings, _scoring(config, s, config.seed), s)
        rows.append({"search_seed": s, "dream_mean": float(scored.dreams.mean()), "real_mean": scored.real.mean,
                     "real_std": scored.real.std, "episodes": config.eval_episodes})
    return rows


SEARCH_COMMAND = ("python scripts/cartpole_search_spread.py --out data/cartpole_search_spread.json --seeds 0 3 "
                  "--search-seeds 1 2")


def load_search_spread(folder: str | Path | None = None) -> dict:
    """data/cartpole_search_spread.json: the failure row's M kept, C evolved again with other CMA-ES seeds
    (search_spread, run by SEARCH_COMMAND)."""
    from ..artefacts import require

    return json.loads(require(SEARCH_NAME, SEARCH_COMMAND, Path(folder) if folder else None).read_text())


def _save_controller(path: Path, result: RoundResult, features: str) -> Path:
    config = cp.ControllerSettings(features=features).controller_config(result.model.config.hidden)
    return controller.save_controller(path, result.params, config, features=features)


def _features(results: dict, which: str) -> str:
    name = results[f"{which}_variant"]
    return next(row["variant"]["features"] for row in results["rows"] if row["name"] == name)


# --- the table over seeds (experiments.cartpole_seeds runs it) ----------------------------------------

def seeds_command(seeds: list[int], out: str | Path, run_dir: str | Path = RUN_DIR) -> str:
    extra = "" if Path(run_dir) == Path(RUN_DIR) else f" --run-dir {run_dir}"
    return f"python -m wmcourse cartpole --seeds {' '.join(map(str, seeds))}{extra} --out {out}"



def load_over_seeds(folder: str | Path | None = None) -> dict:
    """The table over seeds in data/cartpole_seeds.json (made by seeds_command)."""
    from ..artefacts import require

    path = require(SEEDS_NAME, seeds_command([0, 1, 2, 3, 4], f"data/{SEEDS_NAME}"), Path(folder) if folder else None)
    return json.loads(path.read_text())


CURVE_LABELS = {"wm_iterative": "World Model, iterative loop", "dqn": "DQN"}  # notebook 07's learning curves


def learning_curves(summary: dict, results: dict) -> dict[str, dict]:
    """Notebook 07's learning curves, for cartpole_plots.curves_over_seeds_plot: the World Model's iterative loop
    and DQN over seeds where the table over seeds (`summary`, load_over_seeds) has them, then, for those not run
    over seeds yet, the earlier single run (`results`, load_cartpole_results), labelled "(one run, seed N)"."""
    curves = {label: summary["curves"][key] for key, label in CURVE_LABELS.items() if key in summary["curves"]}
    curves.update({f"{label} (one run, seed {results['seed']})":
                       curve_spread([results["curves"][key]], [results["seed"]])
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


# --- loading the shipped results ---------------------------------------------------------------------

def load_cartpole_results(folder: str | Path | None = None) -> dict:
    """The measured table and learning curves in data/cartpole_results.json (made by COMMAND)."""
    from ..artefacts import require

    path = require(RESULTS_NAME, COMMAND, Path(folder) if folder else None)
    return json.loads(path.read_text())


def load_shipped(which: str = "failure",
                 folder: str | Path | None = None) -> tuple[cp.StateWorldModel, np.ndarray, str, cp.Episodes]:
    """(M, C's parameters, C's features, M's real training data) of the shipped "failure" or "fixed" agent."""
    from ..artefacts import require

    if which not in ("failure", "fixed"):
        raise SettingsError(f"which must be 'failure' (random data) or 'fixed' (iterative loop), got {which!r}.")
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
        lines.append(f"| {row['label']} | {dream} | {row['real_mean']:.1f} ± {row['real_std']:.1f} | "
                     f"{row['steps']:,} |")
    return "\n".join(lines)
