"""CMA-ES: search the controller's parameters without gradients, through the `cma` package.

Each generation CMA-ES samples a population x_i ~ m + sigma N(0, C), scores every candidate (here: the
mean return of several rollouts), and moves the mean m, the step size sigma and the covariance C towards
the better candidates. It needs only scores, so the rollout may be long, noisy and not differentiable;
it suits a few hundred parameters (C has n^2 entries), like the paper's 867.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cma
import numpy as np
from tqdm.auto import tqdm

from ..checkpoint import atomic_pickle
from ..errors import SettingsError


@dataclass(frozen=True)
class EvolveConfig:
    population: int = 64
    rollouts: int = 16  # each candidate's score is the mean of this many rollouts
    sigma_init: float = 0.1
    generations: int = 200
    seed: int = 0


@dataclass
class EvolveResult:
    best_params: np.ndarray  # the mean of the search distribution at the end (CMA-ES's own estimate)
    history: list[dict] = field(default_factory=list)  # per generation: best, mean and worst score, sigma


def _new_strategy(n_params: int, config: EvolveConfig, start: np.ndarray | None = None) -> cma.CMAEvolutionStrategy:
    options = {"popsize": config.population, "seed": config.seed + 1, "verbose": -9}  # cma treats seed 0 as "random"
    return cma.CMAEvolutionStrategy(_start(n_params, start), config.sigma_init, options)


def _start(n_params: int, start: np.ndarray | None) -> np.ndarray:
    """The search's first mean: zeros, or `start` (a warm start from an earlier controller's parameters)."""
    if start is None:
        return np.zeros(n_params)
    start = np.asarray(start, np.float64)
    if start.shape != (n_params,):
        raise SettingsError(f"the warm start has shape {start.shape}, expected ({n_params},): "
                            "give the parameters of a controller of the same size")
    return start


def evolve(score: Callable[[np.ndarray], np.ndarray], n_params: int, config: EvolveConfig = EvolveConfig(),
           checkpoint: str | Path | None = None, progress: bool = True, start: np.ndarray | None = None,
           means_dir: str | Path | None = None) -> EvolveResult:
    """Maximise score(population (P, n) -> (P,)) with CMA-ES for config.generations generations, the search
    centred first on zeros, or on `start` (a warm start).

    With `checkpoint`, the strategy and history are saved every generation and a rerun continues from there
    (asking for more generations extends the run). With `means_dir`, the search mean after each generation is
    kept there as mean_GGGGG.npy (real_es.generation_means reads them), so that a generation can be chosen later.
    """
    es, history = _new_strategy(n_params, config, start), []
    first_mean = np.asarray(es.mean, np.float64).copy()
    if checkpoint is not None and Path(checkpoint).exists():
        saved = pickle.loads(Path(checkpoint).read_bytes())
        same = {k: v for k, v in asdict(config).items() if k != "generations"}  # a run may be extended
        saved_start = saved.get("start", np.zeros(saved["n_params"]))
        if ({k: v for k, v in saved["config"].items() if k != "generations"} != same or saved["n_params"] != n_params
                or not np.array_equal(saved_start, first_mean)):
            raise SettingsError(f"{checkpoint} was made with other settings ({saved['config']}) or another warm "
                                "start: delete it or use another path to start over.")
        es, history = saved["es"], saved["history"]
    bar = tqdm(total=config.generations, initial=len(history), desc="CMA-ES", unit="gen", disable=not progress)
    for generation in range(len(history), config.generations):
        candidates = np.asarray(es.ask())
        scores = np.asarray(score(candidates), dtype=np.float64)
        es.tell(list(candidates), list(-scores))  # cma minimises
        history.append({"generation": generation + 1, "best": float(scores.max()), "mean": float(scores.mean()),
                        "worst": float(scores.min()), "sigma": float(es.sigma)})
        bar.update(1)
        bar.set_postfix(best=f"{scores.max():.1f}", mean=f"{scores.mean():.1f}")
        if means_dir is not None:
            Path(means_dir).mkdir(parents=True, exist_ok=True)
            np.save(Path(means_dir) / f"mean_{generation + 1:05d}.npy", np.asarray(es.mean))
        if checkpoint is not None:
            atomic_pickle(checkpoint, {"es": es, "history": history, "config": asdict(config), "n_params": n_params,
                                       "start": first_mean})
    bar.close()
    return EvolveResult(np.asarray(es.mean), history)


# --- CMA-ES on toy functions, for looking at the search distribution (notebook 04) --------------------

def rosenbrock(x: np.ndarray) -> np.ndarray:
    """Rosenbrock's banana valley, minimised at (1, 1): f(x, y) = (1 - x)^2 + 100 (y - x^2)^2. (N, 2) -> (N,)."""
    x = np.atleast_2d(x)
    return (1 - x[:, 0]) ** 2 + 100 * (x[:, 1] - x[:, 0] ** 2) ** 2


