"""The World Models recipe, written once for every experiment (CarRacing, Take Cover, CartPole, the tau sweep).

Evolve at tau and score (one row of every table):

    evolve C with CMA-ES in M's dream at temperature tau            (evolve.evolve_in_dream)
    -> dream score: C's returns in fresh dreams of the same M and tau
    -> real score:  C acting through V and M in the real environment, over real episodes

One round of the paper's iterative training (its remedy when the dream is wrong where C goes):

    collect real episodes with the current controller plus noise     (RoundTask.collect)
    -> encode them with V                                            (RoundTask.encode; nothing for CartPole)
    -> retrain M on all the data so far                              (RoundTask.retrain)
    -> evolve a new C in the new dream at tau and score it            (evolve_and_score)

A world model is anything with a batched dream and a real policy (`WorldModel`): `MDNRNNModel` wraps V, M and
the real start latents of CarRacing and Take Cover; CartPole's adapter lives in its experiment. The recipe
fixes nothing but the order and the seeds' roles; each experiment chooses the seeds and sizes (its config).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from ..real import evaluate
from ..worldmodels import agent, controller, dream, evolve
from ..worldmodels.mdnrnn import MDNRNN
from ..worldmodels.vae import ConvVAE


@dataclass(frozen=True)
class Search:
    """CMA-ES in the dream: the config section every experiment has (once per kind of controller it evolves)."""

    population: int = 64
    rollouts: int = 16          # dreams per candidate: its score is their mean
    generations: int = 200
    sigma_init: float = 0.1

    def settings(self, seed: int) -> evolve.EvolveConfig:
        return evolve.EvolveConfig(population=self.population, rollouts=self.rollouts, sigma_init=self.sigma_init,
                                   generations=self.generations, seed=seed)


@dataclass(frozen=True)
class Scoring:
    """How a controller is scored: `dream_episodes` fresh dreams (0: none) drawn from `dream_seed`, and
    `real_episodes` real ones (0: none) played by `num_envs` copies reset from `real_seed`."""

    dream_episodes: int
    dream_seed: int
    real_episodes: int
    real_seed: int
    num_envs: int = 2
    max_steps: int | None = None  # cut each real episode there (quick tests); None: the game's own limit


@dataclass(frozen=True)
class RoundSettings:
    """One round of iterative training: real episodes (CartPole: real steps) collected with the last controller,
    the noise on its actions (CartPole: the share of random actions), and M's epochs (CartPole: optimizer steps)."""

    episodes: int
    noise: float
    epochs: int


class WorldModel(Protocol):
    """What the recipe needs of a world model: its batched dream (and the controller that acts in it) and C
    acting in reality through it."""

    env_id: str

    def dream(self, tau: float, max_steps: int, seed: int) -> tuple[Any, controller.ControllerConfig]: ...

    def policy(self, params: np.ndarray, config: controller.ControllerConfig) -> evaluate.Policy: ...


@dataclass
class MDNRNNModel:
    """V, M and the real first frames' latents that dreams start from (CarRacing's C reads [z, h]; Take Cover's
    reads [z, h, c] and acts in thirds)."""

    env_id: str
    m: MDNRNN
    starts: torch.Tensor
    v: ConvVAE | None = None      # needed only to act in reality
    squash: str = "carracing"
    include_cell: bool = False

    def dream(self, tau: float, max_steps: int, seed: int) -> tuple[dream.BatchedDream, controller.ControllerConfig]:
        return dream.controller_dream(self.m, self.starts, tau, max_steps, seed=seed, squash=self.squash,
                                      include_cell=self.include_cell)

    def policy(self, params: np.ndarray, config: controller.ControllerConfig) -> agent.WorldModelAgent:
        return agent.WorldModelAgent(self.v, self.m, params, config)


@dataclass
class Scored:
    """A controller evolved at tau, and what it scored (None where it was not scored)."""

    tau: float
    params: np.ndarray                      # float32, as saved and as acted with
    config: controller.ControllerConfig
    history: list[dict]                     # CMA-ES, one dict a generation
    dreams: np.ndarray | None               # returns in fresh dreams
    real: evaluate.EvalResult | None
    evolve_seconds: float
    dream_seconds: float

    def row(self) -> dict:
        """The scores as a table row: tau, dream_mean, dream_std, real_mean, real_std, real_episodes, real_returns."""
        row: dict = {"tau": self.tau}
        if self.dreams is not None:
            row.update(dream_mean=float(self.dreams.mean()), dream_std=float(self.dreams.std()))
        if self.real is not None:
            row.update(real_row(self.real))
        return row


