"""Notebook 06, CarRacing, dream vs real: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

# what the notebook shows from the shared lessons modules (re-exported)
from .. import paper as paper
from ..artefacts import data_dir as data_dir
from ..artefacts import run_command as run_command
from ..checkpoint import count_parameters as count_parameters
from ..errors import MissingArtefactError
from ..runtime import fast_mode as fast_mode
from ..worldmodels import vae as _vae
from . import animate
from .animate import drive_animation as drive_animation
from .controls import DriveWidget as DriveWidget
from .controls import FigureControl, decode_code, slider
from .diagrams import draw_iterative_training as draw_iterative_training
from .drive import CarDriver as CarDriver
from .exercise import _FUNCTION_NOT_DONE, Exercise, answer_array
from .plots import frame_grid as frame_grid
from .plots import tau_table_plot as tau_table_plot
from .slides import SEED, as_figure, shipped_mdnrnn, shipped_vae, slide


def _dream_step_case(seed: int = 5):
    """M's mixture for a batch of dream steps: (log_pi, mu, log_sigma), each (64, 6, 5) = dreams x dims x K."""
    import torch

    g = torch.Generator().manual_seed(seed)
    log_pi = torch.log_softmax(1.5 * torch.randn(64, 6, 5, generator=g), dim=-1)
    mu = 2 * torch.randn(64, 6, 5, generator=g)
    log_sigma = torch.rand(64, 6, 5, generator=g) - 1.5
    return log_pi, mu, log_sigma


def _call_with_generator(f: Any, args: tuple, seed: int):
    import torch

    return f(*(a.clone() if isinstance(a, torch.Tensor) else a for a in args), torch.Generator().manual_seed(seed))


def _judge_sample_component(f: Any) -> str | None:
    import torch

    from ..worldmodels.mdn import sample_component

    if not callable(f):
        return f"Expected a function f(log_pi, tau, generator), got {type(f).__name__}."
    log_pi, _, _ = _dream_step_case()
    for tau in (1.0, 0.5, 1.7):
        out = _call_with_generator(f, (log_pi, tau), seed=17)
        if out is None or out is Ellipsis:
            return _FUNCTION_NOT_DONE
        out = torch.as_tensor(out)
        if out.shape != log_pi.shape[:-1]:
            return (f"Return one component index per dream and dimension, shape {tuple(log_pi.shape[:-1])} "
                    f"(log_pi without its last axis), got {tuple(out.shape)}.")
        if out.is_floating_point() and not torch.equal(out, out.round()):
            return "Return whole-number indices k (0 to K - 1), not probabilities or weights."
        out = out.long()
        want = sample_component(log_pi, tau, torch.Generator().manual_seed(17))
        if torch.equal(out, want):
            continue
        if torch.equal(out, log_pi.argmax(-1)):
            return "You always took the likeliest component: draw one at random, with probability pi_k(tau)."
        if tau != 1.0 and torch.equal(out, sample_component(log_pi, 1.0, torch.Generator().manual_seed(17))):
            return "The temperature is missing: the weights are softmax(log_pi / tau), not softmax(log_pi)."
        if tau != 1.0 and torch.equal(out, sample_component(log_pi * tau, 1.0, torch.Generator().manual_seed(17))):
            return "Divide the log weights by tau, do not multiply: tau > 1 must flatten the weights."
        u = torch.rand(log_pi.shape[:-1] + (1,), generator=torch.Generator().manual_seed(17))
        cum_log = log_pi.div(tau).log_softmax(-1).cumsum(-1)
        if torch.equal(out, (cum_log < u).sum(-1).clamp(max=log_pi.shape[-1] - 1)):
            return "You added up the log weights: exponentiate first (torch.softmax), then take the cumulative sum."
        if torch.equal(out, want + 1):
            return ("Off by one: k is the NUMBER of cumulative weights below u (the first k whose cumulative weight "
                    "reaches u), counted from 0.")
        return ("Not the package's draw: compute pi = softmax(log_pi / tau), draw ONE uniform u per dream and "
                "dimension with torch.rand(..., generator=generator), and count the cumulative weights below u.")
    return None


