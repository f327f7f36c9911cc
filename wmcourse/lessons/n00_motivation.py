"""Notebook 00, why learn a model of the world: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

import math
import re
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

# what the notebook shows from the shared lessons modules (re-exported)
from .. import paper as paper
from ..artefacts import data_dir as data_dir
from ..artefacts import run_command as run_command
from ..checkpoint import count_parameters as count_parameters
from ..errors import SettingsError
from ..runtime import fast_mode as fast_mode
from .diagrams import draw_dream_loop as draw_dream_loop
from .diagrams import draw_vmc as draw_vmc
from .exercise import Exercise, _is_number
from .plots import frame_grid
from .plots import return_histogram as return_histogram
from .plots import show_frames as show_frames
from .slides import SEED, as_figure, slide

_SECONDS_PER_DAY, _SECONDS_PER_HOUR = 86_400, 3_600


def _budget_slip(got: float, want: float, world: str, unit: str, rates: tuple[float, float]) -> str | None:
    """The sentence for a time that is off from `want` by one of the usual factors (None if none fits)."""
    real_rate, dream_rate = rates
    other = real_rate / dream_rate if world == "real" else dream_rate / real_rate  # got / want with the rates swapped
    seconds = _SECONDS_PER_DAY if unit == "days" else _SECONDS_PER_HOUR
    slips = [
        (seconds, f"Your {world} time is in seconds: convert it to {unit}."),
        (seconds / 60, f"Your {world} time is in minutes: convert it to {unit}."),
        (24.0 if unit == "days" else 1 / 24, f"Your {world} time is in {'hours' if unit == 'days' else 'days'}: "
                                             f"the question asks for {unit}."),
        (1 / 1000, f"Your {world} time counts rollouts, not steps: each rollout runs up to 1,000 steps."
         if world == "real"
         else "Your dream time is about 1,000 times too short: count steps, not rollouts (each runs up to 1,000 "
              "steps), and do not divide by the 1,024 dreams of the batch, which the dream's rate already counts."),
        (1 / 16, f"Your {world} time scores each candidate once: the paper scored every candidate by the mean of "
                 "16 rollouts."),
        (1 / 64, f"Your {world} time plays one candidate a generation: each generation has 64."),
        (1 / 1800, f"Your {world} time covers one generation: the search ran 1,800."),
        (1 / (64 * 16), f"Your {world} time plays one rollout a generation: 64 candidates x 16 rollouts each."),
    ]
    if world == "dream":
        slips.append((1024.0, "The dream's rate already counts every dream of the batch (it is steps per second over "
                              "all 1,024): do not multiply the time by 1,024."))
    slips.append((other, f"You used the other world's rate for the {world} time: "
                         f"{'carracing_rate' if world == 'real' else 'dream_rate'} belongs to it."))
    for factor, sentence in slips:
        if math.isclose(got, want * factor, rel_tol=0.05):
            return sentence
    return None


def budget_time(real_rate: float, dream_rate: float) -> Exercise:
    """Notebook 00's first exercise, for the rates measured on the learner's machine: the paper's CMA-ES budget
    (1,800 generations x 64 candidates x 16 rollouts x 1,000 steps at most) as (days in one real CarRacing,
    hours in the batched dream). The judge accepts 5%, so a budget rounded to 1.8 billion steps passes."""
    from ..paper import carracing_cma_real_steps

    if not (_is_number(real_rate) and _is_number(dream_rate) and real_rate > 0 and dream_rate > 0):
        raise SettingsError(f"Expected two positive step rates (steps per second), got {real_rate!r} and "
                            f"{dream_rate!r}.")
    budget = carracing_cma_real_steps()
    want = {"real": budget / real_rate / _SECONDS_PER_DAY, "dream": budget / dream_rate / _SECONDS_PER_HOUR}

    def judge(answer: Any) -> str | None:
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            return "Expected two numbers, (real_days, dream_hours), in that order."
        if any(a is None or a is Ellipsis for a in answer):
            return "Not attempted yet: replace both `...` with your answers and run the cell again."
        for got, world in zip(answer, ("real", "dream")):
            if not _is_number(got):
                return f"Expected a number for the {world} time, got {type(got).__name__}."
        if (math.isclose(answer[0], want["dream"], rel_tol=0.05) and math.isclose(answer[1], want["real"], rel_tol=0.05)
                and not math.isclose(want["real"], want["dream"], rel_tol=0.05)):
            return "The two answers are swapped: the real game's time in days comes first, then the dream's in hours."
        for got, (world, unit) in zip(answer, (("real", "days"), ("dream", "hours"))):
            if math.isclose(got, want[world], rel_tol=0.05):
                continue
            return _budget_slip(got, want[world], world, unit, (real_rate, dream_rate)) or (
                f"Not the {world} time: divide the number of steps (generations x candidates x rollouts x steps per "
                f"rollout) by the {world} rate in steps per second, then turn seconds into {unit}.")
        return None

    return Exercise(
        name="the paper's search, here",
        judge=judge,
        hint_text="Steps = 1800 x 64 x 16 x 1000 at most. Time in seconds = steps / (steps per second). A day has "
                  "86,400 seconds, an hour 3,600. The dream's rate already counts all the dreams of its batch.",
        solution_text="budget = 1800 * 64 * 16 * 1000  # = paper.carracing_cma_real_steps()\n"
                      "real_days = budget / carracing_rate / 86_400\n"
                      "dream_hours = budget / dream_rate / 3_600",
        praise="Correct. Put in the same unit, the two times differ by the factor printed above: what one real step "
               "costs in dream steps.",
    )


C_INPUTS = ("frame", "z_t", "h_t", "a_t", "z_t+1", "h_t+1")


def _judge_controller_inputs(answer: Any) -> str | None:
    if isinstance(answer, str) or not isinstance(answer, (set, frozenset, list, tuple)):
        return f'Expected a set of names such as {{"frame"}}, got {type(answer).__name__}.'
    if not all(isinstance(name, str) for name in answer):
        return "Every entry must be a name in quotes, one of: " + ", ".join(C_INPUTS) + "."
    names = {re.sub(r"[\s{}]", "", name).lower() for name in answer}
    unknown = sorted(names - set(C_INPUTS))
    if unknown:
        return f"Unknown name {unknown[0]!r}: choose from " + ", ".join(C_INPUTS) + "."
    if not names:
        return "C must read something: an empty set gives it nothing to act on."
    if "a_t" in names:
        return "a_t is what C outputs: it cannot read the action it is about to choose."
    if "h_t+1" in names:
        return ("h_{t+1} = LSTM([z_t, a_t], h_t) needs a_t, the action C has not chosen yet: it does not exist "
                "when C decides.")
    if "z_t+1" in names:
        return ("z_{t+1} is the code of the next frame, which the world (or M's dream) makes only after the "
                "action: C cannot see it when it decides.")
    if "frame" in names:
        return ("Reading the frame itself would give C a weight for each of its 12,288 numbers and every action, "
                "tens of thousands of numbers for CMA-ES to search; z_t already carries what V keeps of the frame.")
    if "h_t" not in names:
        return ("With z_t alone C sees one frame: where the car is, not how fast it moves or where it is heading. "
                "That is what M's memory carries.")
    if "z_t" not in names:
        return ("h_t was made before the current frame arrived (from z_{t-1} and a_{t-1}): without z_t, C would act "
                "on a memory that has not seen the present.")
    return None


controller_inputs = Exercise(
    name="what C reads",
    judge=_judge_controller_inputs,
    hint_text="C acts at step t. Which of these exist before it chooses a_t? Of those, which tell it what the road "
              "looks like now, and which what happened before, without making its search huge?",
    solution_text='c_reads = {"z_t", "h_t"}\n'
                  "z_t: V's code of the present frame. h_t: M's memory of everything before it (it has not seen the "
                  "present frame yet). a_t, z_{t+1} and h_{t+1} come after the decision; the raw frame would make C "
                  "far too big for CMA-ES.",
    praise="Correct: C reads z_t and h_t, all it can know before it acts. For CarRacing that is 3 x (32 + 256) + 3 "
           "= 867 numbers, few enough for CMA-ES.",
)


def step_rate_bars(rates: dict[str, float], ax: plt.Axes | None = None) -> plt.Axes:
    """Steps per second of each world (notebook 00: a real CarRacing step against a batched dream step), as
    horizontal bars on a log axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2.4))
    ax.barh(list(rates), list(rates.values()), color=["#9ca3af", "#60a5fa"][: len(rates)] or None)
    ax.set_xscale("log")
    ax.set_xlabel("steps per second on this machine (log scale)")
    return ax


