"""Notebook 01, V, the variational autoencoder: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from .. import checkpoint

# what the notebook shows from the shared lessons modules (re-exported)
from .. import paper as paper
from ..artefacts import data_dir as data_dir
from ..artefacts import run_command as run_command
from ..checkpoint import count_parameters as count_parameters
from ..errors import MissingArtefactError  # noqa: E402
from ..runtime import fast_mode as fast_mode
from ..worldmodels import vae as _vae
from .animate import png_bytes
from .controls import decode_code, error_area, guarded, show_in
from .diagrams import draw_architecture as draw_architecture
from .diagrams import draw_elbo_gap as draw_elbo_gap
from .diagrams import draw_reparameterisation as draw_reparameterisation
from .diagrams import vae_layers as vae_layers
from .exercise import _FUNCTION_NOT_DONE, Exercise
from .plots import frame_grid
from .plots import show_frames as show_frames
from .slides import SEED, as_figure, shipped_vae, slide


def _gaussian_case(seed: int = 2018, shape: tuple[int, int] = (6, 8)):
    """mu, logvar, eps (float32, batch x latent dims) with logvar spread over [-3, 2]: sigma far from 1, so the
    typical mistakes (logvar as sigma, exp(logvar) as sigma, ...) all give clearly different numbers."""
    import torch

    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(shape, generator=g) * 1.5
    logvar = torch.rand(shape, generator=g) * 5 - 3
    eps = torch.randn(shape, generator=g)
    return mu, logvar, eps


def _as_tensor(out: Any):
    import torch

    return torch.as_tensor(out, dtype=torch.float32)


def _judge_reparameterization(f: Any) -> str | None:
    import torch

    if not callable(f):
        return f"Expected a function f(mu, logvar, eps), got {type(f).__name__}."
    mu, logvar, eps = _gaussian_case()

    def call(m, lv, e):
        return f(m.clone(), lv.clone(), e.clone())

    out = call(mu, logvar, eps)
    if out is None or out is Ellipsis:
        return _FUNCTION_NOT_DONE
    if isinstance(out, (tuple, list)):
        return "Return one tensor z with the shape of mu, not a tuple or list."
    out = _as_tensor(out)
    if out.shape != mu.shape:
        return (f"z must have the shape of mu, {tuple(mu.shape)} (one sample per latent dimension), "
                f"got {tuple(out.shape)}.")
    again = _as_tensor(call(mu, logvar, eps))
    if not torch.allclose(out, again):
        return ("Two calls with the same eps gave different z: you drew your own noise. Use the eps you are given; "
                "the randomness comes in from outside, so z is an ordinary function of mu and sigma.")
    sigma = torch.exp(0.5 * logvar)
    expected = mu + sigma * eps
    close = lambda a, b: torch.allclose(a, b, rtol=1e-4, atol=1e-5)  # noqa: E731
    if not close(out, expected):
        if close(out, _as_tensor(call(mu, logvar, 2 * eps))):
            return ("Your z does not change when eps changes: z = mu + sigma * eps, the noise eps is what makes it "
                    "a sample.")
        mistakes = [
            (mu + logvar * eps,
             "You used logvar as the standard deviation: logvar is log sigma^2, so sigma = exp(logvar / 2)."),
            (mu + torch.exp(logvar) * eps,
             "exp(logvar) is the variance sigma^2; the noise is scaled by the standard deviation "
             "sigma = exp(logvar / 2)."),
            (mu + torch.exp(-0.5 * logvar) * eps, "You divided by sigma: sigma = exp(+logvar / 2) multiplies eps."),
            (sigma * eps, "You forgot mu: the sample is centred on the mean, z = mu + sigma * eps."),
            (mu * sigma * eps, "mu is added, not multiplied: z = mu + sigma * eps."),
            (mu + 0.5 * logvar * eps, "logvar / 2 is log sigma, not sigma: take its exponential."),
        ]
        for wrong, sentence in mistakes:
            if close(out, wrong):
                return sentence
        return "Not z = mu + sigma * eps with sigma = exp(logvar / 2): compare your formula with that, term by term."
    m, lv = mu.clone().requires_grad_(True), logvar.clone().requires_grad_(True)
    try:
        z = f(m, lv, eps.clone())
    except RuntimeError as exc:
        if "requires grad" in str(exc) or "numpy" in str(exc).lower():
            return ("Your function breaks on tensors that require gradients (.numpy()? NumPy functions?): "
                    "use torch operations only, so gradients can flow back to mu and logvar.")
        raise
    if not isinstance(z, torch.Tensor) or z.grad_fn is None:
        return ("The values are right but gradients cannot reach mu and logvar (a .detach(), .item(), NumPy or "
                "torch.tensor(...) on the way?): use torch operations only, which is the whole point of the trick.")
    z.sum().backward()
    if m.grad is None or lv.grad is None or not close(m.grad, torch.ones_like(mu)) or not close(
            lv.grad, 0.5 * sigma * eps):
        return "The values are right but the gradients are not: build z from mu and logvar with torch operations only."
    return None


reparameterization = Exercise(
    name="reparameterization",
    judge=_judge_reparameterization,
    hint_text=("logvar is log sigma^2, so sigma = torch.exp(0.5 * logvar). The sample is the mean plus sigma times "
               "the given noise."),
    solution_text=(
        "def reparameterize(mu, logvar, eps):\n"
        "    sigma = torch.exp(0.5 * logvar)\n"
        "    return mu + sigma * eps"
    ),
    praise="Correct: z is now an ordinary function of mu and logvar, so gradients reach the encoder.",
)


def _judge_kl_term(f: Any) -> str | None:
    import torch
    from torch.distributions import Normal, kl_divergence

    if not callable(f):
        return f"Expected a function f(mu, logvar), got {type(f).__name__}."
    mu, logvar, _ = _gaussian_case(seed=2019)
    out = f(mu.clone(), logvar.clone())
    if out is None or out is Ellipsis:
        return _FUNCTION_NOT_DONE
    if isinstance(out, (tuple, list)):
        return "Return one tensor (the KL of each latent dimension, or their sum), not a tuple or list."
    out = _as_tensor(out)
    if torch.isnan(out).any():
        return "Your KL has NaNs: a log of something negative? logvar is already a logarithm, use it as it is."
    per_dim = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), torch.ones_like(mu)))
    if out.shape == mu.shape:
        reductions = [lambda t: t]  # one KL per latent dimension
    elif out.shape == mu.shape[:-1]:
        reductions = [lambda t: t.sum(-1)]  # one KL per frame
    elif out.numel() == 1:
        out = out.reshape(())
        reductions = [lambda t: t.sum(), lambda t: t.sum(-1).mean()]  # all summed, or the batch mean
    else:
        return (f"Expected the KL of each latent dimension, shape {tuple(mu.shape)}, or their sum over the last axis, "
                f"shape {tuple(mu.shape[:-1])}; got shape {tuple(out.shape)}.")

    def matches(value) -> bool:
        return any(torch.allclose(out, reduce(value), rtol=1e-4, atol=1e-4) for reduce in reductions)

    if matches(per_dim):
        return None
    var = logvar.exp()
    mistakes = [
        (0.5 * (1 + logvar - mu ** 2 - var), "The sign is flipped: a KL divergence is never negative (try mu = 1, "
                                             "logvar = 0)."),
        (-(1 + logvar - mu ** 2 - var), "You forgot the 1/2 in front."),
        (-0.5 * (1 + logvar - mu ** 2 - torch.exp(0.5 * logvar)),
         "You used sigma where sigma^2 belongs: exp(logvar) is already the variance sigma^2."),
        (-0.5 * (1 + 0.5 * logvar - mu ** 2 - torch.exp(0.5 * logvar)),
         "You used sigma where sigma^2 belongs: logvar is log sigma^2 and exp(logvar) is sigma^2; "
         "use them as they are."),
        (-0.5 * (1 + logvar - var), "You forgot the mu^2 term: a code whose mean moves away from 0 must cost KL."),
        (-0.5 * (1 + logvar - mu - var), "mu enters squared: -1/2 (1 + log sigma^2 - mu^2 - sigma^2)."),
        (-0.5 * (logvar - mu ** 2 - var), "You forgot the constant 1: with it, "
                                          "KL is exactly 0 when mu = 0 and sigma = 1."),
        (-0.5 * (1 + logvar - mu ** 2 - var ** 2), "exp(logvar) is already sigma^2; you squared it again."),
    ]
    for wrong, sentence in mistakes:
        if matches(wrong):
            return sentence
    if out.shape == mu.shape[:-1] and torch.allclose(out, per_dim.mean(-1), rtol=1e-4, atol=1e-4):
        return "You averaged over the latent dimensions: the KLs of independent dimensions add up, so sum them."
    return ("Not KL(N(mu, sigma^2) || N(0, 1)): for each dimension, -1/2 (1 + log sigma^2 - mu^2 - sigma^2), "
            "with log sigma^2 = logvar and sigma^2 = exp(logvar).")


kl_term = Exercise(
    name="KL term",
    judge=_judge_kl_term,
    hint_text=("KL(N(mu, sigma^2) || N(0, 1)) = -1/2 (1 + log sigma^2 - mu^2 - sigma^2) for each dimension. Which of "
               "those is logvar, and which is torch.exp(logvar)?"),
    solution_text=(
        "def kl(mu, logvar):\n"
        "    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())  # one value per latent dimension"
    ),
    praise="Correct: it matches torch.distributions.kl_divergence(Normal(mu, sigma), Normal(0, 1)).",
)


def traversal_frames(model: _vae.ConvVAE, z: np.ndarray, dim: int, values: np.ndarray) -> np.ndarray:
    """Decode z with dimension `dim` swept over `values`, the others held: uint8 (len(values), 64, 64, 3)."""
    codes = np.repeat(np.asarray(z, np.float32).reshape(1, -1), len(values), axis=0)
    codes[:, dim] = values
    return _vae.decode_latents(model, codes)


def traversal_figure(model: _vae.ConvVAE, z: np.ndarray, dims: list[int], values: np.ndarray,
                     kl: np.ndarray | None = None) -> plt.Figure:
    """One row per latent dimension: decode(z) first, then the decoded frame as that dimension sweeps `values`
    (set to each value in turn, every other dimension held at its value in z)."""
    start = decode_code(model, z)
    rows = [[start, *traversal_frames(model, z, d, values)] for d in dims]
    labels = [f"z[{d}]" + (f"\nKL {kl[d]:.2f}" if kl is not None else "") for d in dims]
    columns = ["decode(z)", *(f"z[j] = {v:+.1f}" for v in values)]
    return frame_grid(rows, labels, columns, size=1.1,
                            suptitle="Latent traversal: one dimension j moves, the others stay put")


def labelled(title: str, image: W.Image) -> W.VBox:
    return W.VBox([W.HTML(f"<b>{title}</b>"), image], layout=W.Layout(align_items="center"))


class LatentTraversal:
    """One slider per latent dimension, decoding live. It starts from the code mu(x) of a real frame x.

    `sliders[i]` drives dimension `order[i]` (most informative first when per-dimension KLs are given);
    `decoded` holds the frame drawn for the current sliders. Display it as the last line of a cell.
    """

    def __init__(self, model: _vae.ConvVAE, frame: np.ndarray, kl: np.ndarray | None = None, limit: float = 4.0,
                 columns: int = 4, scale: int = 4, seed: int = 0):
        self.model, self.frame = model, np.asarray(frame)
        mu, _ = _vae.encode_frames(model, self.frame[None])
        self.start = mu[0]
        z_size = len(self.start)
        self.order = list(np.argsort(-kl)) if kl is not None else list(range(z_size))
        self._rng = np.random.default_rng(seed)
        self._hold = False
        self.errors = error_area()
        style = {"description_width": "initial"}
        self.sliders = []
        for d in self.order:
            label = f"z[{d}]" + (f" ({kl[d]:.1f})" if kl is not None else "")
            slider = W.FloatSlider(value=float(np.clip(self.start[d], -limit, limit)), min=-limit, max=limit,
                                   step=0.05, description=label, readout_format=".2f", style=style,
                                   layout=W.Layout(width="230px"))
            slider.observe(guarded(self.errors, self._changed), names="value")
            self.sliders.append(slider)
        self.original = W.Image(value=png_bytes(self.frame, scale), format="png")
        self.image = W.Image(format="png")
        self.scale = scale
        reset = W.Button(description="back to the frame's code", icon="undo")
        reset.on_click(guarded(self.errors, lambda _: self.set_code(self.start)))
        prior = W.Button(description="random code from N(0, I)", icon="random")
        prior.on_click(guarded(self.errors, lambda _: self.set_code(self._rng.standard_normal(z_size))))
        note = ("sliders sorted by the dimension's mean KL on held-out frames (in brackets, nats): "
                "the last ones carry almost nothing" if kl is not None else "")
        self.widget = W.VBox([
            W.HBox([labelled("real held-out frame x", self.original), labelled("decode(z), live", self.image)]),
            W.HBox([reset, prior]),
            W.HTML(f"<small>{note}</small>"),
            W.GridBox(self.sliders, layout=W.Layout(grid_template_columns=f"repeat({columns}, 240px)")),
            self.errors,
        ])
        self.update()

    def code(self) -> np.ndarray:
        """The code z that the sliders spell, in dimension order (z_size,)."""
        z = np.zeros(len(self.sliders), np.float32)
        for d, slider in zip(self.order, self.sliders):
            z[d] = slider.value
        return z

    def set_code(self, z: np.ndarray) -> None:
        """Move every slider to the code z at once, then decode once."""
        self._hold = True
        try:
            for d, slider in zip(self.order, self.sliders):
                slider.value = float(np.clip(z[d], slider.min, slider.max))
        finally:
            self._hold = False
        self.update()

    def update(self) -> np.ndarray:
        self.decoded = decode_code(self.model, self.code())
        self.image.value = png_bytes(self.decoded, self.scale)
        return self.decoded

    def _changed(self, _change) -> None:
        if not self._hold:
            self.update()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def latent_size_figure(model: _vae.ConvVAE, frames: np.ndarray, result: dict | None = None) -> plt.Figure:
    """Held-out frames above, this model's reconstructions below; its measured held-out error in the title."""
    z = model.config.z_size
    title = f"z = {z}  ({checkpoint.count_parameters(model):,} parameters)"
    if result is not None:
        title += (f": held-out MSE {result['mse_per_pixel']:.4f} per pixel, KL {result['kl_nats_per_frame']:.1f} "
                  f"nats per frame ({result['frames']:,} frames)")
    return reconstruction_grid(frames, {f"z = {z}": _vae.reconstruct(model, frames)}, suptitle=title)


