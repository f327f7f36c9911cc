"""Notebook 02, mixture density networks and M: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

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
from ..errors import MissingArtefactError  # noqa: E402
from ..runtime import fast_mode as fast_mode
from ..worldmodels import vae as _vae
from .controls import as_latents, error_area, guarded, show_in
from .diagrams import draw_architecture as draw_architecture
from .diagrams import mdnrnn_layers as mdnrnn_layers
from .exercise import Exercise
from .plots import _mixture_density, frame_grid
from .plots import horizon_error_plot as horizon_error_plot
from .slides import SEED, as_figure, episode_codes, shipped_mdnrnn, shipped_vae, slide


def _mixture_cases():
    """Two float32 test mixtures, (N, D, K) = (64, 3, 5): an ordinary one, and one whose targets lie so many
    sigmas from every mean that each exp(log-density) underflows to 0, where a naive log(sum(exp(...))) gives inf."""
    import torch

    g = torch.Generator().manual_seed(2018)
    N, D, K = 64, 3, 5
    log_pi = torch.log_softmax(2 * torch.randn(N, D, K, generator=g), dim=-1)
    mu = torch.randn(N, D, K, generator=g)
    log_sigma = torch.rand(N, D, K, generator=g) - 1.0
    target = 1.5 * torch.randn(N, D, generator=g)
    far_target = 10.0 * torch.sign(target) + target
    return (log_pi, mu, log_sigma, target), (log_pi, mu, torch.full_like(log_sigma, -3.0), far_target)


def _mixture_nll_mistakes(log_pi, mu, log_sigma, target):
    """The typical wrong answers on one input, each with the sentence that names its mistake."""
    import torch

    from ..worldmodels.mdn import LOG_SQRT_2PI, gaussian_log_prob

    y = target.unsqueeze(-1)
    log_n = gaussian_log_prob(y, mu, log_sigma)
    log_n_var = -0.5 * (y - mu) ** 2 / log_sigma.exp() - 0.5 * log_sigma - LOG_SQRT_2PI
    lse = torch.logsumexp(log_pi + log_n, dim=-1)
    summed = "You summed where the loss averages: take the mean over every batch entry and every dimension."
    return [
        (lse.mean(), "That is the log-likelihood; the loss is its negative."),
        (-torch.logsumexp(log_n, dim=-1).mean(), "The mixture weights are missing: "
                                                 "add log pi_k to each component's log-density."),
        (-torch.logsumexp(log_pi.exp() + log_n, dim=-1).mean(),
         "You added pi_k to the log-density where log pi_k belongs (pi_k multiplies the density, so its log adds)."),
        (-torch.logsumexp(log_pi + log_n + log_sigma, dim=-1).mean(),
         "The Gaussian is not normalised: its log-density needs the -log sigma term."),
        (-torch.logsumexp(log_pi + log_n + LOG_SQRT_2PI, dim=-1).mean(),
         "The Gaussian is not normalised: its log-density needs the constant -log sqrt(2 pi)."),
        (-torch.logsumexp(log_pi + log_n + log_sigma + LOG_SQRT_2PI, dim=-1).mean(),
         "The Gaussian is not normalised: its log-density needs -log sigma - log sqrt(2 pi)."),
        (-torch.logsumexp(log_pi + log_n_var, dim=-1).mean(),
         "log_sigma is the log of the standard deviation, not of the variance: "
         "divide (y - mu)^2 by sigma^2 = exp(2 log_sigma)."),
        (-(log_pi.exp() * log_n).sum(dim=-1).mean(),
         "The log belongs outside the sum over components: log sum_k pi_k N_k, not sum_k pi_k log N_k."),
        (-torch.logsumexp(log_pi + log_n, dim=-2).mean(), "Sum over the K components (the last axis), "
                                                          "not over the dimensions."),
        (-lse.sum(dim=-1).mean(), summed),
        (-lse.sum(), summed),
        (-lse.mean(dim=-1).sum(), summed),
    ]


def _judge_mixture_nll(f: Any) -> str | None:
    import torch

    from ..worldmodels.mdn import mdn_nll

    if not callable(f):
        return f"Expected a function f(log_pi, mu, log_sigma, target), got {type(f).__name__}."
    ordinary, far = _mixture_cases()

    def value(args) -> float | str:
        try:
            out = f(*(a.clone() for a in args))
        except RuntimeError as exc:
            if "size of tensor" in str(exc) or "broadcast" in str(exc):
                return ("The shapes do not line up: the target is (..., D) and the parameters (..., D, K), "
                        "so compare target[..., None] with mu.")
            raise
        if out is None:
            return "Your function returns None: replace the `...` with your code and `return` the loss."
        out = torch.as_tensor(out, dtype=torch.float32)
        if out.numel() != 1:
            if out.shape in (args[3].shape, args[3].shape[:-1]):
                return "You returned one value per entry: the loss is a single number, their mean."
            return f"Expected one number (a 0-dim tensor or a float), got a tensor of shape {tuple(out.shape)}."
        return float(out)

    got = value(ordinary)
    if isinstance(got, str):
        return got
    if math.isnan(got):
        return ("Your result is NaN: a log of a negative number? log_pi is already a logarithm, "
                "so it adds to the log-density (or exp(log_pi) multiplies the density).")
    if math.isclose(got, float(mdn_nll(*ordinary)), rel_tol=1e-4, abs_tol=1e-4):
        got_far = value(far)
        if isinstance(got_far, str) or not math.isclose(got_far, float(mdn_nll(*far)), rel_tol=1e-4, abs_tol=1e-4):
            return ("Right on ordinary inputs but numerically unstable: when a target lies far from every mean each "
                    "exp() underflows to 0 and log(0) = -inf; use torch.logsumexp, which subtracts the max first.")
        return None
    for wrong, sentence in _mixture_nll_mistakes(*ordinary):
        if math.isclose(got, float(wrong), rel_tol=1e-4, abs_tol=1e-4):
            return sentence
    return ("Not the mixture NLL: for each dimension add log pi_k to log N(y; mu_k, sigma_k^2), take logsumexp over "
            "the K components, then minus the mean over all entries and dimensions.")


mixture_nll = Exercise(
    name="mixture NLL",
    judge=_judge_mixture_nll,
    hint_text=("log p(y) = log sum_k pi_k N(y; mu_k, sigma_k^2). Stay in logs: log pi_k + log N_k for every k, "
               "then torch.logsumexp over the last axis (K), then minus the mean."),
    solution_text=(
        "def mixture_nll(log_pi, mu, log_sigma, target):\n"
        "    y = target.unsqueeze(-1)  # (..., D, 1) against (..., D, K)\n"
        "    log_n = -0.5 * ((y - mu) / log_sigma.exp()) ** 2 - log_sigma - 0.5 * math.log(2 * math.pi)\n"
        "    return -torch.logsumexp(log_pi + log_n, dim=-1).mean()"
    ),
    praise="Correct, and stable: logsumexp keeps the loss finite even where every density underflows to 0.",
)


JUNCTION_X = 0.6  # where the notebook slices the T-junction
_JUNCTION_CARS_SEED = 1  # the notebook's held-out cars: mdn.bimodal_toy_data(1000, seed=SEED + 1)
JUNCTION_FORECASTS = ("one wide bell", "both branches", "sure of right")


def junction_forecasts(x: float = JUNCTION_X) -> dict[str, tuple]:
    """Three forecasts of the sideways position y of cars at distance x past the T-junction, each a 1-D mixture
    (log_pi, mu, log_sigma) of shape (1, 1, K) (expand to (N, 1, K) for N cars):

    - "one wide bell": one Gaussian centred between the branches, sigma = sqrt(x) (what one Gaussian learns);
    - "both branches": weight 0.5 on each branch, y = -sqrt(x) and +sqrt(x), sigma 0.05 (the data's noise);
    - "sure of right": the same two bells, with weight 0.98 on the right branch and 0.02 on the left."""
    import torch

    branch = math.sqrt(x)

    def mixture(pi, mu, sigma):
        return tuple(torch.tensor(v, dtype=torch.float32).view(1, 1, -1) for v in (np.log(pi), mu, np.log(sigma)))

    return {"one wide bell": mixture([1.0], [0.0], [branch]),
            "both branches": mixture([0.5, 0.5], [-branch, branch], [0.05, 0.05]),
            "sure of right": mixture([0.02, 0.98], [-branch, branch], [0.05, 0.05])}


def junction_cars(x, y, at: float = JUNCTION_X, width: float = 0.05):
    """The cars with |x - at| < width, as y (N, 1), and one of them that turned right: the right-turning car
    nearest `at`, as y (1, 1). Returns (one_car, cars)."""
    near = (x[:, 0] - at).abs() < width
    cars = y[near]
    right = near & (y[:, 0] > 0)
    nearest = int((x[:, 0] - at).abs().masked_fill(~right, float("inf")).argmin())
    return y[nearest:nearest + 1], cars


def junction_figure(forecasts: dict[str, tuple], cars, one_car, at: float = JUNCTION_X) -> plt.Figure:
    """The three forecasts' densities over y at x = at, above a histogram of the cars there, with the one car marked."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ys = np.linspace(-1.3, 1.3, 600)
    ax.hist(np.asarray(cars).ravel(), bins=40, range=(-1.3, 1.3), density=True, color="#d1d5db",
            label=f"the {len(cars)} held-out cars near x = {at}")
    for (name, (log_pi, mu, log_sigma)), color in zip(forecasts.items(), ("#b91c1c", "#1d4ed8", "#d97706")):
        ax.plot(ys, _mixture_density(ys, log_pi.exp().numpy().ravel(), mu.numpy().ravel(),
                                     log_sigma.exp().numpy().ravel()), color=color, lw=2, label=name)
    ax.axvline(float(one_car), color="#111827", ls=":", lw=1.5, label="the one car that turned right")
    ax.set_xlabel("y: sideways position")
    ax.set_ylabel(f"density at x = {at}\n(log scale above 0.1)")
    ax.set_yscale("symlog", linthresh=0.1)  # a log scale above 0.1, so the 2% bump stays visible
    ax.legend(fontsize=8, loc="upper center")
    fig.tight_layout()
    return fig


def _junction_winners() -> dict[str, str]:
    """Which forecast has the lowest NLL on the one car, and on all the cars (mean NLL), measured on the
    notebook's held-out cars."""
    from ..worldmodels import mdn

    x, y = mdn.bimodal_toy_data(1000, seed=_JUNCTION_CARS_SEED)
    one_car, cars = junction_cars(x, y)
    scores = {}
    for key, ys in (("one car", one_car), ("all cars", cars)):
        nll = {name: float(mdn.mdn_nll(*(p.expand(len(ys), 1, -1) for p in f), ys))
               for name, f in junction_forecasts().items()}
        scores[key] = min(nll, key=nll.get)
    return scores


def _judge_junction(answer: Any) -> str | None:
    if not isinstance(answer, dict) or set(answer) != {"one car", "all cars"}:
        return 'Expected a dict with two keys, "one car" and "all cars", each the name of a forecast.'
    if any(v is None or v is Ellipsis for v in answer.values()):
        return "Not attempted yet: replace both `...` with the name of a forecast and run the cell again."
    for key, name in answer.items():
        if name not in JUNCTION_FORECASTS:
            return (f"Unknown forecast {name!r} for {key!r}: choose from "
                    + ", ".join(map(repr, JUNCTION_FORECASTS)) + ".")
    winners = _junction_winners()
    if answer["one car"] != winners["one car"]:
        if answer["one car"] == "one wide bell":
            return ("For one car only the density at its own y counts, and the wide bell spreads its density over "
                    "every y: a narrow bell on the car's branch puts far more there.")
        return ("For one car only the density at its own y counts, and the weight a forecast gives the branch the "
                "car took multiplies that density.")
    if answer["all cars"] != winners["all cars"]:
        if answer["all cars"] == "sure of right":
            return ("It wins on the cars that turned right, but about half turned left, where it put only 2% of its "
                    "weight: averaged over all the cars, their surprise outweighs what the right-turners save.")
        if answer["all cars"] == "one wide bell":
            return ("The wide bell never puts much density where the cars are; it would be the safest bet only for "
                    "cars between the branches, and there are none.")
        return "Average the NLL over every car, left-turners and right-turners, before you compare."
    return None


junction_nll = Exercise(
    name="which forecast explains the cars",
    judge=_judge_junction,
    hint_text="The NLL of a car is -log of the density the forecast puts at its y. For one car, which density is "
              "highest at that y? For all the cars, average: a forecast is charged for every car it was sure "
              "would not be there.",
    solution_text='junction_answer = {"one car": "sure of right", "all cars": "both branches"}\n'
                  "One car cannot tell a lucky bet from a good forecast: betting 98% on the branch it took gives it "
                  "the most density. Over many cars, the mean NLL is lowest when each branch gets the weight of how "
                  "often cars take it, and that is what training on the NLL teaches a mixture's weights.",
    praise="Correct: one outcome rewards the boldest bet that happened to come true; the mean NLL over many "
           "outcomes rewards weights that match how often each outcome happens.",
)


def prediction_rows(mdnrnn_model, vae_model: _vae.ConvVAE, z, actions, frames: np.ndarray, start: int,
                    horizon: int = 8, samples: int = 2, seed: int = 0, tau: float = 1.0) -> dict[str, np.ndarray]:
    """Real frames start+1 .. start+horizon of an episode and what M predicts for them (decoded by V):

    M reads the real latents z (T + 1, Z) and actions (T, A) up to step `start`, then feeds back its own guesses
    (wmcourse.worldmodels.probes.predict_ahead). Rows: "real", "V's reconstruction", "M: likeliest", "M: sample 1", ...;
    each uint8 (horizon, 64, 64, 3)."""
    import torch

    from ..worldmodels import probes

    z, actions = as_latents(z), as_latents(actions)
    rows = {"real": np.asarray(frames[start + 1:start + horizon + 1]),
            "V's reconstruction": _vae.decode_latents(vae_model, z[start + 1:start + horizon + 1])}
    likeliest = probes.predict_ahead(mdnrnn_model, z, actions, start, horizon, mode="likeliest")[0]
    rows["M: likeliest"] = _vae.decode_latents(vae_model, likeliest)
    if samples:
        g = torch.Generator().manual_seed(seed)
        drawn = probes.predict_ahead(mdnrnn_model, z, actions, start, horizon, mode="sample", samples=samples, tau=tau,
                                     generator=g)
        for i in range(samples):
            rows[f"M: sample {i + 1}"] = _vae.decode_latents(vae_model, drawn[i])
    return rows


def prediction_figure(mdnrnn_model, vae_model: _vae.ConvVAE, z, actions, frames: np.ndarray, start: int,
                      horizon: int = 8, samples: int = 2, seed: int = 0) -> plt.Figure:
    """prediction_rows as a grid: one column per step ahead."""
    rows = prediction_rows(mdnrnn_model, vae_model, z, actions, frames, start, horizon, samples, seed)
    return frame_grid(list(rows.values()), list(rows), [f"t+{k}" for k in range(1, horizon + 1)], size=1.3,
                            suptitle=f"M predicts steps {start + 1} to {start + horizon} from the real past up to "
                                     f"step t = {start} and the real actions")


class PredictionExplorer:
    """A slider over the start step t of a held-out episode: real frames t+1 .. t+horizon above what M predicts
    for them. `figure` is the last figure shown."""

    def __init__(self, mdnrnn_model, vae_model: _vae.ConvVAE, z, actions, frames: np.ndarray, start: int = 100,
                 horizon: int = 8, samples: int = 2):
        self.args = (mdnrnn_model, vae_model, z, actions, frames)
        self.horizon, self.samples = horizon, samples
        last = len(actions) - horizon
        self.slider = W.IntSlider(value=min(start, last), min=0, max=last, step=1, description="start step t",
                                  continuous_update=False, style={"description_width": "initial"},
                                  layout=W.Layout(width="500px"))
        self.seed = W.IntSlider(value=0, min=0, max=99, description="sample seed", continuous_update=False)
        self.output, self.errors = W.Output(), error_area()
        self.slider.observe(guarded(self.errors, lambda _: self.show()), names="value")
        self.seed.observe(guarded(self.errors, lambda _: self.show()), names="value")
        self.widget = W.VBox([W.HBox([self.slider, self.seed]), self.output, self.errors])
        self.show()

    def show(self) -> plt.Figure:
        self.figure = prediction_figure(*self.args, start=self.slider.value, horizon=self.horizon,
                                        samples=self.samples, seed=self.seed.value)
        return show_in(self.output, self.figure)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _toy_predictions(model, x_grid):
    import torch

    with torch.no_grad():
        log_pi, mu, log_sigma = model(torch.as_tensor(x_grid, dtype=torch.float32)[:, None])
    return log_pi[:, 0].exp().numpy(), mu[:, 0].numpy(), log_sigma[:, 0].exp().numpy()


def toy_fits_figure(x, y, single, mixture, nll: dict[str, float] | None = None, x_slice: float = 0.6) -> plt.Figure:
    """The T-junction toy problem: one Gaussian (mean +- sigma) and a mixture density network (component means,
    drawn darker the more weight pi_k they carry) fitted to the same data, and both densities at x = x_slice."""
    x, y = np.asarray(x).ravel(), np.asarray(y).ravel()
    grid = np.linspace(0, 1, 200)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    nll = nll or {}
    for ax in axes[:2]:
        ax.scatter(x, y, s=4, color="#9ca3af", alpha=0.5, label="data: cars past the junction")
        ax.set_xlabel("x: distance past the junction")
        ax.set_ylabel("y: sideways position")
        ax.set_ylim(-1.5, 1.5)
    _, mu1, sigma1 = _toy_predictions(single, grid)
    axes[0].plot(grid, mu1[:, 0], color="#b91c1c", lw=2.5, label="predicted mean")
    axes[0].fill_between(grid, mu1[:, 0] - sigma1[:, 0], mu1[:, 0] + sigma1[:, 0], color="#fca5a5", alpha=0.4,
                         label="mean ± sigma")
    title = "one Gaussian" + (f": NLL {nll['single']:.2f} nats" if "single" in nll else "")
    axes[0].set_title(title + "\nthe mean drives straight into the wall", fontsize=10)
    pi, mu, sigma = _toy_predictions(mixture, grid)
    K = pi.shape[1]
    colors = plt.cm.tab10(np.arange(K))
    for k in range(K):
        rgba = np.tile(colors[k], (len(grid), 1))
        rgba[:, 3] = np.clip(pi[:, k], 0.02, 1)
        axes[1].scatter(grid, mu[:, k], s=10, c=rgba, edgecolors="none")
    axes[1].plot([], [], "o", color="#444", label="component mean mu_k\n(more opaque = larger pi_k)")
    title = f"mixture density network, K = {K}" + (f": NLL {nll['mixture']:.2f} nats" if "mixture" in nll else "")
    axes[1].set_title(title + "\nweight on both branches, none in between", fontsize=10)
    for ax in axes[:2]:
        ax.axvline(x_slice, color="#1d4ed8", ls=":", lw=1)
        ax.legend(loc="upper left", fontsize=8)
    ys = np.linspace(-1.5, 1.5, 400)
    near = np.abs(x - x_slice) < 0.05
    ax = axes[2]
    ax.hist(y[near], bins=30, range=(-1.5, 1.5), density=True, color="#d1d5db",
            label=f"data with |x - {x_slice}| < 0.05")
    p1, m1, s1 = (a[0] for a in _toy_predictions(single, np.array([x_slice])))
    pk, mk, sk = (a[0] for a in _toy_predictions(mixture, np.array([x_slice])))
    ax.plot(ys, _mixture_density(ys, p1, m1, s1), color="#b91c1c", lw=2, label="one Gaussian")
    ax.plot(ys, _mixture_density(ys, pk, mk, sk), color="#1d4ed8", lw=2, label="mixture")
    ax.set_xlabel("y")
    ax.set_ylabel(f"p(y | x = {x_slice})")
    ax.set_title(f"the predicted densities at x = {x_slice}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def mdnrnn_history_plot(history: Sequence[dict], baseline: float | None = None) -> plt.Figure:
    """Per-epoch z NLL of the MDN-RNN on its training windows and on held-out episodes (and the other terms)."""
    epochs = [row["epoch"] for row in history]
    extra = [k for k in ("reward_mse", "done_bce") if k in history[0]]
    fig, axes = plt.subplots(1, 1 + len(extra), figsize=(5.5 * (1 + len(extra)), 3.4), squeeze=False)
    axes = axes[0]
    axes[0].plot(epochs, [r["z_nll"] for r in history], "o-", color="#1d4ed8", ms=3, label="training")
    if "held_out_z_nll" in history[0]:
        axes[0].plot(epochs, [r["held_out_z_nll"] for r in history], "s--", color="#b91c1c", ms=3, label="held out")
    if baseline is not None:
        axes[0].axhline(baseline, color="#6b7280", ls=":", label="one Gaussian per dimension, no memory")
    axes[0].set_ylabel("z NLL, nats per dimension")
    axes[0].set_title("next-latent NLL (lower is better)")
    for ax, key in zip(axes[1:], extra):
        ax.plot(epochs, [r[key] for r in history], "o-", color="#1d4ed8", ms=3, label="training")
        if f"held_out_{key}" in history[0]:
            ax.plot(epochs, [r[f"held_out_{key}"] for r in history], "s--", color="#b91c1c", ms=3, label="held out")
        ax.set_title({"reward_mse": "reward head: squared error", "done_bce": "done head: weighted cross-entropy"}[key])
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@slide("02_toy_fits", "1. The T-junction, a toy problem")
def slide_toy_fits() -> plt.Figure:
    from ..worldmodels import mdn

    x, y = mdn.bimodal_toy_data(1000, seed=SEED)
    x_test, y_test = mdn.bimodal_toy_data(1000, seed=SEED + 1)
    steps = 300 if fast_mode() else 1500  # the notebook's values (fast mode: the tests' quick build of the decks)
    single, _ = mdn.fit_single_gaussian(x, y, steps=steps, seed=SEED)
    mixture, _ = mdn.fit_toy_mdn(x, y, K=5, steps=steps, seed=SEED)
    nll = {"single": single.nll(x_test, y_test), "mixture": mixture.nll(x_test, y_test)}
    return toy_fits_figure(x, y, single, mixture, nll=nll, x_slice=0.6)


@slide("02_mdnrnn_history", "How well does M predict? The measured NLL")
def slide_mdnrnn_history() -> plt.Figure:
    from ..shipped import catalogue as shipped
    from ..worldmodels import probes

    record = shipped.shipped_training_record()
    if not record["history"]:
        raise MissingArtefactError(f"data/{shipped.MDNRNN_NAME} keeps no training history; remake it with:\n    "
                                   + shipped.MAKE_MODELS)
    baseline = probes.marginal_gaussian_nll(shipped.load_shipped_heldout_encoded(), seed=SEED)
    return mdnrnn_history_plot(record["history"], baseline=baseline)


@slide("02_predictions", "4. M's predictions, seen through V")
def slide_predictions() -> plt.Figure:

    episode, frames, z, actions = episode_codes()
    horizon = 8
    start = min(120, len(episode) - horizon)
    return prediction_figure(shipped_mdnrnn(), shipped_vae(), z, actions, frames, start=start, horizon=horizon,
                             samples=2, seed=SEED)


@slide("02_horizon_errors", "4. M's predictions, seen through V")
def slide_horizon_errors() -> plt.Figure:
    from ..worldmodels import probes

    _, _, z, actions = episode_codes()
    errors = probes.horizon_errors(shipped_mdnrnn(), z, actions, horizon=16, mode="likeliest")
    return as_figure(horizon_error_plot(errors))


@slide("02_mdnrnn_architecture", "3. M, the MDN-RNN, for CarRacing")
def slide_mdnrnn_architecture() -> plt.Figure:
    return as_figure(draw_architecture(mdnrnn_layers(), "M: the MDN-RNN for CarRacing"))
