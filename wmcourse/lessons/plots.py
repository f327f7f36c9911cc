"""Pictures the notebooks and slides share: the V-M-C diagram, frame strips, score tables as bars."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from . import animate


def _box(ax, xy, w, h, title, body, color):
    ax.add_patch(FancyBboxPatch(xy, w, h, boxstyle="round,pad=0.02,rounding_size=0.04", fc=color, ec="#333", lw=1.2))
    ax.text(xy[0] + w / 2, xy[1] + h * 0.68, title, ha="center", va="center", fontsize=12, weight="bold")
    ax.text(xy[0] + w / 2, xy[1] + h * 0.30, body, ha="center", va="center", fontsize=9)


def _arrow(ax, start, end, label="", curved=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, lw=1.4, color="#333",
                                 connectionstyle=f"arc3,rad={curved}"))
    if label:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.05, label, ha="center", fontsize=9, color="#333")


def draw_vmc(ax: plt.Axes | None = None, z_size: int = 32, hidden_size: int = 256, actions: int = 3) -> plt.Axes:
    """The agent of World Models: V compresses the frame to z, M predicts the next z and keeps h, C acts on [z, h]."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.4))
    ax.set_xlim(0, 10)
    ax.set_ylim(-1.0, 3.6)
    ax.axis("off")
    _box(ax, (0.1, 1.3), 1.5, 1.0, "world", "frame x_t\n96x96x3", "#e5e7eb")
    _box(ax, (2.3, 1.3), 1.8, 1.0, "V  (VAE)", f"x_t -> z_t\n{z_size} numbers", "#dbeafe")
    _box(ax, (4.9, 2.3), 2.1, 1.0, "M  (MDN-RNN)", "[z_t, a_t, h_t] -> h_t+1\nP(z_t+1): 5 Gaussians/dim", "#fde68a")
    _box(ax, (4.9, 0.3), 2.1, 1.0, "C  (linear)", f"a_t = tanh(W[z_t, h_t] + b)\n{actions * (z_size + hidden_size) + actions} parameters", "#bbf7d0")
    _box(ax, (8.1, 1.3), 1.6, 1.0, "action", f"a_t\n{actions} numbers", "#e5e7eb")
    _arrow(ax, (1.6, 1.8), (2.3, 1.8), "see")
    _arrow(ax, (4.1, 2.0), (4.9, 2.7), "z_t")
    _arrow(ax, (4.1, 1.6), (4.9, 0.9), "z_t")
    _arrow(ax, (5.95, 2.3), (5.95, 1.3), "h_t")
    _arrow(ax, (7.0, 0.8), (8.1, 1.6), "act")
    _arrow(ax, (8.9, 2.3), (7.0, 2.9), "a_t (fed back to M)", curved=0.25)
    _arrow(ax, (8.9, 1.3), (0.85, 1.3), "", curved=-0.45)
    ax.text(4.9, -0.95, "the real world answers with the next frame", ha="center", fontsize=9, style="italic")
    ax.set_title("World Models: Vision, Memory, Controller", fontsize=13)
    return ax


def show_frames(frames: Sequence[np.ndarray], titles: Sequence[str] | None = None, size: float = 2.0,
                suptitle: str | None = None) -> plt.Figure:
    """A strip of images side by side."""
    fig, axes = plt.subplots(1, len(frames), figsize=(size * len(frames), size * 1.15), squeeze=False)
    for i, (ax, frame) in enumerate(zip(axes[0], frames)):
        ax.imshow(frame)
        ax.axis("off")
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def return_histogram(returns: np.ndarray, title: str, ax: plt.Axes | None = None) -> plt.Axes:
    """Histogram of episode returns with the mean marked."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    ax.hist(returns, bins=min(20, max(5, len(returns) // 3)), color="#93c5fd", ec="#1e3a8a")
    ax.axvline(returns.mean(), color="#b91c1c", lw=2, label=f"mean {returns.mean():.1f}")
    ax.set_xlabel("episode return")
    ax.set_ylabel("episodes")
    ax.set_title(title)
    ax.legend()
    return ax


def step_rate_bars(rates: dict[str, float], ax: plt.Axes | None = None) -> plt.Axes:
    """Steps per second of each world (notebook 00: a real CarRacing step against a batched dream step), as
    horizontal bars on a log axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2.4))
    ax.barh(list(rates), list(rates.values()), color=["#9ca3af", "#60a5fa"][: len(rates)] or None)
    ax.set_xscale("log")
    ax.set_xlabel("steps per second on this machine (log scale)")
    return ax


