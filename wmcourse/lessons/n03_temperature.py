"""Notebook 03, temperature: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

# what the notebook shows from the shared lessons modules (re-exported)
from .. import paper as paper
from ..artefacts import data_dir as data_dir
from ..artefacts import run_command as run_command
from ..checkpoint import count_parameters as count_parameters
from ..errors import ShapeError
from ..runtime import fast_mode as fast_mode
from ..worldmodels import vae as _vae
from .animate import png_bytes
from .controls import DriveWidget as DriveWidget
from .controls import as_latents, error_area, guarded, strip
from .drive import CarDriver as CarDriver
from .exercise import Exercise, _is_number
from .plots import _mixture_density, frame_grid
from .plots import tau_table_plot as tau_table_plot
from .slides import SEED, episode_codes, shipped_mdnrnn, shipped_vae, slide


def _tempered_cases():
    import torch

    g = torch.Generator().manual_seed(3)
    log_pi = torch.log_softmax(1.5 * torch.randn(16, 4, 5, generator=g), dim=-1)
    log_sigma = torch.rand(16, 4, 5, generator=g) - 1.5
    return log_pi, log_sigma


def _judge_tempered_mixture(f: Any) -> str | None:
    import torch

    from ..worldmodels.mdn import temperature

    if not callable(f):
        return f"Expected a function f(log_pi, log_sigma, tau) returning (log_pi, log_sigma), got {type(f).__name__}."
    log_pi, log_sigma = _tempered_cases()
    for tau in (0.5, 1.0, 1.7):
        out = f(log_pi.clone(), log_sigma.clone(), tau)
        if out is None:
            return "Your function returns None: replace the `...` with your code and `return` the two tensors."
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return "Return two things: the tempered log_pi and the tempered log_sigma, as a tuple."
        got_pi, got_sigma = (torch.as_tensor(o, dtype=torch.float32) for o in out)
        if got_pi.shape != log_pi.shape or got_sigma.shape != log_sigma.shape:
            return (f"Keep the shapes: expected two tensors of shape {tuple(log_pi.shape)}, got "
                    f"{tuple(got_pi.shape)} and {tuple(got_sigma.shape)}.")
        want_pi, want_sigma = temperature(log_pi, log_sigma, tau)
        close = lambda a, b: torch.allclose(a, b, atol=1e-5)  # noqa: E731
        if not close(got_pi, want_pi):
            if close(got_pi, log_pi / tau):
                return "Divide the logits by tau, then normalise again (log_softmax over the K components)."
            if close(got_pi, torch.log_softmax(log_pi * tau, dim=-1)):
                return "The logits are divided by tau, not multiplied: tau > 1 must flatten the weights."
            if close(got_pi, torch.log_softmax(log_pi / tau, dim=-2)):
                return "Normalise over the K components (the last axis), not over the dimensions."
            if close(got_pi, torch.softmax(log_pi / tau, dim=-1)):
                return "Return log weights (log_softmax), as log_pi came in, not the weights themselves."
            return "The weights are not right: pi_k(tau) is proportional to pi_k^(1/tau), i.e. softmax(log pi / tau)."
        if not close(got_sigma, want_sigma):
            if close(got_sigma, log_sigma + math.log(tau)):
                return "The noise is scaled by sqrt(tau), not tau: the variance, sigma^2, is what grows by tau."
            if close(got_sigma, log_sigma * math.sqrt(tau)) or close(got_sigma, log_sigma * tau):
                return "log_sigma is a logarithm: multiplying sigma by sqrt(tau) adds log(sqrt(tau)) to it."
            if close(got_sigma, log_sigma.exp() * math.sqrt(tau)):
                return "Return log sigma, as it came in, not sigma itself."
            return "The spreads are not right: every sigma is multiplied by sqrt(tau)."
    return None


tempered_mixture = Exercise(
    name="tempered mixture",
    judge=_judge_tempered_mixture,
    hint_text="Weights: softmax of (log pi / tau) over the last axis, kept in logs. Spreads: sigma * sqrt(tau), "
              "which in logs is log_sigma + log(sqrt(tau)) = log_sigma + 0.5 * log(tau).",
    solution_text=(
        "def tempered_mixture(log_pi, log_sigma, tau):\n"
        "    return torch.log_softmax(log_pi / tau, dim=-1), log_sigma + 0.5 * math.log(tau)"
    ),
    praise="Correct: that is wmcourse.worldmodels.mdn.temperature, the paper's temperature.",
)


def _judge_tempered_weight(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a number between 0 and 1, got {type(answer).__name__}."
    right = 0.8 ** 2 / (0.8 ** 2 + 0.2 ** 2)
    if math.isclose(answer, 0.8 ** 2, rel_tol=1e-3):
        return "pi^(1/tau) alone is not a probability: divide by the sum over both components."
    if math.isclose(answer, 0.8 ** 0.5 / (0.8 ** 0.5 + 0.2 ** 0.5), rel_tol=1e-3):
        return "That is tau = 2 (the power 1/tau = 0.5); here tau = 0.5, so the power is 1/tau = 2."
    if math.isclose(answer, 0.8, rel_tol=1e-3):
        return "That is the weight at tau = 1; at tau = 0.5 the likelier component gains weight."
    if not math.isclose(answer, right, rel_tol=1e-3):
        return "Raise each weight to the power 1/tau, then divide by their sum."
    return None


tempered_weight = Exercise(
    name="tempered weight",
    judge=_judge_tempered_weight,
    hint_text="pi_k(tau) = pi_k^(1/tau) / sum_j pi_j^(1/tau); with tau = 0.5 the power is 2.",
    solution_text="0.8^2 / (0.8^2 + 0.2^2) = 0.64 / 0.68 = 0.941: the likelier branch now wins 94% of the time.",
    praise="Correct: at tau = 0.5 the 80/20 choice becomes about 94/6, and as tau -> 0 it becomes 100/0.",
)


def dream_frames(mdnrnn_model, vae_model: _vae.ConvVAE, z0, actions, tau: float, seed: int = 0,
                 every: int = 8, frames: int = 8) -> np.ndarray:
    """A dream decoded: start from the latent z0 (Z,) of a real frame, roll M forward under `actions` (T, A)
    sampling at temperature tau (wmcourse.worldmodels.dream.dream_sequence, with a generator seeded by `seed`), and
    decode every `every`-th latent (z0 first): uint8 (frames, 64, 64, 3). Needs T >= every * (frames - 1)."""
    import torch

    from ..worldmodels.dream import dream_sequence

    steps = every * (frames - 1)
    actions = as_latents(actions)
    if len(actions) < steps:
        raise ShapeError(f"{frames} frames {every} steps apart need {steps} actions, got {len(actions)}.")
    g = torch.Generator().manual_seed(seed)
    dream = dream_sequence(mdnrnn_model, as_latents(z0), actions[:steps], tau=tau, generator=g)
    return _vae.decode_latents(vae_model, dream[::every])


def dream_grid_figure(mdnrnn_model, vae_model: _vae.ConvVAE, z0, actions, real_frames: np.ndarray,
                      taus=(0.3, 1.0, 1.5, 2.0), seed: int = 0, every: int = 8, frames: int = 8) -> plt.Figure:
    """The real frames every `every` steps above one dream per temperature, each from the same real start frame
    and under the same real actions and the same random seed."""
    rows = [np.asarray(real_frames[:every * (frames - 1) + 1:every])]
    rows += [dream_frames(mdnrnn_model, vae_model, z0, actions, tau, seed, every, frames) for tau in taus]
    return frame_grid(rows, ["real"] + [f"dream\ntau = {tau:g}" for tau in taus],
                            [f"step {every * i}" for i in range(frames)], size=1.3,
                            suptitle="Same start frame, same actions, same seed: only the temperature changes")


class TauDream:
    """A temperature slider (and a seed) that re-samples and decodes a dream live, under the real frames.

    The dream starts from the code of a real held-out frame and follows the real recorded actions, so the
    strip above is what really happened. `frames` holds the decoded dream currently shown."""

    def __init__(self, mdnrnn_model, vae_model: _vae.ConvVAE, z0, actions, real_frames: np.ndarray | None = None,
                 tau: float = 1.0, every: int = 8, frames: int = 8, scale: int = 2):
        self.model, self.vae, self.z0, self.actions = mdnrnn_model, vae_model, z0, actions
        self.every, self.n, self.scale = every, frames, scale
        style = {"description_width": "initial"}
        self.tau = W.FloatSlider(value=tau, min=0.05, max=2.5, step=0.05, description="temperature tau",
                                 continuous_update=False, style=style, layout=W.Layout(width="420px"))
        self.seed = W.IntSlider(value=0, min=0, max=99, description="dream seed", continuous_update=False,
                                style=style)
        self.image, self.errors = W.Image(format="png"), error_area()
        self.tau.observe(guarded(self.errors, lambda _: self.update()), names="value")
        self.seed.observe(guarded(self.errors, lambda _: self.update()), names="value")
        steps = ", ".join(str(every * i) for i in range(frames))
        parts = [W.HBox([self.tau, self.seed])]
        if real_frames is not None:
            real = strip(np.asarray(real_frames[:every * (frames - 1) + 1:every]))
            parts += [W.HTML("<b>real</b> (what happened)"), W.Image(value=png_bytes(real, scale), format="png")]
        parts += [W.HTML("<b>dream</b> (M's imagination from the first real frame, same actions)"), self.image,
                  W.HTML(f"<small>steps {steps}</small>"), self.errors]
        self.widget = W.VBox(parts)
        self.update()

    def update(self) -> np.ndarray:
        self.frames = dream_frames(self.model, self.vae, self.z0, self.actions, self.tau.value, self.seed.value,
                                   self.every, self.n)
        self.image.value = png_bytes(strip(self.frames), self.scale)
        return self.frames

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def tempered_mixture_figure(log_pi, mu, log_sigma, taus=(0.3, 1.0, 1.5, 2.0)) -> plt.Figure:
    """One 1-D mixture at several temperatures: its density (left) and its weights pi_k(tau) (right).

    log_pi, mu, log_sigma: (K,) tensors or arrays; the tempering is wmcourse.worldmodels.mdn.temperature."""
    import torch

    from ..worldmodels.mdn import temperature

    log_pi, mu, log_sigma = (torch.as_tensor(np.asarray(a, np.float32)) for a in (log_pi, mu, log_sigma))
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})
    lo, hi = float((mu - 4 * log_sigma.exp() * 1.6).min()), float((mu + 4 * log_sigma.exp() * 1.6).max())
    ys = np.linspace(lo, hi, 600)
    colors = [("#111827" if tau == 1 else plt.cm.coolwarm(0.1 if tau < 1 else 0.55 + 0.45 * min(tau - 1, 1)))
              for tau in taus]
    K, width = len(mu), 0.8 / len(taus)
    for i, (tau, color) in enumerate(zip(taus, colors)):
        lp, ls = temperature(log_pi, log_sigma, tau)
        pi, sigma = lp.exp().numpy(), ls.exp().numpy()
        axes[0].plot(ys, _mixture_density(ys, pi, mu.numpy(), sigma), color=color, lw=2.2 if tau == 1 else 1.6,
                     ls="-" if tau == 1 else "--", label=f"tau = {tau:g}" + ("  (as trained)" if tau == 1 else ""))
        axes[1].bar(np.arange(K) + (i - (len(taus) - 1) / 2) * width, pi, width, color=color, ec="#333", lw=0.5,
                    label=f"tau = {tau:g}")
    for k in range(K):
        axes[0].axvline(float(mu[k]), color="#9ca3af", lw=0.8, ls=":")
    axes[0].set_xlabel("next value of one latent dimension")
    axes[0].set_ylabel("density")
    axes[0].set_title("the mixture's density: tau < 1 sharpens, tau > 1 flattens and widens")
    axes[0].legend()
    axes[1].set_xticks(np.arange(K), [f"k = {k + 1}\nmu = {float(mu[k]):+.1f}" for k in range(K)])
    axes[1].set_ylabel("weight pi_k(tau)")
    axes[1].set_title("the weights: softmax(log pi / tau)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def dream_spread_plot(spread: dict[str, np.ndarray], real_step: float | None = None) -> plt.Figure:
    """How jumpy each dream is and how far many dreams drift apart, by temperature.

    Measured by wmcourse.worldmodels.probes.dream_spread."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.3))
    axes[0].plot(spread["tau"], spread["step"], "o-", color="#7c3aed")
    if real_step is not None:
        axes[0].axhline(real_step, color="#15803d", ls="--", label="the real episode")
        axes[0].legend()
    axes[0].set_ylabel("mean squared change\nper step, per dim")
    axes[0].set_title("how jumpy one dream is")
    axes[1].plot(spread["tau"], spread["spread"], "o-", color="#b91c1c")
    axes[1].set_ylabel("variance across dreams\nat the last step, per dim")
    axes[1].set_title("how far dreams from the same start drift apart")
    for ax in axes:
        ax.set_xlabel("temperature tau")
        ax.axvline(1.0, color="#9ca3af", ls=":", lw=1)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


