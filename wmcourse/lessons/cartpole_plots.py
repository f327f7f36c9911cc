"""Pictures for notebook 07: the CartPole World Model, where its data reaches, where its dream parts from
reality, and the measured table of fixes. Each function draws on its own figure (or on the axes given)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..worldmodels.cartpole import MAX_STEPS, STATE_NAMES, THETA_LIMIT, X_LIMIT

COLORS = ("#6b7280", "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed")
LIMITS = {0: X_LIMIT, 2: THETA_LIMIT}  # state dimensions with an end rule


def _limits(ax: plt.Axes, dim: int, horizontal: bool = True) -> None:
    if dim in LIMITS:
        for sign in (-1, 1):
            (ax.axhline if horizontal else ax.axvline)(sign * LIMITS[dim], color="#b91c1c", ls="--", lw=1)


def coverage_plot(datasets: Mapping[str, np.ndarray], max_points: int = 4000, seed: int = 0) -> plt.Figure:
    """Where each set of states (N, 4) lies: cart position against pole angle, and the two velocities.
    The red dashes are where an episode ends (|x| = 2.4, |theta| = 12 degrees)."""
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for (label, states), color in zip(datasets.items(), COLORS[1:]):
        states = np.asarray(states)
        pick = rng.choice(len(states), min(max_points, len(states)), replace=False)
        axes[0].scatter(states[pick, 0], states[pick, 2], s=3, alpha=0.35, color=color, label=label)
        axes[1].scatter(states[pick, 1], states[pick, 3], s=3, alpha=0.35, color=color, label=label)
    _limits(axes[0], 0, horizontal=False)
    _limits(axes[0], 2)
    axes[0].set_xlabel(STATE_NAMES[0])
    axes[0].set_ylabel(STATE_NAMES[2] + " (rad)")
    axes[1].set_xlabel(STATE_NAMES[1])
    axes[1].set_ylabel(STATE_NAMES[3])
    for ax in axes:
        ax.grid(alpha=0.3)
        leg = ax.legend(fontsize=8, markerscale=4)
        for handle in leg.legend_handles:
            handle.set_alpha(1)
    axes[0].set_title("positions: the red dashes end an episode")
    axes[1].set_title("velocities")
    fig.tight_layout()
    return fig


def trajectory_plot(real: np.ndarray, dreamed: np.ndarray, parting: int | None = None,
                    title: str = "the same actions, in reality and in M's dream") -> plt.Figure:
    """The real states (T + 1, 4) of an episode and M's open-loop dreams of it (S, T + 1, 4), per dimension."""
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.2))
    t = np.arange(len(real))
    for d, ax in enumerate(axes):
        for i, dream in enumerate(dreamed):
            ax.plot(t[:len(dream)], dream[:, d], color="#7c3aed", alpha=0.35, lw=0.8,
                    label="M's dreams (sampled)" if i == 0 else None)
        ax.plot(t, real[:, d], color="#111827", lw=1.8, label="reality")
        _limits(ax, d)
        if parting is not None:
            ax.axvline(parting, color="#d97706", ls=":", lw=1.5, label=f"they part (step {parting})")
        ax.set_title(STATE_NAMES[d], fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if d == 2:
            ax.set_ylim(-0.45, 0.45)
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def done_along_plot(states: np.ndarray, probability: Mapping[str, np.ndarray], ended: bool,
                    title: str = "the done signal along one real episode") -> plt.Figure:
    """Left: how close a real episode's state comes to each end rule (|x| / 2.4 and |theta| / 12 degrees; 1 ends it).
    Right: P(done) that each done head gives at every step of it (wmcourse.worldmodels.cartpole.done_along)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.2))
    t = np.arange(1, len(states))
    axes[0].plot(t, np.abs(states[1:, 0]) / X_LIMIT, color="#2563eb", label="|x| / 2.4 (cart)")
    axes[0].plot(t, np.abs(states[1:, 2]) / THETA_LIMIT, color="#d97706", label="|theta| / 12° (pole)")
    axes[0].axhline(1.0, color="#b91c1c", ls="--", lw=1, label="the end rule")
    axes[0].set_ylabel("share of the limit")
    for (label, p), color in zip(probability.items(), COLORS[1:]):
        axes[1].plot(t, p, color=color, lw=1.5, label=label)
    axes[1].axhline(0.5, color="#6b7280", ls=":", lw=1, label="threshold 0.5")
    if ended:
        axes[1].axvline(t[-1], color="#b91c1c", ls="--", lw=1, label="the real end")
    axes[1].set_ylabel("P(done)")
    axes[1].set_ylim(-0.03, 1.03)
    for ax in axes:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def survival_maps(theta: np.ndarray, theta_dot: np.ndarray, real: np.ndarray, dreamed: np.ndarray,
                  horizon: int) -> plt.Figure:
    """Steps survived (of `horizon`) from each start (theta, theta_dot), in reality and in the dream, and where
    they disagree about "it survives"."""
    shape = (len(theta_dot), len(theta))
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    extent = (theta[0], theta[-1], theta_dot[0], theta_dot[-1])
    for ax, values, title in ((axes[0], real, "reality"), (axes[1], dreamed, "M's dream")):
        im = ax.imshow(values.reshape(shape), origin="lower", extent=extent, aspect="auto", cmap="viridis",
                       vmin=0, vmax=horizon)
        ax.set_title(f"{title}: steps survived (of {horizon})")
    fig.colorbar(im, ax=axes[:2].tolist(), shrink=0.9)
    wrong = (real.reshape(shape) >= horizon) != (dreamed.reshape(shape) >= horizon)
    axes[2].imshow(wrong, origin="lower", extent=extent, aspect="auto", cmap="Reds", vmin=0, vmax=1)
    axes[2].set_title(f"disagree on survival: {wrong.mean():.0%} of starts")
    for ax in axes:
        ax.set_xlabel("start pole angle theta (rad)")
        ax.axvline(-THETA_LIMIT, color="white", ls="--", lw=1)
        ax.axvline(THETA_LIMIT, color="white", ls="--", lw=1)
    axes[0].set_ylabel("start angular velocity")
    return fig


def learning_curves_plot(curves: Mapping[str, Sequence[Mapping]], budget: int | None = None,
                         ax: plt.Axes | None = None) -> plt.Axes:
    """Real score against the real environment steps used so far, one line per learner."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    for (label, curve), color, marker in zip(curves.items(), COLORS[1:], "osd^v"):
        steps = [p["steps"] for p in curve]
        mean, std = np.array([p["mean"] for p in curve]), np.array([p["std"] for p in curve])
        ax.plot(steps, mean, marker=marker, color=color, label=label)
        ax.fill_between(steps, mean - std, mean + std, color=color, alpha=0.12)
    return _real_score_axes(ax, budget, legend_size=8)


def cartpole_image(state, height: int = 90, width: int = 180, ended: bool = False) -> np.ndarray:
    """A CartPole state (x, x_dot, theta, theta_dot) drawn as a small picture, uint8 (height, width, 3):
    the track (its ends at |x| = 2.4 marked), the cart and the pole (1 unit long, as CartPole-v1's physics).
    `ended` tints the background red: the task's rule says this episode is over. Fast enough to draw every
    step of an animation or a game (pure NumPy)."""
    x, _, theta, _ = (float(v) for v in np.asarray(state, float).reshape(4))
    world = 2 * X_LIMIT * 1.25                            # the picture spans [-3, 3] in x
    scale = width / world
    image = np.full((height, width, 3), (255, 228, 228) if ended else (255, 255, 255), np.uint8)
    track_y = int(height * 0.78)
    image[track_y, :] = (120, 120, 120)
    for edge in (-X_LIMIT, X_LIMIT):                     # the track's ends: beyond them the episode is over
        col = int(round((edge + world / 2) * scale))
        image[track_y - 6:track_y + 1, max(col - 1, 0):col + 1] = (220, 38, 38)
    cx = (x + world / 2) * scale
    cart_w, cart_h = 0.5 * scale, 0.3 * scale
    rows, cols = np.mgrid[0:height, 0:width]
    cart = (np.abs(cols - cx) <= cart_w / 2) & (rows >= track_y - cart_h) & (rows <= track_y)
    image[cart] = (30, 30, 30)
    # the pole: a thick segment from the top of the cart, theta measured from upright, clockwise positive
    px, py = cx, track_y - cart_h
    length = 1.0 * scale
    qx, qy = px + length * np.sin(theta), py - length * np.cos(theta)
    dx, dy = qx - px, qy - py
    t = np.clip(((cols - px) * dx + (rows - py) * dy) / (dx * dx + dy * dy), 0, 1)
    near = np.hypot(cols - (px + t * dx), rows - (py + t * dy)) <= max(1.5, 0.05 * scale)
    image[near] = (202, 152, 101)
    image[(np.hypot(cols - px, rows - py) <= max(1.5, 0.04 * scale))] = (129, 132, 203)
    return image


def results_over_seeds_plot(rows: Sequence[Mapping], ax: plt.Axes | None = None) -> plt.Axes:
    """Every row of the table over seeds (cartpole_experiment.over_seeds): the mean across seeds of the dream
    and real scores as bars, the std across seeds as the error bar, and each seed's real score as a dot."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.55 * len(rows) + 1))
    y = np.arange(len(rows))[::-1]
    n = rows[0]["real"]["n"]
    dream = [r["dream"]["mean"] if r["dream"] is not None else 0 for r in rows]
    ax.barh(y + 0.2, dream, 0.4, color="#c4b5fd", ec="#4c1d95", label="score in the dream (mean over seeds)")
    ax.barh(y - 0.2, [r["real"]["mean"] for r in rows], 0.4, xerr=[r["real"]["std"] for r in rows], capsize=2,
            color="#86efac", ec="#14532d", label=f"score in reality (mean ± std over {n} seeds)")
    for yi, r in zip(y, rows):
        values = list(r["real"]["per_seed"].values())
        ax.plot(values, np.full(len(values), yi - 0.2), "o", ms=4, mfc="white", mec="#14532d",
                label="one seed (mean of its real episodes)" if yi == y[0] else None)
    ax.set_yticks(y, [f"{r['label']}\n{r['steps']:,} real steps" for r in rows], fontsize=7)
    ax.axvline(MAX_STEPS, color="#b91c1c", ls="--", lw=1, label=f"the cap ({MAX_STEPS})")
    ax.set_xlabel("score (steps the pole stays up)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    ax.grid(axis="x", alpha=0.3)
    return ax


def curves_over_seeds_plot(curves: Mapping[str, Mapping], budget: int | None = None,
                           ax: plt.Axes | None = None) -> plt.Axes:
    """Learning curves over seeds (over_seeds.curve_spread): the mean across seeds as a
    line, the band from the lowest to the highest seed shaded, each seed a thin line."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    for (label, c), color, marker in zip(curves.items(), COLORS[1:], "osd^v"):
        for values in c["per_seed"].values():
            ax.plot(c["steps"], values, color=color, lw=0.6, alpha=0.45)
        ax.plot(c["steps"], c["mean"], marker=marker, ms=4, color=color,
                label=f"{label} (mean of {len(c['per_seed'])} seeds; band: min to max)")
        ax.fill_between(c["steps"], c["min"], c["max"], color=color, alpha=0.12)
    return _real_score_axes(ax, budget, legend_size=7)


def _real_score_axes(ax: plt.Axes, budget: int | None, legend_size: int) -> plt.Axes:
    """The frame of a real-score-vs-real-steps plot: the task's cap, the budget, labels, legend and grid."""
    ax.axhline(MAX_STEPS, color="#b91c1c", ls="--", lw=1, label="the cap")
    if budget is not None:
        ax.axvline(budget, color="#6b7280", ls=":", lw=1, label="the budget")
    ax.set_xlabel("real environment steps used")
    ax.set_ylabel("real score")
    ax.legend(fontsize=legend_size)
    ax.grid(alpha=0.3)
    return ax