# --- notebook 01: the VAE -------------------------------------------------------------------------------

def frame_grid(rows: Sequence[Sequence[np.ndarray]], row_labels: Sequence[str] | None = None,
               col_labels: Sequence[str] | None = None, size: float = 1.5, suptitle: str | None = None) -> plt.Figure:
    """A grid of images: one list of frames per row, each row labelled on its left."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols + 1.2, size * n_rows + 0.5), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(row):
                ax.imshow(row[j])
            if j == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[i], rotation=0, ha="right", va="center", fontsize=10)
            if i == 0 and col_labels is not None:
                ax.set_title(col_labels[j], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


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


# --- notebooks 02 and 03: mixture density networks and temperature ------------------------------------

def _toy_predictions(model, x_grid):
    import torch

    with torch.no_grad():
        log_pi, mu, log_sigma = model(torch.as_tensor(x_grid, dtype=torch.float32)[:, None])
    return log_pi[:, 0].exp().numpy(), mu[:, 0].numpy(), log_sigma[:, 0].exp().numpy()


def _mixture_density(y, pi, mu, sigma):
    """Density of a 1-D mixture (weights pi, means mu, scales sigma, each (K,)) at the points y."""
    y = np.asarray(y, float)[:, None]
    return (pi * np.exp(-0.5 * ((y - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))).sum(axis=1)


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
    ax.hist(y[near], bins=30, range=(-1.5, 1.5), density=True, color="#d1d5db", label=f"data with |x - {x_slice}| < 0.05")
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


def horizon_error_plot(errors: dict[str, np.ndarray], ax: plt.Axes | None = None,
                       title: str = "M's open-loop prediction error, held-out episode") -> plt.Axes:
    """Latent squared error by steps ahead: M's predictions against the baselines that know no dynamics
    (wmcourse.worldmodels.probes.horizon_errors)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    k = errors["steps_ahead"]
    labels = {"model": ("M (likeliest component, fed back)", "#1d4ed8", "o-"),
              "copy_last": ("copy the last real latent", "#6b7280", "s--"),
              "mean_latent": ("always the episode's mean latent", "#d97706", "^:")}
    for key, (label, color, style) in labels.items():
        if key in errors:
            ax.plot(k, errors[key], style, color=color, label=label, ms=4)
    ax.set_xlabel("steps ahead k (M sees the real past up to step t, then only its own guesses)")
    ax.set_ylabel("squared error per latent dim")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def horizon_errors_side_by_side(errors_by_title: dict[str, dict[str, np.ndarray]],
                                ylabel: str = "squared error per dimension\n(in std units of M's data)") -> plt.Figure:
    """One horizon_error_plot per model, side by side on log axes (notebook 07: the M trained on random data
    next to the M after the iterative loop), each titled by its key."""
    fig, axes = plt.subplots(1, len(errors_by_title), figsize=(6 * len(errors_by_title), 3.4), squeeze=False)
    for ax, (title, errors) in zip(axes[0], errors_by_title.items()):
        horizon_error_plot(errors, ax=ax, title=title)
        ax.set_yscale("log")
        ax.set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def dream_real_histogram(dream: np.ndarray, real: np.ndarray, title: str = "", cap: float = 500.0,
                         ax: plt.Axes | None = None) -> plt.Axes:
    """Scores of one controller in its dream and in reality, as two overlaid histograms with their mean ± std
    (notebook 07: the failure agent; CartPole's cap is 500)."""
    dream, real = np.asarray(dream), np.asarray(real)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    bins = np.linspace(0, cap, 26)
    ax.hist(dream, bins=bins, alpha=0.6, color="#7c3aed",
            label=f"dream: {dream.mean():.1f} ± {dream.std():.1f} ({len(dream)} dreams)")
    ax.hist(real, bins=bins, alpha=0.6, color="#16a34a",
            label=f"reality: {real.mean():.1f} ± {real.std():.1f} ({len(real)} episodes)")
    ax.set_xlabel(f"score (steps the pole stays up; the cap is {cap:.0f})")
    ax.set_ylabel("episodes")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


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