@dataclass
class SearchSnapshot:
    """CMA-ES's search distribution at one generation, and the candidates it drew from it."""

    generation: int
    mean: np.ndarray        # m, (n,)
    covariance: np.ndarray  # sigma^2 D C D, (n, n): candidates are m + N(0, covariance)
    candidates: np.ndarray  # (P, n), drawn from the distribution above
    values: np.ndarray      # (P,), the objective at each candidate
    best: float             # the lowest value seen so far


def trace_cma(objective: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, sigma0: float, population: int = 8,
              generations: int = 30, seed: int = 0) -> list[SearchSnapshot]:
    """Minimise objective ((P, n) -> (P,)) with cma and keep every generation's distribution and candidates."""
    es = cma.CMAEvolutionStrategy(np.asarray(x0, float), sigma0, {"popsize": population, "seed": seed + 1,
                                                                  "verbose": -9})
    snapshots, best = [], np.inf
    for generation in range(generations):
        scale = np.diag(es.sigma_vec.scaling * np.ones(len(x0)))
        covariance = es.sigma ** 2 * scale @ np.asarray(es.C) @ scale
        mean = np.array(es.mean)
        candidates = np.asarray(es.ask())
        values = np.asarray(objective(candidates), float)
        es.tell(list(candidates), list(values))
        best = min(best, float(values.min()))
        snapshots.append(SearchSnapshot(generation, mean, covariance, candidates, values, best))
    return snapshots


def simple_es(objective: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, sigma: float, population: int = 8,
              elite: int = 2, generations: int = 30, seed: int = 0) -> list[float]:
    """The simplest evolution strategy, for comparison with CMA-ES: a round Gaussian of fixed size.

        x_i = m + sigma * eps_i,  eps_i ~ N(0, I)       i = 1..population
        m  <- mean of the `elite` candidates with the lowest objective

    Returns the best value seen so far after each generation (minimising).
    """
    rng = np.random.default_rng(seed)
    mean, best, curve = np.asarray(x0, float), np.inf, []
    for _ in range(generations):
        candidates = mean + sigma * rng.standard_normal((population, len(mean)))
        values = np.asarray(objective(candidates), float)
        mean = candidates[np.argsort(values)[:elite]].mean(axis=0)
        best = min(best, float(values.min()))
        curve.append(best)
    return curve


def cma_overhead_seconds(n: int, generations: int, population: int = 64, seed: int = 1) -> float:
    """Seconds per generation of CMA-ES's own work at n parameters: sampling the population (ask) and updating
    the mean, step size and n x n covariance (tell), with a trivial score (the sum of squares) so that no
    rollout is timed. Notebook 04 measures it at several n: it grows with n^2 (and n^3 for the decompositions),
    small next to the rollouts at the paper's 867 parameters."""
    es = cma.CMAEvolutionStrategy(np.zeros(n), 0.1, {"popsize": population, "seed": seed, "verbose": -9})
    start = time.perf_counter()
    for _ in range(generations):
        x = es.ask()
        es.tell(x, [float(np.sum(np.square(xi))) for xi in x])
    return (time.perf_counter() - start) / generations


# --- the controller evolved inside the dream ----------------------------------------------------------

def evolve_in_dream(world, config, settings: EvolveConfig, checkpoint: str | Path | None = None,
                    progress: bool = True, start: np.ndarray | None = None) -> EvolveResult:
    """CMA-ES on the linear controller `config`, every candidate scored by its mean return over settings.rollouts
    dreams of `world` (the whole population x rollouts stepped as one batch).

    `world` is any batched dream (reset(batch), step(actions), max_steps), made with the controller it runs:
    dream.controller_dream(M, ...) for CarRacing and Take Cover, cartpole.controller_dream(...) for CartPole."""
    import torch

    from . import dream

    def score(candidates: np.ndarray) -> np.ndarray:
        params = torch.as_tensor(candidates, dtype=torch.float32)
        return dream.population_returns(world, params, config, settings.rollouts).numpy()

    return evolve(score, config.n_params, settings, checkpoint=checkpoint, progress=progress, start=start)


def evolve_in_dreams(worlds: list, config, settings: EvolveConfig, checkpoint: str | Path | None = None,
                     progress: bool = True, start: np.ndarray | None = None,
                     means_dir: str | Path | None = None) -> EvolveResult:
    """CMA-ES in the dreams of an ensemble of Ms, each candidate scored by its worst member
    (dream.worst_member_returns over settings.rollouts dreams of each world). Each world is one member's batched
    dream (dream.controller_dream), the controller reading that member's own memory h."""
    import torch

    from . import dream

    if not worlds:
        raise SettingsError("evolve_in_dreams needs at least one dream: give one world per M of the ensemble")

    def score(candidates: np.ndarray) -> np.ndarray:
        params = torch.as_tensor(candidates, dtype=torch.float32)
        return dream.worst_member_returns(worlds, params, config, settings.rollouts).numpy()

    return evolve(score, config.n_params, settings, checkpoint=checkpoint, progress=progress, start=start,
                  means_dir=means_dir)
