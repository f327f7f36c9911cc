"""Pictures the notebooks and slides share: the V-M-C diagram, frame strips, score tables as bars.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


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


def bare(ax: plt.Axes) -> plt.Axes:
    """An axis for a picture: no ticks, no frame (labels may still be set)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def frame_grid(rows: Sequence[Sequence[np.ndarray]], row_labels: Sequence[str] | None = None,
               col_labels: Sequence[str] | None = None, size: float = 1.5, suptitle: str | None = None) -> plt.Figure:
    """A grid of images: one list of frames per row, each row labelled on its left."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols + 1.2, size * n_rows + 0.5), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(n_cols):
            ax = bare(axes[i][j])
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


def _mixture_density(y, pi, mu, sigma):
    """Density of a 1-D mixture (weights pi, means mu, scales sigma, each (K,)) at the points y."""
    y = np.asarray(y, float)[:, None]
    return (pi * np.exp(-0.5 * ((y - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))).sum(axis=1)


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