def tau_table_plot(rows: Sequence[dict], title: str, solved: float | None = None,
                   random: tuple[float, float] | None = None, ax: plt.Axes | None = None) -> plt.Axes:
    """Dream score and real score (mean +- std) for each temperature tau, as grouped bars.

    rows: dicts with tau, dream_mean, dream_std, real_mean, real_std (wmcourse.paper.tau_rows, data/tau_sweep.json)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    taus = [r["tau"] for r in rows]
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["dream_mean"] for r in rows], 0.4, yerr=[r["dream_std"] for r in rows], capsize=3,
           color="#c4b5fd", ec="#4c1d95", label="score in the dream")
    ax.bar(x + 0.2, [r["real_mean"] for r in rows], 0.4, yerr=[r["real_std"] for r in rows], capsize=3,
           color="#86efac", ec="#14532d", label="score in the real game")
    if solved is not None:
        ax.axhline(solved, color="#b91c1c", ls="--", lw=1.2, label=f"solved ({solved:g})")
    if random is not None:
        ax.axhspan(random[0] - random[1], random[0] + random[1], color="#9ca3af", alpha=0.25,
                   label=f"random policy {random[0]:g} ± {random[1]:g}")
    ax.set_xticks(x, [f"tau = {t:g}" for t in taus])
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def dream_spread_plot(spread: dict[str, np.ndarray], real_step: float | None = None) -> plt.Figure:
    """How jumpy each dream is and how far many dreams drift apart, by temperature (wmcourse.worldmodels.probes.dream_spread)."""
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


def cma_search_figure(trace: Sequence, objective, generations: Sequence[int], box=((-2, 2), (-1, 3)),
                      title: str = "CMA-ES on Rosenbrock's valley") -> plt.Figure:
    """The search distribution moving and reshaping: for each chosen generation, the contours of log f, the
    candidates drawn (dots), the mean (cross) and the 2-sigma ellipse of N(m, sigma^2 C).
    trace: wmcourse.worldmodels.evolve.trace_cma's snapshots."""
    (x0, x1), (y0, y1) = box
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    f = np.log10(objective(np.stack([gx.ravel(), gy.ravel()], axis=1)) + 1e-3).reshape(gx.shape)
    fig, axes = plt.subplots(1, len(generations), figsize=(3.1 * len(generations), 3.2), sharey=True)
    for ax, g in zip(np.atleast_1d(axes), generations):
        snap = trace[g]
        ax.contourf(gx, gy, f, levels=20, cmap="Greys_r", alpha=0.55)
        ax.scatter(*snap.candidates.T, s=10, color="#2563eb", zorder=3, label="candidates")
        ax.plot(*animate.ellipse_points(snap.mean, snap.covariance).T, color="#dc2626", lw=1.5, label="2-sigma ellipse")
        ax.plot(*snap.mean, "x", color="#dc2626", ms=9, mew=2, label="mean m")
        ax.plot(1, 1, "*", color="#facc15", ms=12, mec="k", label="optimum")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_title(f"generation {g}\nbest so far {snap.best:.2g}", fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def cma_search_panel(ax: plt.Axes, trace: Sequence, objective, generation: int, box=((-2, 2), (-1, 3)),
                     path: bool = True) -> plt.Axes:
    """One generation of a CMA-ES run on one axes (for the animation and the generation scrubber of notebook 04):
    log f as a background, the candidates drawn, the mean, the path the mean took so far and the 2-sigma ellipse
    of N(m, sigma^2 C). trace: wmcourse.worldmodels.evolve.trace_cma's snapshots."""
    (x0, x1), (y0, y1) = box
    gx, gy = np.meshgrid(np.linspace(x0, x1, 160), np.linspace(y0, y1, 160))
    f = np.log10(objective(np.stack([gx.ravel(), gy.ravel()], axis=1)) + 1e-3).reshape(gx.shape)
    ax.imshow(f, extent=(x0, x1, y0, y1), origin="lower", cmap="Greys_r", alpha=0.55, aspect="auto")
    snap = trace[generation]
    if path:
        means = np.array([s.mean for s in trace[:generation + 1]])
        ax.plot(*means.T, color="#dc2626", lw=0.8, alpha=0.5)
    ax.scatter(*snap.candidates.T, s=12, color="#2563eb", zorder=3, label="candidates")
    ax.plot(*animate.ellipse_points(snap.mean, snap.covariance).T, color="#dc2626", lw=1.5, label="2-sigma ellipse")
    ax.plot(*snap.mean, "x", color="#dc2626", ms=9, mew=2, label="mean m")
    ax.plot(1, 1, "*", color="#facc15", ms=12, mec="k", label="optimum")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(f"generation {generation}: best so far {snap.best:.3g}", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    return ax


def cma_scrubber_figure(trace: Sequence, objective, generation: int, box=((-2, 2), (-1, 3))) -> plt.Figure:
    """Notebook 04's generation scrubber: the search distribution at one generation (cma_search_panel) beside
    the whole run's best value and step size sigma, the chosen generation marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1, 1.2]})
    cma_search_panel(left, trace, objective, generation, box)
    generations = np.arange(len(trace))
    right.semilogy(generations, [max(s.best, 1e-12) for s in trace], color="#2563eb", label="best so far f")
    spread = [np.sqrt(np.sqrt(max(np.linalg.det(s.covariance), 1e-300))) for s in trace]
    right.semilogy(generations, spread, color="#dc2626", label="spread: det(sigma^2 C)^(1/4)")
    right.axvline(generation, color="k", lw=1, ls=":")
    right.plot([generation], [max(trace[generation].best, 1e-12)], "o", color="#2563eb")
    right.plot([generation], [spread[generation]], "o", color="#dc2626")
    right.set_xlabel("generation")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def evolution_curve(history: Sequence[dict], title: str, ax: plt.Axes | None = None) -> plt.Axes:
    """Best, mean and worst score of each CMA-ES generation (wmcourse.worldmodels.evolve's history rows)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.4))
    gens = [r["generation"] for r in history]
    ax.fill_between(gens, [r["worst"] for r in history], [r["best"] for r in history], color="#bfdbfe",
                    label="worst to best candidate")
    ax.plot(gens, [r["mean"] for r in history], color="#1d4ed8", label="population mean")
    ax.plot(gens, [r["best"] for r in history], color="#1e3a8a", lw=0.8, ls="--", label="best candidate")
    ax.set_xlabel("generation")
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def es_race_figure(x0: np.ndarray, sigmas: Sequence[float] = (0.03, 0.1, 0.3), generations: int = 80,
                   seed: int = 0, es=None) -> plt.Figure:
    """Best value so far on Rosenbrock's valley: a simple ES with a fixed round cloud at several sizes against
    CMA-ES, same start, 8 candidates a generation. `es` is the simple ES to race, with the signature of
    wmcourse.worldmodels.evolve.simple_es (the learner's own, in notebook 04); None races the package's."""
    from ..worldmodels import evolve

    name = "simple ES" if es is None else "your ES"
    es = es or evolve.simple_es
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for sigma in sigmas:
        ax.semilogy(es(evolve.rosenbrock, x0, sigma, 8, 2, generations, seed), label=f"{name}, fixed sigma = {sigma}")
    ax.semilogy([s.best for s in evolve.trace_cma(evolve.rosenbrock, x0, 0.4, 8, generations, seed)], "k", lw=2,
                label="CMA-ES (cma package)")
    ax.set_xlabel("generation (8 evaluations each)")
    ax.set_ylabel("best f so far (log)")
    ax.set_title("Rosenbrock: a fixed round cloud against an adaptive one")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


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
    """Notebook 06's reward-gap scrubber: the real frame at step t of a real drive (wmcourse.worldmodels.agent.drive_real) and
    V's view of it, beside the cumulative reward the game paid and the one M's reward head predicted along the
    same drive, step t marked; the title says what each paid over the `window` steps up to t."""
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
    """Real score against the real steps spent (`ledger.StepCurve`s): each row's line of measurements and, as a
    star with its std, its final controller on the held-out tracks; a dashed line at the issue's target."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.6))
    colours = ["#7c3aed", "#16a34a", "#ea580c", "#0284c7"]
    for curve, colour in zip(curves, colours):
        ax.plot(curve.steps, curve.scores, "o-", color=colour, ms=4, lw=1.4, alpha=0.8, label=f"row {curve.label}")
        steps, mean, std = curve.held_out
        ax.errorbar([steps], [mean], yerr=[std], fmt="*", ms=16, color=colour, mec="k", capsize=4)
    ax.axhline(target, color="k", ls="--", lw=1)
    ax.text(ax.get_xlim()[0], target, f" target {target:g}", va="bottom", fontsize=9)
    ax.set_xlabel("real CarRacing steps spent (data + selection + refinement)")
    ax.set_ylabel("real score")
    ax.xaxis.set_major_formatter(lambda x, _: f"{x / 1000:,.0f}k")
    ax.set_title("lines: a round's 20 episodes or a generation's population mean; stars: 100 held-out tracks ± std",
                 fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.92), fontsize=9)
    return ax


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


def symlog_figure() -> plt.Figure:
    """symlog(x) = sign(x) ln(|x| + 1) against the identity: linear near 0, logarithmic far away."""
    import torch

    from ..dreamer.rssm import symlog

    grid = torch.linspace(-50, 50, 401)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(grid, symlog(grid), label="symlog(x)")
    ax.plot(grid, grid.clamp(-4, 4), ls=":", label="x (identity), clipped")
    ax.set_xlabel("x")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


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


def take_cover_tau_figure(measured: dict, solved: float = 750.0) -> plt.Figure:
    """The temperature table twice, on one score axis: measured here (left, `measured` as written by
    wmcourse.experiments.takecover: rows and the random policy) and the paper's VizDoom Take Cover numbers (right)."""
    from .. import paper

    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), sharey=True)
    random = measured["random"]
    tau_table_plot(measured["rows"], "measured here: Take Cover, C evolved in the dream", solved=solved,
                   random=(round(random["real_mean"], 1), round(random["real_std"], 1)), ax=axes[0])
    tau_table_plot(paper.tau_rows(), "the paper (Ha & Schmidhuber 2018)", solved=paper.VIZDOOM_SOLVED,
                   random=paper.VIZDOOM_RANDOM, ax=axes[1])
    fig.tight_layout()
    return fig


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


def tau_sweep_plot(sweep: dict, solved: bool = True, ax=None):
    """The measured sweep as grouped bars (dream and real score per tau) over the random policy's band, as in
    notebooks 03 and 06 and deck 03; solved draws CarRacing's 900 line."""
    from .. import paper
    from ..experiments.tau_sweep import random_band

    return tau_table_plot(sweep["rows"], f"Measured here: {sweep.get('env', 'CarRacing-v3')}, controller "
                                "evolved in the dream", solved=paper.CARRACING_SOLVED if solved else None,
                                random=random_band(sweep), ax=ax)