@slide("00_vmc", "An analogy: learning to drift in an empty car park")
def slide_vmc() -> plt.Figure:
    return as_figure(draw_vmc())


@slide("00_carracing_frames", "CarRacing-v3: learning from pixels")
def slide_carracing_frames() -> plt.Figure:
    from ..real import envs, evaluate

    raw = evaluate.random_policy_frames("CarRacing-v3", at=(0, 50, 100, 150), seed=SEED)
    small = envs.preprocess_frames(np.stack(list(raw.values())))
    return frame_grid([list(raw.values()), list(small)], ["raw\n96×96", "what V sees\n64×64"],
                            [f"step {t}" for t in raw], size=2.0,
                            suptitle="CarRacing-v3, random actions: the raw frames and the preprocessed ones")


@slide("00_cartpole", "CartPole-v1: learning from four numbers")
def slide_cartpole_frame() -> plt.Figure:
    import os

    from ..real import envs

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame draws off screen

    env = envs.make_env("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=SEED)
    picture = env.render()
    env.close()
    return show_frames([picture], ["CartPole-v1, rendered"], size=4)


@slide("00_random_returns", "The bar to clear: a random policy, measured")
def slide_random_returns() -> plt.Figure:
    from ..real import evaluate

    result = evaluate.evaluate("CartPole-v1", None, episodes=100, seed=SEED, num_envs=4, progress=False)
    ax = return_histogram(result.returns, f"CartPole-v1, random policy: {result.mean:.1f} ± {result.std:.1f} "
                                                f"over {len(result.returns)} episodes")
    ax.figure.set_size_inches(6.5, 3.2)
    ax.figure.tight_layout()
    return ax.figure


@slide("00_dream_loop", "An analogy: learning to drift in an empty car park")
def slide_dream_loop() -> plt.Figure:
    return as_figure(draw_dream_loop())
