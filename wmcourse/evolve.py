"""CMA-ES: search the controller's parameters without gradients, through the `cma` package.

Each generation CMA-ES samples a population x_i ~ m + sigma N(0, C), scores every candidate (here: the
mean return of several rollouts), and moves the mean m, the step size sigma and the covariance C towards
the better candidates. It needs only scores, so the rollout may be long, noisy and not differentiable;
it suits a few hundred parameters (C has n^2 entries), like the paper's 867.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cma
import numpy as np
from tqdm.auto import tqdm


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


def _new_strategy(n_params: int, config: EvolveConfig) -> cma.CMAEvolutionStrategy:
    options = {"popsize": config.population, "seed": config.seed + 1, "verbose": -9}  # cma treats seed 0 as "random"
    return cma.CMAEvolutionStrategy(np.zeros(n_params), config.sigma_init, options)


def evolve(score: Callable[[np.ndarray], np.ndarray], n_params: int, config: EvolveConfig = EvolveConfig(),
           checkpoint: str | Path | None = None, progress: bool = True) -> EvolveResult:
    """Maximise score(population (P, n) -> (P,)) with CMA-ES for config.generations generations.

    With `checkpoint`, the strategy and history are saved every generation and a rerun continues from there
    (asking for more generations extends the run).
    """
    es, history = _new_strategy(n_params, config), []
    if checkpoint is not None and Path(checkpoint).exists():
        saved = pickle.loads(Path(checkpoint).read_bytes())
        same = {k: v for k, v in asdict(config).items() if k != "generations"}  # a run may be extended
        if {k: v for k, v in saved["config"].items() if k != "generations"} != same or saved["n_params"] != n_params:
            raise ValueError(f"{checkpoint} was made with other settings ({saved['config']}): "
                             "delete it or use another path to start over.")
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
        if checkpoint is not None:
            Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(str(checkpoint) + ".tmp")
            tmp.write_bytes(pickle.dumps({"es": es, "history": history, "config": asdict(config), "n_params": n_params}))
            tmp.replace(checkpoint)
    bar.close()
    return EvolveResult(np.asarray(es.mean), history)