sample_component_exercise = Exercise(
    name="component of the mixture",
    judge=_judge_sample_component,
    hint_text=("pi = torch.softmax(log_pi / tau, dim=-1); u = torch.rand(pi.shape[:-1] + (1,), generator=generator); "
               "k = the number of entries of pi.cumsum(-1) that are below u (a sum of a comparison)."),
    solution_text=(
        "def my_sample_component(log_pi, tau, generator):\n"
        "    pi = torch.softmax(log_pi / tau, dim=-1)\n"
        "    u = torch.rand(pi.shape[:-1] + (1,), generator=generator)\n"
        "    k = (pi.cumsum(dim=-1) < u).sum(dim=-1)\n"
        "    return k.clamp(max=pi.shape[-1] - 1)  # rounding can leave the last cumulative weight just below 1"
    ),
    praise="Correct: the same components as wmcourse.worldmodels.mdn.sample_component, "
           "drawn from the same random numbers.",
)


def _judge_dream_sample(f: Any) -> str | None:

    import torch

    from ..worldmodels.mdn import sample, sample_component

    if not callable(f):
        return f"Expected a function f(log_pi, mu, log_sigma, tau, generator), got {type(f).__name__}."
    log_pi, mu, log_sigma = _dream_step_case(seed=6)
    for tau in (1.0, 1.5, 0.4):
        out = _call_with_generator(f, (log_pi, mu, log_sigma, tau), seed=23)
        if out is None or out is Ellipsis:
            return _FUNCTION_NOT_DONE
        out = torch.as_tensor(out, dtype=torch.float32)
        if out.shape != mu.shape[:-1]:
            return f"Return one number per dream and dimension, shape {tuple(mu.shape[:-1])}, got {tuple(out.shape)}."
        want = sample(log_pi, mu, log_sigma, tau, torch.Generator().manual_seed(23))
        close = lambda a, b: torch.allclose(a, b, rtol=1e-5, atol=1e-5)  # noqa: E731
        if close(out, want):
            continue
        g = torch.Generator().manual_seed(23)
        k = sample_component(log_pi, tau, g).unsqueeze(-1)
        eps = torch.randn(mu.shape[:-1], generator=g)
        mu_k, sigma_k = mu.gather(-1, k).squeeze(-1), log_sigma.gather(-1, k).squeeze(-1).exp()
        if close(out, mu_k):
            return "The noise is missing: z = mu_k + sigma_k * sqrt(tau) * eps, not the component's mean alone."
        if tau != 1.0 and close(out, mu_k + sigma_k * eps):
            return "The spread ignores tau: the paper's temperature multiplies sigma by sqrt(tau)."
        if tau != 1.0 and close(out, mu_k + sigma_k * tau * eps):
            return "sigma is multiplied by sqrt(tau), not tau: the VARIANCE grows by tau."
        if close(out, mu_k + log_sigma.gather(-1, k).squeeze(-1) * math.sqrt(tau) * eps):
            return "log_sigma is a logarithm: the spread is exp(log_sigma)."
        if close(out, (log_pi.exp() * mu).sum(-1)):
            return "That is the mixture's mean, the same every time: a dream step is a random draw."
        g = torch.Generator().manual_seed(23)
        eps_first = torch.randn(mu.shape[:-1], generator=g)
        k_after = sample_component(log_pi, tau, g).unsqueeze(-1)
        swapped = (mu.gather(-1, k_after).squeeze(-1)
                   + log_sigma.gather(-1, k_after).squeeze(-1).exp() * math.sqrt(tau) * eps_first)
        if close(out, swapped):
            return ("Draw the component first and the Gaussian noise second, from the same generator, "
                    "as the package does.")
        u = torch.rand(mu.shape[:-1], generator=torch.Generator().manual_seed(23))
        if close(out, mu_k + sigma_k * math.sqrt(tau) * u):
            return "eps must be Gaussian noise, torch.randn, not uniform noise (torch.rand)."
        return ("Not the package's draw: first k from your component sampler (or "
                "wmcourse.worldmodels.mdn.sample_component) with the generator, then "
                "eps = torch.randn(..., generator=generator), z = mu_k + sigma_k sqrt(tau) eps.")
    return None