class LatentSizeSwitch:
    """Toggle buttons over VAEs that differ only in the size of z; each shows its reconstructions of the same
    held-out frames and its measured error. `model` is the one shown, `figure` its last figure."""

    def __init__(self, models: dict[int, _vae.ConvVAE], frames: np.ndarray, results: dict[int, dict] | None = None,
                 start: int | None = None):
        self.models, self.frames, self.results = dict(sorted(models.items())), frames, results or {}
        self.buttons = W.ToggleButtons(options=[(f"z = {z}", z) for z in self.models],
                                       value=start if start is not None else max(self.models),
                                       description="latent size")
        self.output, self.errors = W.Output(), error_area()
        self.buttons.observe(guarded(self.errors, lambda change: self.show(change["new"])), names="value")
        self.widget = W.VBox([self.buttons, self.output, self.errors])
        self.show(self.buttons.value)

    def show(self, z: int) -> plt.Figure:
        self.model = self.models[z]
        self.figure = latent_size_figure(self.model, self.frames, self.results.get(z))
        return show_in(self.output, self.figure)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def reconstruction_grid(originals: np.ndarray, reconstructions: np.ndarray | dict[str, np.ndarray],
                        size: float = 1.5, suptitle: str | None = None) -> plt.Figure:
    """Originals in the top row, each model's reconstructions of the same frames in the rows below."""
    if not isinstance(reconstructions, dict):
        reconstructions = {"reconstruction": reconstructions}
    return frame_grid([originals, *reconstructions.values()], ["original", *reconstructions], size=size,
                      suptitle=suptitle)


