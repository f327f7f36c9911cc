"""Notebook 05, Take Cover, the paper's own dream: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from collections.abc import Sequence
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from . import animate
import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from ..errors import CourseError, MissingArtefactError  # noqa: E402
from . import plots  # noqa: E402
from .exercise import Exercise, _is_number
from .plots import frame_grid, take_cover_tau_figure
from .slides import SEED, _figure
from .slides import slide


def _judge_take_cover_parameters(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a whole number of parameters, got {type(answer).__name__}."
    if answer == 64 + 512 + 512:
        return "You counted the weights but not the bias: the one output has one bias too (the paper writes 1,088)."
    if answer == 64 + 512 + 1:
        return "Doom's controller reads the LSTM's cell c as well as h: its input is [z, h, c]."
    if answer == 3 * (64 + 512 + 512) + 3:
        return "Take Cover's controller has ONE output, read in thirds (left, stay, right), not one output per action."
    if answer == 32 + 256 + 1 or answer == 867:
        return "Those are CarRacing's sizes: for Doom z has 64 numbers and the LSTM 512 units."
    if answer != 64 + 512 + 512 + 1:
        return "Count the inputs (len(z) + len(h) + len(c)) times the outputs, plus one bias per output."
    return None


take_cover_parameters = Exercise(
    name="Take Cover controller parameters",
    judge=_judge_take_cover_parameters,
    hint_text="a = thirds(tanh(w . [z, h, c] + b)) with z of 64 numbers and an LSTM of 512 units (h and c each 512).",
    solution_text="w has 64 + 512 + 512 = 1,088 numbers and b is 1 more: 1,089 (the paper writes 1,088).",
    praise="Correct: 1,089 numbers decide when to dodge. The paper writes 1,088, the weights alone.",
)


def _judge_thirds_action(f: Any) -> str | None:
    import numpy as np

    from ..real.envs import thirds

    if not callable(f):
        return f"Expected a function to_action(o) that maps raw outputs to -1, 0 or +1, got {type(f).__name__}."
    o = np.concatenate([np.linspace(-3, 3, 241), [0.34, 0.345, -0.34, -0.345, 0.36, -0.36]]).astype(np.float32)
    out = f(o.copy())
    if out is None:
        return "Your function returns None: `return` the actions, one per output."
    got = np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float64).reshape(-1)
    if got.shape != o.shape:
        return f"Return one action per output: expected shape {o.shape}, got {got.shape}."
    want = thirds(np.tanh(o))
    if np.array_equal(got, want):
        return None
    if np.array_equal(got, -want):
        return "Left and right are swapped: the lowest third (tanh(o) < -1/3) is left, -1."
    if np.array_equal(got, thirds(o)):
        return "Squash first: the thirds split tanh(o), which lies in [-1, 1], not the raw output o."
    if np.array_equal(got, np.sign(np.tanh(o))):
        return "There are three choices, not two: the middle third (|tanh(o)| <= 1/3) means stay, 0."
    if set(np.unique(got)) - {-1.0, 0.0, 1.0}:
        return "Each action must be exactly -1 (left), 0 (stay) or +1 (right)."
    wrong = int((got != want).sum())
    return f"{wrong} of {len(o)} outputs are mapped wrongly: compare tanh(o) with -1/3 and +1/3."


thirds_action = Exercise(
    name="thirds action",
    judge=_judge_thirds_action,
    hint_text="t = np.tanh(o); then -1 where t < -1/3, +1 where t > 1/3, 0 elsewhere (np.where, or booleans subtracted).",
    solution_text=(
        "def to_action(o):\n"
        "    t = np.tanh(o)\n"
        "    return (t > 1 / 3).astype(float) - (t < -1 / 3).astype(float)"
    ),
    praise="Correct: that is the paper's Take Cover action, wmcourse.real.envs.thirds applied to tanh of C's output.",
)


def predicted_done_plot(predicted_done: np.ndarray, threshold: float = 0.5, ax: plt.Axes | None = None) -> plt.Axes:
    """M's probability that the game ends now, read along a real episode (notebook 05); a dream ends above
    `threshold`."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.6))
    ax.plot(predicted_done, lw=1)
    ax.axhline(threshold, color="#b91c1c", ls="--", lw=1, label=f"a dream ends above {threshold:g}")
    ax.set_xlabel("real step")
    ax.set_ylabel("M's P(done)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return ax


def animate_side_by_side(movies: dict[str, np.ndarray], every: int | None = None, max_frames: int = 150):
    """Several frame sequences side by side and in step, each (T_i, H, W, 3) uint8 titled by its key; a sequence
    that ends holds its last frame while the others go on. Every `every`-th step is drawn (default: as few as
    cover the longest sequence in max_frames frames). Returns an animate.Animation: a notebook shows it as a
    player that needs nothing from outside (no video encoder, no web font)."""

    if not movies:
        raise ValueError("Expected at least one frame sequence to animate, got none.")
    for name, frames in movies.items():
        if np.asarray(frames).ndim != 4:
            raise ValueError(f"{name!r}: expected frames of shape (T, H, W, 3), got {np.asarray(frames).shape}.")
    longest = max(len(f) for f in movies.values())
    every = every or max(1, -(-longest // max_frames))
    steps = np.arange(0, longest, every)[:max_frames]
    panels = {name: np.asarray(frames, np.uint8)[np.minimum(steps, len(frames) - 1)] for name, frames in movies.items()}
    captions = ["step " + str(t) + "".join(f"; {name} over" for name, f in movies.items() if t >= len(f))
                for t in steps]
    return animate.side_by_side(panels, captions)


def take_cover_seeds_figure(summary: dict, solved: float = 750.0) -> plt.Figure:
    """Each training seed's real score (100 episodes, mean ± std) at every tau all seeds measured, and after
    each round of iterative training it ran, beside its dream score: does the temperature table's story survive
    new data, a new V, M and C, and what do the rounds change? (`summary` as `takecover.training_seed_summary`
    returns it.)"""
    from ..experiments.takecover import chosen_test

    taus = [float(t) for t in summary["across_seeds"]]
    rounds = sorted({row["round"]: row["tau"] for run in summary["runs"] for row in run.get("rounds", [])}.items())
    chosen = bool(summary.get("chosen_across_seeds"))  # every seed kept a round on held-out episodes (select_round)
    columns = len(taus) + len(rounds) + chosen
    fig, ax = plt.subplots(figsize=(10, 3.8))
    width = 0.8 / len(summary["runs"])
    colours = ["#0284c7", "#16a34a", "#ea580c", "#7c3aed"]
    for i, (run, colour) in enumerate(zip(summary["runs"], colours)):
        by_tau = {row["tau"]: row for row in run["rows"]}
        by_round = {row["round"]: row for row in run.get("rounds", [])}
        cells = [(k, by_tau[t]) for k, t in enumerate(taus)]  # a round this seed did not run has no bar
        cells += [(len(taus) + k, by_round[r]) for k, (r, _) in enumerate(rounds) if r in by_round]
        if chosen:  # the kept round's controller on fresh episodes, with that round's dream score
            selection = run["selection"]
            made = by_round.get(selection["chosen_round"]) or by_tau[selection["tau"]]
            test = chosen_test(selection)
            cells.append((columns - 1, {**made, "real_mean": test["real_mean"], "real_std": test["real_std"]}))
        x = np.array([k for k, _ in cells]) + (i - (len(summary["runs"]) - 1) / 2) * width
        ax.bar(x, [row["real_mean"] for _, row in cells], width * 0.9, yerr=[row["real_std"] for _, row in cells],
               color=colour, ec="k", capsize=3, label=f"training seed {run['seed']}: real")
        ax.plot(x, [row["dream_mean"] for _, row in cells], "v", color=colour, mec="k", ms=9)
    ax.plot([], [], "v", color="w", mec="k", ms=9, label="its dream score")
    random = np.mean([run["random_real_mean"] for run in summary["runs"]])
    ax.axhline(solved, color="k", ls="--", lw=1, label=f"solved ({solved:g})")
    ax.axhline(random, color="#6b7280", ls=":", lw=1.2, label=f"random policy ({random:.0f})")
    ax.set_xticks(np.arange(columns), [f"τ = {t:g}" for t in taus]
                  + [f"τ = {tau:g}\nafter round {r}" for r, tau in rounds] + ["kept round,\nfresh episodes"] * chosen)
    if rounds:
        ax.axvline(len(taus) - 0.5, color="#9ca3af", lw=1)
    if chosen:
        ax.axvline(columns - 1.5, color="#9ca3af", lw=1)
    ax.set_ylabel("steps survived")
    ax.set_title("Take Cover over training seeds: each a new dataset, V, M and C", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


@slide("05_tau_table", "3. The measured temperature table")
def slide_take_cover_tau_table() -> plt.Figure:
    from ..experiments import takecover

    return take_cover_tau_figure(takecover.load_shipped_results(), solved=takecover.SOLVED)


@slide("05_training_seeds", "3. The measured temperature table")
def slide_take_cover_training_seeds() -> plt.Figure:
    from ..experiments import takecover

    return take_cover_seeds_figure(takecover.load_training_seeds(), solved=takecover.SOLVED)


def _take_cover_drive(tau: float, steps: int = 400) -> tuple[dict, dict, np.ndarray]:
    """A real Take Cover episode of the controller evolved at tau, its dream at tau from the same first
    frame, and the dream's decoded frames."""
    import torch

    from ..experiments import takecover
    from ..real.envs import TAKE_COVER
    from ..worldmodels import agent, vae

    v, m, _ = takecover.load_shipped_models()
    params, config, _ = takecover.load_shipped_controller(tau)
    seed = takecover.load_shipped_results()["config"]["eval_seed"]
    real = agent.drive_real(agent.WorldModelAgent(v, m, params, config), seed=seed, max_steps=steps, env_id=TAKE_COVER)
    dream = agent.drive_dream(m, params, config, torch.as_tensor(real["z"][0]), tau=tau, max_steps=steps, seed=SEED)
    return real, dream, vae.decode_latents(v, dream["z"])


@slide("05_dream_vs_real", "4. One controller, in its dream and in reality")
def slide_take_cover_dream_vs_real() -> plt.Figure:
    from ..experiments import takecover
    from ..worldmodels import vae

    real, dream, decoded = _take_cover_drive(1.15)
    v, _, _ = takecover.load_shipped_models()
    n = min(len(real["frames"]), len(decoded))
    shown = np.linspace(0, n - 1, 8).astype(int)
    return frame_grid([real["frames"][shown], vae.decode_latents(v, real["z"][shown]), decoded[shown]],
                            ["real", "V's view", "dream\ntau 1.15"], [f"step {t}" for t in shown], size=1.4)


@slide("05_cheating", "5. Cheating at low temperature: the fireballs that never come")
def slide_take_cover_cheating() -> plt.Figure:
    real, dream, decoded = _take_cover_drive(0.1)
    n = min(len(real["frames"]), len(decoded))
    shown = np.linspace(0, n - 1, 8).astype(int)
    return frame_grid([real["frames"][shown], decoded[shown]], ["real", "dream\ntau 0.1"],
                            [f"step {t}" for t in shown], size=1.4)
