"""Notebook 00, why learn a model of the world: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .diagrams import draw_dream_loop as draw_dream_loop
from .diagrams import draw_vmc as draw_vmc
from .exercise import Exercise, _is_number
from .plots import frame_grid

# what the notebook shows from the shared lessons modules (re-exported)
from .plots import return_histogram as return_histogram
from .plots import show_frames as show_frames
from .slides import SEED, as_figure, slide


def _judge_controller_parameters(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a whole number of parameters, got {type(answer).__name__}."
    if answer == 3 * 288:
        return "You counted the weights W but not the biases b: every action has one bias too."
    if answer in (32 * 3 + 3, 256 * 3 + 3):
        return "The controller sees both z and h: its input is the two concatenated."
    if answer == 3 * 288 * 2 or answer == 288 * 288:
        return "W maps the input [z, h] to the 3 actions: its shape is (actions, inputs)."
    if answer != 3 * (32 + 256) + 3:
        return "Count the entries of W (actions x inputs) and of b (one per action), with inputs = len(z) + len(h)."
    return None


controller_parameters = Exercise(
    name="controller parameters",
    judge=_judge_controller_parameters,
    hint_text="a = W [z, h] + b (the paper's appendix then bounds it with tanh). How many rows and columns has W, "
              "and how long is b?",
    solution_text="W is 3 x (32 + 256) = 864 numbers and b is 3 more: 3 * 288 + 3 = 867.",
    praise="Correct: 867 numbers drive the car. Few enough for an evolution strategy to search directly.",
)


def _judge_compression_ratio(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a number (how many input numbers per latent number), got {type(answer).__name__}."
    if math.isclose(answer, 96 * 96 * 3 / 32, rel_tol=0.01):
        return "That is the raw 96x96 frame; the VAE sees the preprocessed 64x64x3 frame."
    if math.isclose(answer, 32 / (64 * 64 * 3), rel_tol=0.01):
        return "That is the ratio upside down: divide the input size by the latent size."
    if math.isclose(answer, 64 * 64 / 32, rel_tol=0.01):
        return "A colour frame has 3 numbers per pixel (red, green, blue)."
    if not math.isclose(answer, 64 * 64 * 3 / 32, rel_tol=0.01):
        return "Divide the number of values in one 64x64 colour frame by the size of z."
    return None


compression_ratio = Exercise(
    name="compression ratio",
    judge=_judge_compression_ratio,
    hint_text="How many numbers are in a 64x64 frame with 3 colour channels? And in z?",
    solution_text="64 * 64 * 3 = 12,288 numbers in, 32 out: 12,288 / 32 = 384 to 1.",
    praise="Correct: each frame is squeezed 384 to 1 before M and C ever see it.",
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


@slide("00_dream_loop", "The one-minute explanation")
def slide_dream_loop() -> plt.Figure:
    return as_figure(draw_dream_loop())
