"""Notebook 08's pictures (and its slides', through wmcourse.lessons.figures): World Models and Dreamer side by side,
the lambda-return targets of a made-up dream, and the open-loop drift of Dreamer's dream from a real episode.
"""

from __future__ import annotations

import numpy as np
import torch

from ..dreamer.agent import lambda_returns


def _box(ax, x, y, w, h, title, body="", color="#e5e7eb"):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.05", fc=color, ec="#333"))
    ax.text(x + w / 2, y + h * (0.66 if body else 0.5), title, ha="center", va="center", fontsize=10, weight="bold")
    if body:
        ax.text(x + w / 2, y + h * 0.28, body, ha="center", va="center", fontsize=8)


def _arrow(ax, a, b, label="", rad=0.0, style="-|>", color="#333"):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=12, lw=1.2, color=color,
                                 connectionstyle=f"arc3,rad={rad}"))
    if label:
        ax.text((a[0] + b[0]) / 2 + 0.05, (a[1] + b[1]) / 2 + 0.08, label, fontsize=8, color=color)


def draw_side_by_side(axes=None, groups: int = 8, classes: int = 8, horizon: int = 15):
    """World Models (V, M, C trained one after the other) next to Dreamer (RSSM + actor-critic, trained together);
    groups, classes and horizon label Dreamer's latent and imagination (pass the config's)."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(14, 5.2))
    left, right = axes
    for ax in axes:
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 7.2)
        ax.axis("off")
    # World Models: stages in order, each frozen before the next
    _box(left, 0.0, 5.3, 2.7, 1.1, "1. collect", "random policy,\nthen frozen", "#e5e7eb")
    _box(left, 3.4, 5.3, 3.1, 1.1, "2. V (VAE)", "x_t -> z_t\nGaussian, continuous", "#dbeafe")
    _box(left, 3.4, 3.2, 3.1, 1.3, "3. M (MDN-RNN)", "LSTM memory h_t; P(z_t+1):\n5 Gaussians per dimension", "#fde68a")
    _box(left, 3.4, 0.8, 3.1, 1.3, "4. C (linear)", "a_t = W [z_t, h_t] + b\nCMA-ES, no gradients", "#bbf7d0")
    _box(left, 7.3, 2.0, 2.7, 1.7, "dream", "M's samples only;\nwhole episodes\n(up to 1000 steps)", "#f3f4f6")
    _arrow(left, (2.7, 5.85), (3.4, 5.85))
    _arrow(left, (4.95, 5.3), (4.95, 4.5), "z")
    _arrow(left, (4.95, 3.2), (4.95, 2.1), "z, h")
    _arrow(left, (6.5, 1.4), (7.7, 2.0), "fitness", rad=0.2)
    _arrow(left, (6.5, 3.9), (7.4, 3.4))
    left.text(5.0, 0.15, "a pipeline: each stage trained once, then fixed", ha="center", fontsize=9, style="italic")
    left.set_title("World Models (2018)", fontsize=12)
    # Dreamer: the RSSM and the actor-critic, updated in turn, forever
    _box(right, 0.0, 4.9, 1.9, 1.2, "h_t-1", "deterministic\nmemory", "#fde68a")
    _box(right, 2.4, 4.9, 2.1, 1.2, "GRU", "h_t = f(h_t-1,\nz_t-1, a_t-1)", "#fde68a")
    _box(right, 5.0, 5.8, 3.0, 1.0, "prior", "p(z_t | h_t): imagination", "#fbcfe8")
    _box(right, 5.0, 4.2, 3.0, 1.0, "posterior", "q(z_t | h_t, x_t): real data", "#dbeafe")
    _box(right, 8.7, 4.2, 1.3, 1.0, "x_t", "real obs", "#e5e7eb")
    _box(right, 2.6, 2.2, 5.2, 1.2, "s_t = [h_t, z_t]", f"z: {groups} groups of {classes} classes, one-hot "
         "(straight-through)", "#f3f4f6")
    _box(right, 0.0, 0.3, 3.0, 1.3, "heads", "decoder, reward (symlog),\ncontinue", "#e5e7eb")
    _box(right, 3.4, 0.3, 2.9, 1.3, "actor pi(a | s)", "REINFORCE on\nlambda-returns", "#bbf7d0")
    _box(right, 6.7, 0.3, 3.3, 1.3, "critic V(s)", f"{horizon} imagined steps,\nthen V bootstraps", "#bbf7d0")
    _arrow(right, (1.9, 5.5), (2.4, 5.5))
    _arrow(right, (4.5, 5.7), (5.0, 6.2))
    _arrow(right, (4.5, 5.2), (5.0, 4.7))
    _arrow(right, (8.7, 4.7), (8.0, 4.7))
    _arrow(right, (6.5, 4.2), (5.9, 3.4), "z_t")
    _arrow(right, (8.05, 6.3), (8.05, 5.0), "", rad=-0.6, style="<|-|>", color="#db2777")
    right.text(8.75, 5.7, "KL\nbalance", fontsize=8, color="#db2777", ha="center")
    _arrow(right, (4.0, 2.2), (1.6, 1.6))
    _arrow(right, (5.0, 2.2), (4.85, 1.6))
    _arrow(right, (6.5, 2.2), (8.3, 1.6))
    right.text(5.0, 7.05, "trained together, alternating with real steps", ha="center", fontsize=9, style="italic")
    right.set_title("Dreamer (RSSM + actor-critic in imagination)", fontsize=12)
    return axes


def plot_lambda_targets(seed: int = 0, horizon: int = 15, fall: int = 10, ax=None, gamma: float = 0.99,
                        lams=(0.0, 0.5, 0.95, 1.0)):
    """Notebook 08's made-up dream: every step pays 1, the pole falls after step `fall`, and the critic is a
    noisy, over-optimistic guesser (about 40 everywhere); the targets R_t for each lambda in `lams` (discount
    gamma), against the true discounted number of steps left. Returns the figure."""
    import matplotlib.pyplot as plt

    rewards = torch.ones(horizon)
    continues = (torch.arange(horizon) < fall).float()  # c_t = 0 from step `fall` on: the pole has fallen
    values = 40 + 5 * torch.randn(horizon + 1, generator=torch.Generator().manual_seed(seed))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    for lam in lams:
        ax.plot(lambda_returns(rewards, values, continues, gamma=gamma, lam=lam), marker="o", ms=3, label=f"λ = {lam:g}")
    truth = [sum(gamma ** k for k in range(fall + 1 - t)) if t <= fall else 1.0 for t in range(horizon)]
    ax.plot(truth, color="black", ls=":", label="true discounted steps left")
    ax.set_xlabel("dream step t")
    ax.set_ylabel("target R_t")
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax.figure


CARTPOLE_STATE = ("x", "x_dot", "theta", "theta_dot")


def plot_open_loop_error(error: np.ndarray, horizon: int = 15, title: str = "", ax=None,
                         names=CARTPOLE_STATE):
    """The open-loop error of each state number (dreamer_probes.open_loop_error, (T, obs)) against the steps
    dreamed after the last real observation, on a log axis, with Dreamer's imagination horizon marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    for i, name in enumerate(names):
        ax.plot(np.arange(1, len(error) + 1), error[:, i], label=name)
    ax.axvline(horizon, color="#6b7280", ls=":")
    ax.text(horizon * 0.95, ax.get_ylim()[1] * 0.9, f"imagination horizon ({horizon})", fontsize=8, ha="right")
    ax.set_xscale("log")
    ax.set_xlabel("steps dreamed after the last real observation")
    ax.set_ylabel("|dream - real|")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_free_bits(dyn_scale: float = 0.5, rep_scale: float = 0.1, free: float = 1.0, ax=None):
    """The balanced KL loss against the KL, with free bits (flat below `free` nats) and without: below one nat
    there is no gradient, so the posterior is not squeezed into saying nothing (notebook 08, section 4)."""
    import matplotlib.pyplot as plt

    kl_values = torch.linspace(0, 3 * free, 121)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    ax.plot(kl_values, dyn_scale * kl_values.clamp_min(free) + rep_scale * kl_values.clamp_min(free),
            label="balanced KL with free bits")
    ax.plot(kl_values, (dyn_scale + rep_scale) * kl_values, ls="--", label="the same weights, no free bits")
    ax.axvspan(0, free, color="#e5e7eb", alpha=0.6)
    ax.text(0.5 * free, 1.5, "flat: no gradient\n(free bits)", ha="center", fontsize=9)
    ax.set_xlabel("KL[q || p] (nats)")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    return ax