dream_sample = Exercise(
    name="one dream step",
    judge=_judge_dream_sample,
    hint_text=("k = my_sample_component(log_pi, tau, generator).unsqueeze(-1); pick mu_k = mu.gather(-1, k) and "
               "sigma_k = log_sigma.gather(-1, k).exp() (squeeze the last axis); then "
               "eps = torch.randn(mu_k.shape, generator=generator) and z = mu_k + sigma_k * sqrt(tau) * eps."),
    solution_text=(
        "def my_dream_sample(log_pi, mu, log_sigma, tau, generator):\n"
        "    k = my_sample_component(log_pi, tau, generator).unsqueeze(-1)\n"
        "    mu_k = mu.gather(-1, k).squeeze(-1)\n"
        "    sigma_k = log_sigma.gather(-1, k).squeeze(-1).exp() * math.sqrt(tau)\n"
        "    eps = torch.randn(mu_k.shape, generator=generator)\n"
        "    return mu_k + sigma_k * eps"
    ),
    praise="Correct: the same draw as wmcourse.worldmodels.mdn.sample, the step that every dream of this course takes.",
)


class RewardGapScrubber(FigureControl):
    """Notebook 06: a slider along a real drive (wmcourse.worldmodels.agent.drive_real): the frame there, V's view of
    it, and what the game paid against what M's reward head predicted, up to that step."""

    def __init__(self, real: dict, vae_model: _vae.ConvVAE, window: int = 25, start: int | None = None):
        self.real, self.vae, self.window = real, vae_model, window
        last = len(real["rewards"]) - 1
        self.step = slider(W.IntSlider, "step of the real drive", value=last if start is None else start, min=0,
                            max=last, width="520px")
        self._build([self.step])

    def figure_now(self) -> plt.Figure:
        t = self.step.value
        return reward_gap_at(self.real, t, decode_code(self.vae, self.real["z"][t]), self.window)