def training_curve(history: dict[str, list[float]], title: str = "VAE training") -> plt.Figure:
    """Loss and its two terms per optimizer step: reconstruction (summed squared error) and KL (nats)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    axes[0].plot(history["step"], history["loss"], label="loss = reconstruction + beta KL", color="#1d4ed8")
    axes[0].plot(history["step"], history["reconstruction"], label="reconstruction", color="#93c5fd", ls="--")
    axes[0].set_ylabel("per frame")
    axes[0].set_title("loss", fontsize=10)
    axes[1].plot(history["step"], history["kl"], color="#b91c1c", label="KL in the loss (after the free-bits floor)")
    if "kl_raw" in history:
        axes[1].plot(history["step"], history["kl_raw"], color="#f59e0b", ls="--", label="raw KL (before the floor)")
    axes[1].set_ylabel("nats per frame")
    axes[1].set_title("KL per frame: raw and floored", fontsize=10)
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def beta_tradeoff(results: Sequence[dict], ax: plt.Axes | None = None) -> plt.Axes:
    """One point per trained beta: held-out reconstruction error against the KL the codes carry."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    results = sorted(results, key=lambda r: r["beta"])
    kl = [r["kl_nats_per_frame"] for r in results]
    mse = [r["mse_per_pixel"] for r in results]
    ax.plot(kl, mse, "-", color="#93c5fd", zorder=1)
    points = ax.scatter(kl, mse, c=np.log2([r["beta"] for r in results]), cmap="viridis", s=80, zorder=2,
                        edgecolors="#333")
    for r, x, y in zip(results, kl, mse):
        ax.annotate(f"β = {r['beta']:g}", (x, y), textcoords="offset points", xytext=(8, 6), fontsize=10)
    ax.set_xlabel("KL(q(z|x) || N(0, I)) per frame, nats   (information kept in z)")
    ax.set_ylabel("held-out MSE per pixel")
    ax.set_title("The β trade-off, measured on held-out frames")
    ax.figure.colorbar(points, ax=ax, label="log2 β")
    ax.ticklabel_format(useOffset=False)
    ax.grid(alpha=0.3)
    return ax