@functools.cache
def _dream_setup(n_frames: int = 8):
    """The dream of notebook 03: the start code, the real actions and the real frames, from held-out episode 0."""
    import torch

    from ..worldmodels import vae

    episode, _, _, _ = episode_codes()
    every = min(8, len(episode) // n_frames)
    span = every * (n_frames - 1)
    start = min(100, len(episode) - span)
    z_start, _ = vae.encode_frames(shipped_vae(), episode.obs[start:start + 1])
    actions = torch.from_numpy(episode.action[start:start + span]).float()
    return episode, start, every, span, torch.from_numpy(z_start[0]), actions, episode.obs[start:start + span + 1]


@slide("03_tempered_mixture", "1. What τ does to a mixture")
def slide_tempered_mixture() -> plt.Figure:
    import torch

    log_pi = torch.log(torch.tensor([0.6, 0.3, 0.1]))
    mu = torch.tensor([-1.0, 0.8, 2.5])
    log_sigma = torch.log(torch.tensor([0.35, 0.3, 0.4]))
    return tempered_mixture_figure(log_pi, mu, log_sigma, taus=(0.3, 1.0, 1.5, 2.0))


@slide("03_dream_grid", "2. Dreaming CarRacing at different temperatures")
def slide_dream_grid() -> plt.Figure:

    _, _, every, _, z0, actions, real = _dream_setup()
    return dream_grid_figure(shipped_mdnrnn(), shipped_vae(), z0, actions, real, taus=(0.3, 1.0, 1.5, 2.0), seed=SEED,
                                     every=every, frames=8)


@slide("03_dream_spread", "3. Measured: how wild are the dreams?")
def slide_dream_spread() -> plt.Figure:
    import torch

    from ..worldmodels import probes, vae

    episode, start, _, span, z0, actions, _ = _dream_setup()
    taus = [0.1, 0.3, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0]
    spread = probes.dream_spread(shipped_mdnrnn(), z0, actions, taus, dreams=64, seed=SEED)
    mu, logvar = vae.encode_frames(shipped_vae(), episode.obs[start:start + span + 1])
    real_step = probes.sampled_step_size(torch.from_numpy(mu), torch.from_numpy(logvar), seed=SEED)
    return dream_spread_plot(spread, real_step=real_step)


@slide("03_vizdoom_tau", "4. Nightmares: the paper's VizDoom result")
def slide_vizdoom_tau() -> plt.Figure:
    """The paper's table alone: notebook 05 measures it (its deck shows the measured table beside it)."""
    from .. import paper

    fig, ax = plt.subplots(figsize=(7, 3.8))
    tau_table_plot(paper.tau_rows(), "the paper: VizDoom Take Cover", solved=paper.VIZDOOM_SOLVED,
                   random=paper.VIZDOOM_RANDOM, ax=ax)
    fig.tight_layout()
    return fig