def reward_gap_figure(real: dict, dream: dict) -> plt.Figure:
    """Cumulative reward: what the real game paid along a real drive, what M's reward head predicted along the
    same drive, and what M paid in its own dream (wmcourse.worldmodels.agent.drive_real and drive_dream)."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(np.cumsum(real["rewards"]), color="#15803d", label="real reward (the game)")
    ax.plot(np.cumsum(real["predicted_rewards"]), color="#7c3aed", ls="--",
            label="M's reward head, along the same real drive")
    ax.plot(np.cumsum(dream["rewards"]), color="#a78bfa", alpha=0.7, label="reward in the dream (M's own trajectory)")
    ax.set_xlabel("step")
    ax.set_ylabel("cumulative reward")
    ax.set_title("what the dream pays vs what reality pays")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def reward_gap_at(real: dict, t: int, v_view: np.ndarray, window: int = 25) -> plt.Figure:
    """Notebook 06's reward-gap scrubber: the real frame at step t of a real drive
    (wmcourse.worldmodels.agent.drive_real) and V's view of it, beside the cumulative reward the game paid and the one
    M's reward head predicted along the same drive, step t marked; the title says what each paid over the `window` steps
    up to t."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), gridspec_kw={"width_ratios": [1, 1, 2.6]})
    for ax, frame, title in ((axes[0], real["frames"][t], f"real frame, step {t}"), (axes[1], v_view, "V's view")):
        ax.imshow(frame, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    paid, predicted = np.cumsum(real["rewards"]), np.cumsum(real["predicted_rewards"])
    ax = axes[2]
    ax.plot(paid, color="#15803d", label="the game paid")
    ax.plot(predicted, color="#7c3aed", ls="--", label="M's reward head predicted")
    ax.fill_between(np.arange(len(paid)), paid, predicted, color="#a78bfa", alpha=0.2)
    ax.axvline(t, color="k", lw=1, ls=":")
    start = max(0, t - window + 1)
    real_window = float(real["rewards"][start:t + 1].sum())
    m_window = float(real["predicted_rewards"][start:t + 1].sum())
    ax.set_title(f"steps {start}-{t}: the game paid {real_window:+.1f}, M predicted {m_window:+.1f} "
                 f"(gap {m_window - real_window:+.1f})", fontsize=9)
    ax.set_xlabel("step of the real drive")
    ax.set_ylabel("cumulative reward")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def dream_real_rounds(rounds: dict[int, tuple[float, dict]], ax: plt.Axes | None = None) -> plt.Axes:
    """Each round of the iterative loop (notebook 06): its controller's dream score (population mean in the last
    generation) above its real score (an evaluation dict with "mean" and "std"), as horizontal bars."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 1.2 + 0.9 * len(rounds)))
    labels = [f"round {i}: {world}" for i in rounds for world in ("dream", "real")]
    values = [v for dream_mean, ev in rounds.values() for v in (dream_mean, ev["mean"])]
    errors = [e for _, ev in rounds.values() for e in (0, ev["std"])]
    ax.barh(labels, values, xerr=errors, color=["#c4b5fd", "#86efac"] * len(rounds), ec="k", capsize=3)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("score (dream: population mean in the last generation; real: mean ± std over episodes)")
    ax.invert_yaxis()
    return ax


def real_step_curves(curves: Sequence, target: float = 900.0, ax: plt.Axes | None = None) -> plt.Axes:
    """Real score against the real steps spent (`ledger.StepCurve`s): each setup's line of measurements and, as a
    star with its std, its final controller on the held-out tracks; a dashed line at the target."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.6))
    colours = ["#7c3aed", "#16a34a", "#ea580c", "#b91c1c", "#0284c7"]
    for curve, colour in zip(curves, colours):
        ax.plot(curve.steps, curve.scores, "o-", color=colour, ms=4, lw=1.4, alpha=0.8, label=curve.label)
        steps, mean, std = curve.held_out
        ax.errorbar([steps], [mean], yerr=[std], fmt="*", ms=16, color=colour, mec="k", capsize=4)
    ax.axhline(target, color="k", ls="--", lw=1)
    ax.text(ax.get_xlim()[0], target, f" target {target:g}", va="bottom", fontsize=9)
    ax.set_xlabel("real CarRacing steps spent (data + selection + refinement)")
    ax.set_ylabel("real score")
    ax.xaxis.set_major_formatter(lambda x, _: f"{x / 1000:,.0f}k")
    ax.set_title("lines: a round's 20 episodes, 16 validation tracks or a generation's population mean; "
                 "stars: 100 held-out tracks ± std", fontsize=9)
    ax.legend(loc="lower right", fontsize=9)
    return ax


def long_search_plot(run: dict, ax: plt.Axes | None = None) -> plt.Axes:
    """A dream search run longer (catalogue.load_long_search()): the population's mean dream score generation by
    generation, and the search mean's real score on the validation tracks at the generations that drove them
    (± standard error); the kept generation ringed."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    history, rows = run["history"], run["selection"]["generations"]
    ax.plot([h["generation"] for h in history], [h["mean"] for h in history], color="#7c3aed", lw=1.6,
            label="dream: the population's mean\n(each candidate's worst of three Ms)")
    n = run["validation_tracks"]
    ax.errorbar([r["generation"] for r in rows], [r["mean"] for r in rows],
                yerr=[r["std"] / np.sqrt(n) for r in rows], fmt="o-", color="#16a34a", capsize=4,
                label=f"real: the search mean on {n}\nvalidation tracks (± standard error)")
    kept = next(r for r in rows if r["generation"] == run["selection"]["chosen"])
    ax.plot([kept["generation"]], [kept["mean"]], "o", ms=14, mfc="none", mec="k", label="kept")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("CMA-ES generation in the dream")
    ax.set_ylabel("score")
    ax.set_title("searching longer in the dream: the dream pays more, the real game less", fontsize=10)
    ax.set_ylim(top=1.5 * max(h["mean"] for h in history))  # room above the curves for the legend
    ax.legend(fontsize=8, loc="upper left", ncol=3)
    ax.figure.tight_layout()
    return ax


def search_seeds_plot(run: dict, ax: plt.Axes | None = None) -> plt.Axes:
    """The same dream search run with several search seeds (catalogue.load_search_seeds()): each draw's dream score
    (its last generation's population mean, each candidate's worst of three Ms) against its search mean's real
    score on the validation tracks (± standard error), the kept draw ringed, and the shipped three-Ms controller's
    score on the same tracks as a band."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    n, rows = run["validation_tracks"], run["selection"]["generations"]  # a row's "generation": its search seed
    dream = {r["generation"]: run["searches"][str(r["generation"])][-1]["mean"] for r in rows}
    ref = run["selection"]["reference"]["generations"][0]
    ax.axhspan(ref["mean"] - ref["std"] / np.sqrt(n), ref["mean"] + ref["std"] / np.sqrt(n), color="#e5e7eb",
               label="the first run's controller on the same\ntracks (± standard error; no dream score)")
    ax.errorbar([dream[r["generation"]] for r in rows], [r["mean"] for r in rows],
                yerr=[r["std"] / np.sqrt(n) for r in rows], fmt="o", color="#16a34a", capsize=4,
                label=f"a draw: its search mean on\n{n} validation tracks (± standard error)")
    for r in rows:
        ax.annotate(f"seed {r['generation']}", (dream[r["generation"]], r["mean"]), textcoords="offset points",
                    xytext=(6, 4), fontsize=8)
    kept = next(r for r in rows if r["generation"] == run["selection"]["chosen"])
    ax.plot([dream[kept["generation"]]], [kept["mean"]], "o", ms=14, mfc="none", mec="k", label="kept")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel(f"dream score after {run['generations']} generations (the population's mean, worst of three Ms)")
    ax.set_ylabel("real score")
    ax.set_title(f"{len(rows)} draws of one recipe: the dream's score against the real game's", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.figure.tight_layout()
    return ax


def score_bars(bars: dict[str, float], solved: float | None = None, xlabel: str = "score",
               ax: plt.Axes | None = None) -> plt.Axes:
    """Named scores as horizontal bars, each labelled with its value, against an optional 'solved' line.
    Colours cycle dream (violet), real (green), reference (grey)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.0))
    ax.barh(list(bars), list(bars.values()), color=["#c4b5fd", "#86efac", "#e5e7eb"][:len(bars)], ec="k")
    for y, value in enumerate(bars.values()):
        ax.text(value, y, f" {value:.0f}", va="center", fontsize=9)
    if solved is not None:
        ax.axvline(solved, color="#b91c1c", ls="--", label=f"solved ({solved:g})")
        ax.legend(fontsize=8)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.figure.tight_layout()
    return ax


def tau_sweep_plot(sweep: dict, solved: bool = True, ax=None):
    """The measured sweep as grouped bars (dream and real score per tau) over the random policy's band, as in
    notebooks 03 and 06 and deck 03; solved draws CarRacing's 900 line."""
    from .. import paper
    from ..experiments.tau_sweep import random_band

    return tau_table_plot(sweep["rows"], f"Measured here: {sweep.get('env', 'CarRacing-v3')}, controller "
                                "evolved in the dream", solved=paper.CARRACING_SOLVED if solved else None,
                                random=random_band(sweep), ax=ax)


@functools.cache
def _two_drives(steps: int | None = None):
    """Notebook 06's two drives of the shipped controller: in the real car, and in a dream from the same frame
    (160 steps; 80 in fast mode, the tests' quick build of the decks)."""
    steps = steps or (80 if fast_mode() else 160)
    import torch

    from ..shipped import catalogue as shipped
    from ..worldmodels import agent

    params, config, details = shipped.load_shipped_controller()
    evaluation = shipped.load_shipped_evaluation()
    real = agent.drive_real(agent.WorldModelAgent(shipped_vae(), shipped_mdnrnn(), params, config),
                            seed=evaluation.get("seed", 1000), max_steps=steps)
    dream = agent.drive_dream(shipped_mdnrnn(), params, config, torch.as_tensor(real["z"][0]), tau=details["tau"],
                              max_steps=steps, seed=SEED)
    return details, evaluation, real, dream


CARRACING_SCORE = "score (CarRacing reward: +1000/N per tile, -0.1 per frame)"


@slide("06_two_scores", "1. Two scores for one controller")
def slide_two_scores() -> plt.Figure:
    from .. import paper
    from ..shipped import catalogue as shipped

    _, _, details = shipped.load_shipped_controller()
    evaluation = shipped.load_shipped_evaluation()
    bars = {"dream (while evolving)": details["history"][-1]["mean"],
            f"real (this controller, {evaluation['episodes']} episodes)": evaluation["mean"],
            "paper: evolved in REAL env": paper.CARRACING_TABLE["full World Model (z, h)"][0]}
    return score_bars(bars, paper.CARRACING_SOLVED, CARRACING_SCORE).figure


@slide("06_two_worlds", "2. The same controller in the real car and in the dream")
def slide_two_worlds() -> plt.Figure:
    from ..worldmodels import vae

    _, _, real, dream = _two_drives()
    shown = np.linspace(0, min(len(real["frames"]), len(dream["z"])) - 1, 8).astype(int)
    return frame_grid([real["frames"][shown], vae.decode_latents(shipped_vae(), real["z"][shown]),
                             vae.decode_latents(shipped_vae(), dream["z"][shown])],
                            ["real", "V's view\nof real", "dream"], [f"step {t}" for t in shown],
                            suptitle="one controller, two worlds")


@slide("06_drive", "2. The same controller in the real car and in the dream")
def slide_drive():
    """The notebook's animation: real car, V's view and the dream, in step (a GIF)."""
    import functools as ft

    from ..worldmodels import vae

    _, _, real, dream = _two_drives()
    return animate.drive_animation(real, dream, ft.partial(vae.decode_latents, shipped_vae()), every=2)


@slide("06_reward_gap", "3. Where the dream pays and reality does not")
def slide_reward_gap() -> plt.Figure:
    _, _, real, dream = _two_drives()
    return reward_gap_figure(real, dream)


@slide("06_real_step_curves", "4. The paper's fix, one round: let reality correct the dream")
def slide_real_step_curves() -> plt.Figure:
    from ..shipped import catalogue as shipped

    return as_figure(real_step_curves(shipped.carracing_step_curves()))


@slide("06_long_search", "Does a longer search in the dream help?")
def slide_long_search() -> plt.Figure:
    from ..shipped import catalogue as shipped

    return as_figure(long_search_plot(shipped.load_long_search()))


@slide("06_search_seeds", "One run is one draw")
def slide_search_seeds() -> plt.Figure:
    from ..shipped import catalogue as shipped

    return as_figure(search_seeds_plot(shipped.load_search_seeds()))


@slide("06_iterative_training", "4. The paper's fix, one round: let reality correct the dream")
def slide_iterative_training() -> plt.Figure:
    return as_figure(draw_iterative_training(rounds=2))


@slide("06_tau_sweep", "5. Temperature: the measured sweep next to the paper's VizDoom table")
def slide_tau_sweep() -> plt.Figure:
    from ..experiments.tau_sweep import TAU_SWEEP_COMMAND, load_tau_sweep

    sweep = load_tau_sweep()
    if sweep is None:
        raise MissingArtefactError(f"data/tau_sweep.json does not exist yet; make it with:\n    {TAU_SWEEP_COMMAND}")
    ax = tau_sweep_plot(sweep)
    ax.figure.tight_layout()
    return ax.figure


def setups_table(curves) -> str:
    """The CarRacing setups as a Markdown table: the score on the 100 held-out tracks, the real steps each
    spent before them (from the run ledger), and how many of those were real CMA-ES."""
    from .. import artefacts
    from ..shipped import ledger

    spent = ledger.steps_by_setup_and_stage(ledger.load(artefacts.data_dir() / ledger.LEDGER_NAME))
    rows = [f"| {ledger.SETUPS.get(c.setup, c.setup)} | {c.held_out[1]:.1f} ± {c.held_out[2]:.1f} | "
            f"{c.held_out[0]:,} | {spent[c.setup]['refinement']:,} |" for c in curves]
    return ("| setup | real score, 100 held-out tracks | real steps spent before them | of which real CMA-ES |\n"
            "|---|---:|---:|---:|\n" + "\n".join(rows))


# --- where the dream over-pays: the learner measures M's reward gap along a real drive -------------------------

def reference_overpaid(real_rewards, predicted_rewards, window: int):
    """For each step t: what M's reward head predicted minus what the game paid, summed over the `window` steps up
    to and including t (fewer at the start): where that is large, the dream pays for driving reality does not."""
    gap = np.cumsum(np.asarray(predicted_rewards, np.float64) - np.asarray(real_rewards, np.float64))
    shifted = np.concatenate([np.zeros(window), gap])[: len(gap)]
    return gap - shifted


def _judge_overpaid(f: Any) -> str | None:
    if not callable(f):
        return f"Expected a function overpaid(real_rewards, predicted_rewards, window), got {type(f).__name__}."
    rng = np.random.default_rng(7)
    real = np.round(rng.normal(-0.1, 1.0, 40), 2)
    predicted = np.round(real + rng.normal(0.5, 0.5, 40), 2)
    window = 5
    got = answer_array(f(real.copy(), predicted.copy(), window), real.shape, "per step of the drive")
    if isinstance(got, str):
        return got
    right = reference_overpaid(real, predicted, window)
    if np.allclose(got, right, atol=1e-6):
        return None
    if np.allclose(got, -right, atol=1e-6):
        return "The sign is reversed: over-paying is what M predicted MINUS what the game paid."
    if np.allclose(got, np.cumsum(predicted - real), atol=1e-6):
        return "That is the gap since the start of the drive: sum only the last `window` steps up to t."
    if np.allclose(got, predicted - real, atol=1e-6):
        return "That is the gap of one step: sum it over the `window` steps up to and including t."
    if np.allclose(got[window:], reference_overpaid(real, predicted, window + 1)[window:], atol=1e-6) or \
            np.allclose(got[window:], reference_overpaid(real, predicted, window - 1)[window:], atol=1e-6):
        return "Your window is one step off: it holds exactly `window` steps, t among them."
    if np.allclose(got[window:], right[window:] / window, atol=1e-6):
        return "Sum the gap over the window (the scrubber shows sums), do not average it."
    if np.allclose(got[window - 1:], right[window - 1:], atol=1e-6):
        return "At the start of the drive the window is shorter: sum the steps there are (from step 0 to t)."
    return "Expected, at each step t, the sum of (predicted - paid) over steps max(0, t - window + 1) to t."


overpaid_exercise = Exercise(
    name="where the dream over-pays",
    judge=_judge_overpaid,
    hint_text="gap = predicted - real per step; at step t sum gap[max(0, t - window + 1): t + 1]. np.cumsum helps.",
    solution_text=inspect.getsource(reference_overpaid).replace("def reference_overpaid", "def overpaid"),
    praise="Correct: where this is large, M pays for driving that the game does not reward, and a controller "
           "evolved in the dream learns to do exactly that.",
)