def kl_per_dimension_bars(kl: np.ndarray, ax: plt.Axes | None = None) -> plt.Axes:
    """Mean KL of each latent dimension on held-out frames: which dimensions carry information. (No line for
    free bits: the floor is on the frame's total KL, sum_j KL_j, not on any one dimension.)"""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 2.8))
    ax.bar(np.arange(len(kl)), kl, color="#60a5fa", ec="#1e3a8a")
    ax.set_xticks(np.arange(len(kl)))
    ax.set_xlabel("latent dimension j")
    ax.set_ylabel("mean KL (nats)")
    ax.set_title("How much each latent dimension says about a held-out frame")
    ax.figure.tight_layout()
    return ax


def latent_size_errors(results_by_z: dict[int, dict], ax: plt.Axes | None = None) -> plt.Axes:
    """Held-out reconstruction error against the size of z (same network width, same training)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    zs = sorted(results_by_z)
    ax.plot(zs, [results_by_z[z]["mse_per_pixel"] for z in zs], "o-", color="#1d4ed8")
    ax.set_xscale("log", base=2)
    ax.set_xticks(zs, [str(z) for z in zs])
    ax.set_xlabel("size of z")
    ax.set_ylabel("held-out MSE per pixel")
    ax.set_title("More numbers in z, better reconstructions?")
    ax.grid(alpha=0.3)
    ax.figure.tight_layout()
    return ax


@functools.cache
def _vae_results():
    from ..shipped import catalogue as shipped

    return shipped.load_vae_results()


@functools.cache
def _heldout_frames():
    from ..shipped import catalogue as shipped

    return shipped.pick_heldout_frames(n=8)


@slide("01_training_curve", "Watch one learn (a tiny run)")
def slide_training_curve() -> plt.Figure:
    from ..shipped import catalogue as shipped
    from ..worldmodels import train_vae as vae_training
    from ..worldmodels import vae

    frames = shipped.load_heldout_frames(max_frames=300)
    config = vae.VAEConfig(width=0.25, batch_size=32, lr=1e-3)
    steps = 10 if fast_mode() else 30  # fast mode: the tests' quick build of the decks
    history = vae_training.train_vae(frames, config, steps=steps, seed=SEED, device="cpu", progress=False)
    return training_curve(history, f"A quarter-width VAE, {steps} steps on {len(frames)} frames")


@slide("01_reconstructions", "The real thing: a VAE trained on CarRacing")
def slide_reconstructions() -> plt.Figure:
    from ..worldmodels import vae

    frames = _heldout_frames()
    return reconstruction_grid(frames, vae.reconstruct(shipped_vae(), frames),
                                     suptitle="Held-out CarRacing frames and their reconstructions (z = 32)")


@slide("01_prior_samples", "The real thing: a VAE trained on CarRacing")
def slide_prior_samples() -> plt.Figure:
    import torch

    from ..worldmodels import vae

    v = shipped_vae()
    codes = torch.randn(8, v.config.z_size, generator=torch.Generator().manual_seed(SEED))
    return show_frames(list(vae.decode_latents(v, codes)), [f"z ~ N(0, I) #{i}" for i in range(8)], size=1.6,
                             suptitle="Decoded random codes: what V imagines")


@slide("01_beta_tradeoff", "The β trade-off, measured")
def slide_beta_tradeoff() -> plt.Figure:
    from ..shipped import catalogue as shipped

    sweep = shipped.beta_sweep_results(_vae_results())
    if not sweep:
        raise MissingArtefactError("data/vae_results.json has no beta-sweep models; remake it with:\n    "
                                   + shipped.MAKE_MODELS)
    return as_figure(beta_tradeoff(sweep))


@functools.cache
def _kl_per_dimension():
    from ..shipped import catalogue as shipped
    from ..worldmodels import probes

    return probes.kl_per_dimension(shipped_vae(), shipped.load_heldout_frames(max_frames=600))


@slide("01_kl_per_dimension", "Inside the code: one slider per latent dimension")
def slide_kl_per_dimension() -> plt.Figure:
    return as_figure(kl_per_dimension_bars(_kl_per_dimension()))


@slide("01_traversal", "Inside the code: one slider per latent dimension")
def slide_traversal() -> plt.Figure:
    from ..worldmodels import vae

    v, kl = shipped_vae(), _kl_per_dimension()
    code = vae.encode_frames(v, _heldout_frames()[3][None])[0][0]
    return traversal_figure(v, code, dims=np.argsort(-kl)[:5].tolist(), values=np.linspace(-3, 3, 7), kl=kl)


@slide("01_latent_sizes", "How many numbers does $z$ need?")
def slide_latent_sizes() -> plt.Figure:
    from ..shipped import catalogue as shipped
    from ..worldmodels import vae

    frames = _heldout_frames()[:6]
    results = shipped.latent_size_results(_vae_results())
    rows = {}
    for z in shipped.LATENT_SIZES:
        label = f"z = {z}" + (f"\nMSE {results[z]['mse_per_pixel']:.4f}" if z in results else "")
        rows[label] = vae.reconstruct(shipped.load_shipped_vae(z=z, small=True), frames)
    return reconstruction_grid(frames, rows, suptitle="Half-width VAEs that differ only in the size of z "
                                                            "(held-out frames; MSE per pixel on every held-out frame)")


@slide("01_latent_size_errors", "How many numbers does $z$ need?")
def slide_latent_size_errors() -> plt.Figure:
    from ..shipped import catalogue as shipped

    results = shipped.latent_size_results(_vae_results())
    if not results:
        raise MissingArtefactError("data/vae_results.json has no small VAEs; remake it with:\n    "
                                   + shipped.MAKE_MODELS)
    return as_figure(latent_size_errors(results))


@slide("01_reparameterisation", "Why sampling blocks gradients, and the reparameterisation trick")
def slide_reparameterisation() -> plt.Figure:
    return as_figure(draw_reparameterisation())


@slide("01_elbo_gap", "The loss, derived in five short steps")
def slide_elbo_gap() -> plt.Figure:
    return as_figure(draw_elbo_gap())


@slide("01_vae_architecture", "The paper's network")
def slide_vae_architecture() -> plt.Figure:
    return as_figure(draw_architecture(vae_layers(), "V: the paper's convolutional VAE (z = 32)"))