def real_row(result: evaluate.EvalResult) -> dict:
    """A real evaluation as row entries (returns to 0.1, as every table of the course keeps them)."""
    return {"real_mean": result.mean, "real_std": result.std, "real_episodes": len(result.returns),
            "real_returns": result.returns.round(1).tolist(), "real_seconds": round(result.seconds, 1)}


def evolve_at(model: WorldModel, tau: float, max_steps: int, settings: evolve.EvolveConfig,
              checkpoint: str | Path | None = None, progress: bool = True, start: np.ndarray | None = None
              ) -> tuple[evolve.EvolveResult, controller.ControllerConfig]:
    """C evolved by CMA-ES in `model`'s dream at tau (dreams of at most max_steps, drawn from settings.seed),
    from zeros or from `start`; resumable from `checkpoint` (CMA-ES's state, every generation)."""
    world, config = model.dream(tau, max_steps, settings.seed)
    return evolve.evolve_in_dream(world, config, settings, checkpoint=checkpoint, progress=progress,
                                  start=start), config


def score(model: WorldModel, params: np.ndarray, config: controller.ControllerConfig, tau: float, max_steps: int,
          scoring: Scoring) -> tuple[np.ndarray | None, evaluate.EvalResult | None, float]:
    """(C's returns in scoring.dream_episodes fresh dreams, its real evaluation, the dreams' seconds)."""
    start, dreams, real = time.perf_counter(), None, None
    if scoring.dream_episodes:
        world, _ = model.dream(tau, max_steps, scoring.dream_seed)
        dreams = dream.controller_returns(world, params, config, scoring.dream_episodes)
    seconds = time.perf_counter() - start
    if scoring.real_episodes:
        real = evaluate.evaluate(model.env_id, model.policy(params, config), scoring.real_episodes,
                                 seed=scoring.real_seed, num_envs=scoring.num_envs, progress=False,
                                 max_steps=scoring.max_steps)
    return dreams, real, seconds


def evolve_and_score(model: WorldModel, tau: float, max_steps: int, settings: evolve.EvolveConfig, scoring: Scoring,
                     save: str | Path | None = None, search_steps: int | None = None, progress: bool = True,
                     start: np.ndarray | None = None, **details: Any) -> Scored:
    """Evolve C in the dream at tau, then score it in fresh dreams and in reality: one row of every table.

    save: write C there (controller.save_controller, with its CMA-ES history, tau and `details`), and keep
    CMA-ES's state beside it (save + ".es.pkl") so an interrupted search resumes.
    search_steps: the search's dreams run this long instead of max_steps (scoring always uses max_steps).
    start: the search's first mean (a warm start from another controller's parameters; None: zeros)."""
    began = time.perf_counter()
    checkpoint = None if save is None else f"{save}.es.pkl"
    result, config = evolve_at(model, tau, search_steps or max_steps, settings, checkpoint, progress, start)
    params = np.asarray(result.best_params, np.float32)
    if save is not None:
        controller.save_controller(save, params, config, history=result.history, tau=tau, **details)
    evolve_seconds = time.perf_counter() - began
    dreams, real, dream_seconds = score(model, params, config, tau, max_steps, scoring)
    return Scored(tau, params, config, result.history, dreams, real, evolve_seconds, dream_seconds)


# --- one round of iterative training ------------------------------------------------------------------------

class RoundTask(Protocol):
    """One experiment's steps of a round of iterative training (round r >= 1 starts from round r - 1's C)."""

    def collect(self, round_: int) -> None:
        """Play the last round's controller plus noise in reality and keep the episodes."""

    def encode(self, round_: int) -> None:
        """Encode the new episodes with V (nothing where M reads the state itself)."""

    def retrain(self, round_: int) -> None:
        """Train M on all the data so far (every earlier round's and the new)."""

    def evolve(self, round_: int) -> dict:
        """Evolve a new C in the new M's dream and score it (evolve_and_score): the round's row."""


ROUND_STEPS = ("collect", "encode", "train-mdnrnn", "controller")


def round_steps(task: RoundTask, round_: int) -> list[tuple[str, Callable[[], Any]]]:
    """The named steps of round `round_`, in order; each resumes from what the earlier ones wrote."""
    return list(zip(ROUND_STEPS, (lambda: task.collect(round_), lambda: task.encode(round_),
                                  lambda: task.retrain(round_), lambda: task.evolve(round_))))


def one_round(task: RoundTask, round_: int) -> dict:
    """Every step of round `round_` in order: the new controller's row."""
    for _, step in round_steps(task, round_):
        row = step()
    return row

