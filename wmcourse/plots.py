"""Pictures the notebooks and slides share: the V-M-C diagram, frame strips, score tables as bars."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch


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
    _box(ax, (4.9, 2.3), 2.1, 1.0, "M  (MDN-RNN)", f"[z_t, a_t, h_t] -> h_t+1\nP(z_t+1): 5 Gaussians/dim", "#fde68a")
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
