"""Pictures of the course's key ideas, drawn from boxes and arrows (matplotlib only, no data):

    draw_vmc                 the agent in the real world: V sees, M remembers, C acts (notebook 00)
    draw_dream_loop          the same agent with M in place of the world: its sample fed back (00, 04, 05)
    draw_reparameterisation  z = mu + sigma * eps: the random draw moved off the gradient's path (01)
    draw_elbo_gap            log p(x) = ELBO + KL(q || p(z|x)): the gap the encoder closes (01)
    draw_architecture        V or M as layers with their sizes (01, 02)
    draw_iterative_training  the paper's rounds, and the held-out look at reality that says when to stop (05-07)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..errors import SettingsError

GREY, BLUE, YELLOW, GREEN, PINK, PURPLE = "#e5e7eb", "#dbeafe", "#fde68a", "#bbf7d0", "#fbcfe8", "#ddd6fe"


def box(ax, xy, w, h, title, body="", color=GREY, dashed=False, fontsize=12):
    """A rounded box with a bold title and a smaller body below it."""
    ax.add_patch(FancyBboxPatch(xy, w, h, boxstyle="round,pad=0.02,rounding_size=0.04", fc=color, ec="#333",
                                lw=1.2, ls="--" if dashed else "-"))
    ax.text(xy[0] + w / 2, xy[1] + h * (0.66 if body else 0.5), title, ha="center", va="center",
            fontsize=fontsize, weight="bold")
    if body:
        ax.text(xy[0] + w / 2, xy[1] + h * 0.30, body, ha="center", va="center", fontsize=9)


def arrow(ax, start, end, label="", curved=0.0, color="#333", dashed=False, offset=0.05):
    """An arrow from start to end, its label above the middle."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, lw=1.4, color=color,
                                 ls="--" if dashed else "-", connectionstyle=f"arc3,rad={curved}"))
    if label:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + offset, label, ha="center", fontsize=9,
                color=color)


def _canvas(ax, size, xlim, ylim):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.axis("off")
    return ax


def draw_vmc(ax: plt.Axes | None = None, z_size: int = 32, hidden_size: int = 256, actions: int = 3) -> plt.Axes:
    """The agent of World Models: V compresses the frame to z, M predicts the next z and keeps h, C acts on [z, h]."""
    ax = _canvas(ax, (10, 4.4), (0, 10), (-1.0, 3.6))
    box(ax, (0.1, 1.3), 1.5, 1.0, "world", "frame x_t\n96x96x3")
    box(ax, (2.3, 1.3), 1.8, 1.0, "V  (VAE)", f"x_t -> z_t\n{z_size} numbers", BLUE)
    box(ax, (4.9, 2.3), 2.1, 1.0, "M  (MDN-RNN)", "[z_t, a_t, h_t] -> h_t+1\nP(z_t+1): 5 Gaussians/dim", YELLOW)
    box(ax, (4.9, 0.3), 2.1, 1.0, "C  (linear)",
        f"a_t = tanh(W[z_t, h_t] + b)\n{actions * (z_size + hidden_size) + actions} parameters", GREEN)
    box(ax, (8.1, 1.3), 1.6, 1.0, "action", f"a_t\n{actions} numbers")
    arrow(ax, (1.6, 1.8), (2.3, 1.8), "see")
    arrow(ax, (4.1, 2.0), (4.9, 2.7), "z_t")
    arrow(ax, (4.1, 1.6), (4.9, 0.9), "z_t")
    arrow(ax, (5.95, 2.3), (5.95, 1.3), "h_t")
    arrow(ax, (7.0, 0.8), (8.1, 1.6), "act")
    arrow(ax, (8.9, 2.3), (7.0, 2.9), "a_t (fed back to M)", curved=0.25)
    arrow(ax, (8.9, 1.3), (0.85, 1.3), "", curved=-0.45)
    ax.text(4.9, -0.95, "the real world answers with the next frame", ha="center", fontsize=9, style="italic")
    ax.set_title("World Models: Vision, Memory, Controller", fontsize=13)
    return ax


def draw_dream_loop(ax: plt.Axes | None = None, reward: str = "one point per step survived") -> plt.Axes:
    """The dream: M stands where the world stood. C acts on [z, h]; M's sample of z_t+1 is fed back as if it
    were V's code of a real frame; M's done head ends the dream. No frame, no physics: only M."""
    ax = _canvas(ax, (10, 4.8), (0, 10), (-1.1, 4.2))
    box(ax, (0.2, 2.35), 2.0, 1.0, "start", "z_0 = V(a real\nfirst frame)")
    box(ax, (3.4, 2.2), 3.2, 1.3, "M  (in place of the world)",
        "reads z_t, a_t; updates h\npredicts P(z_t+1), done, reward", YELLOW)
    box(ax, (3.4, 0.0), 3.2, 1.1, "C", "a_t = C([z_t, h_t])", GREEN)
    box(ax, (7.6, 2.35), 2.2, 1.0, "sample", "z_t+1 ~ P(z_t+1) at τ\n(not its mean)", PINK)
    box(ax, (7.6, -0.05), 2.2, 1.2, "score", f"{reward}\nuntil done > 0.5", PURPLE)
    arrow(ax, (2.2, 2.85), (3.4, 2.85), "z_0")
    arrow(ax, (6.6, 2.85), (7.6, 2.85), "mixture")
    arrow(ax, (8.7, 3.35), (5.0, 3.5), "", curved=0.35, color="#be185d")
    ax.text(6.9, 4.08, "z_t+1 fed back: the next step's z_t", ha="center", fontsize=9, color="#be185d")
    arrow(ax, (4.3, 1.1), (4.3, 2.2), "a_t")
    arrow(ax, (5.7, 2.2), (5.7, 1.1), "z_t, h_t")
    arrow(ax, (6.6, 2.4), (7.6, 0.7), "done, reward", curved=0.15, offset=-0.3)
    ax.text(5.0, -0.95, "V is used once, for the first frame; after that every z is imagined", ha="center",
            fontsize=9, style="italic")
    ax.set_title("The dream: the same agent, with M in place of the world", fontsize=13)
    return ax


def draw_reparameterisation(ax: plt.Axes | None = None) -> plt.Axes:
    """Two computation graphs of z: sampled directly (the gradient stops at the random node) and as
    z = mu + sigma * eps (the random node eps sits off to the side; the gradient reaches mu and sigma)."""
    ax = _canvas(ax, (11, 4.2), (0, 11), (-0.4, 4.2))
    for x0, title in ((0.2, "sampling z directly"), (5.9, "reparameterised: z = μ + σ·ε")):
        ax.text(x0 + 2.4, 3.95, title, ha="center", fontsize=12, weight="bold")
    # left: x -> encoder -> (mu, sigma) -> [z ~ N(mu, sigma^2)] -> decoder -> loss
    box(ax, (0.2, 2.6), 1.3, 0.8, "encoder", "x -> μ, σ", BLUE, fontsize=10)
    box(ax, (0.2, 1.2), 1.5, 0.9, "z ~ N(μ, σ²)", "random node", PINK, dashed=True, fontsize=10)
    box(ax, (2.6, 1.2), 1.3, 0.9, "decoder", "z -> x̂", BLUE, fontsize=10)
    box(ax, (2.6, 2.6), 1.3, 0.8, "loss", "ELBO", GREY, fontsize=10)
    arrow(ax, (0.85, 2.6), (0.85, 2.1))
    arrow(ax, (1.7, 1.65), (2.6, 1.65))
    arrow(ax, (3.25, 2.1), (3.25, 2.6))
    arrow(ax, (2.6, 3.0), (1.5, 3.0), "∂loss/∂φ ?", color="#dc2626", dashed=True, offset=0.1)
    ax.text(1.0, 0.55, "the gradient cannot pass\nthrough a random draw", ha="center", fontsize=9, color="#dc2626")
    # right: eps off the path
    box(ax, (5.9, 2.6), 1.3, 0.8, "encoder", "x -> μ, σ", BLUE, fontsize=10)
    box(ax, (5.9, 1.2), 1.5, 0.9, "z = μ + σ·ε", "a plain sum", GREEN, fontsize=10)
    box(ax, (5.9, -0.2), 1.5, 0.8, "ε ~ N(0, 1)", "random, no parameters", PINK, dashed=True, fontsize=10)
    box(ax, (8.3, 1.2), 1.3, 0.9, "decoder", "z -> x̂", BLUE, fontsize=10)
    box(ax, (8.3, 2.6), 1.3, 0.8, "loss", "ELBO", GREY, fontsize=10)
    arrow(ax, (6.55, 2.6), (6.55, 2.1))
    arrow(ax, (6.65, 0.6), (6.65, 1.2))
    arrow(ax, (7.4, 1.65), (8.3, 1.65))
    arrow(ax, (8.95, 2.1), (8.95, 2.6))
    arrow(ax, (8.3, 3.05), (7.2, 3.05), "∂loss/∂φ", color="#16a34a", offset=0.1)
    ax.text(9.9, 0.2, "the randomness is an input;\nthe path to μ and σ is\ndifferentiable", ha="center", fontsize=9,
            color="#16a34a")
    return ax


def draw_elbo_gap(ax: plt.Axes | None = None, log_px: float = -100.0, reconstruction: float = -85.0,
                  kl_prior: float = 22.0) -> plt.Axes:
    """log p(x) as a bar split into the ELBO (reconstruction - KL to the prior) and the gap KL(q || p(z|x)) >= 0.

    The numbers are illustrative (nats); what holds for any x: ELBO = log p(x) - KL(q(z|x) || p(z|x)) <= log p(x),
    so raising the ELBO either raises log p(x) or closes the gap."""
    elbo = reconstruction - kl_prior
    gap = log_px - elbo
    if gap < 0:
        raise SettingsError(f"The ELBO ({elbo}) cannot exceed log p(x) ({log_px}): the gap is a KL, never negative.")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.2))
    ax.barh([1], [reconstruction - elbo], left=[elbo], color="#fca5a5", edgecolor="#333", label="KL(q(z|x) || p(z))")
    ax.barh([0], [gap], left=[elbo], color="#fde68a", edgecolor="#333", label="gap: KL(q(z|x) || p(z|x)) ≥ 0")
    for value, name, y in ((log_px, "log p(x)", 0.55), (elbo, "ELBO", 0.55), (reconstruction, "E_q[log p(x|z)]", 1.45)):
        ax.axvline(value, color="#333", lw=1.2, ls="--")
        ax.text(value, y, f" {name}", fontsize=10, va="center")
    ax.set_yticks([0, 1], ["ELBO vs the evidence", "the ELBO's two terms"])
    ax.set_xlabel("nats (higher is better; illustrative numbers)")
    ax.set_xlim(elbo - 0.25 * (reconstruction - elbo), reconstruction + 0.35 * (reconstruction - elbo))
    ax.set_ylim(-0.6, 1.9)
    ax.legend(loc="lower right", fontsize=9)
    ax.set_title("log p(x) = ELBO + KL(q(z|x) || p(z|x)): the ELBO is a lower bound, the gap a KL", fontsize=12)
    return ax


def draw_architecture(layers: list[tuple[str, str]], title: str, ax: plt.Axes | None = None) -> plt.Axes:
    """A network as a row of boxes: each (name, shape or size) in order, left to right."""
    width = 1.55
    ax = _canvas(ax, (max(8.0, 1.75 * len(layers)), 2.6), (0, 1.75 * len(layers)), (0, 2.2))
    colors = [BLUE, YELLOW, GREEN, PINK, PURPLE, GREY]
    for i, (name, size) in enumerate(layers):
        box(ax, (0.1 + 1.75 * i, 0.4), width, 1.2, name, size, colors[i % len(colors)], fontsize=10)
        if i:
            arrow(ax, (1.75 * i - 0.1, 1.0), (0.1 + 1.75 * i, 1.0))
    ax.set_title(title, fontsize=12)
    return ax


def vae_layers(z_size: int = 32) -> list[tuple[str, str]]:
    """The paper's VAE as (layer, output shape): 4 convolutions down to 2x2x256, mu and log sigma^2, then back."""
    return [("frame", "64x64x3"), ("conv 32, k4 s2", "31x31x32"), ("conv 64, k4 s2", "14x14x64"),
            ("conv 128, k4 s2", "6x6x128"), ("conv 256, k4 s2", "2x2x256 = 1024"),
            ("μ, log σ²", f"{z_size} + {z_size}"),
            ("z = μ + σ·ε", f"{z_size}"), ("dense", "1x1x1024"), ("deconv 128, k5", "5x5x128"),
            ("deconv 64, k5", "13x13x64"), ("deconv 32, k6", "30x30x32"), ("deconv 3, k6", "64x64x3, sigmoid")]


def mdnrnn_layers(z_size: int = 32, actions: int = 3, hidden: int = 256, k: int = 5) -> list[tuple[str, str]]:
    """The paper's MDN-RNN as (layer, size): [z, a] into an LSTM, its h into a mixture head."""
    return [("input", f"[z_t, a_t]: {z_size} + {actions}"), ("LSTM", f"{hidden} units: h_t+1, c_t+1"),
            ("mixture head", f"{z_size} dims x {k} Gaussians:\nπ, μ, log σ ({3 * z_size * k})"),
            ("P(z_t+1)", "sample at τ")]


def draw_iterative_training(ax: plt.Axes | None = None, rounds: int = 3) -> plt.Axes:
    """The paper's iterative training as rounds: collect with the current controller (the course adds a little noise),
    retrain M on all the data, evolve C in the new dream. A held-out look at reality scores each round's controller; the
    round kept is the best there, and only it is scored again on fresh episodes (the claim)."""
    ax = _canvas(ax, (11, 4.6), (0, 11), (-1.3, 3.6))
    steps = [("collect", "real episodes with\nC + noise", GREY), ("train M", "on ALL data\nso far", YELLOW),
             ("evolve C", "in M's dream\n(CMA-ES)", GREEN)]
    for i, (title, body, color) in enumerate(steps):
        x = 0.4 + 2.6 * i
        box(ax, (x, 2.1), 2.0, 1.2, title, body, color)
        if i:
            arrow(ax, (x - 0.6, 2.7), (x, 2.7))
    arrow(ax, (6.6, 2.1), (1.4, 2.1), "", curved=-0.25)
    ax.text(4.0, 1.35, "next round: collect with the new C", ha="center", fontsize=9)
    box(ax, (8.3, 2.1), 2.4, 1.2, "held-out look", "real episodes kept\napart: score this C", PINK, dashed=True)
    arrow(ax, (7.6, 2.7), (8.3, 2.7))
    xs = np.arange(rounds + 1)
    ax.text(5.1, 0.75, "each round's C on the held-out episodes", ha="center", fontsize=9)
    heights = [0.3, 0.75, 0.5, 0.65][: rounds + 1] + [0.55] * max(0, rounds + 1 - 4)
    best = int(np.argmax(heights))
    for i, height in zip(xs, heights):
        x = 3.6 + 0.9 * i
        ax.add_patch(plt.Rectangle((x, -0.4), 0.6, height, fc="#2563eb" if i == best else "#93c5fd", ec="#333"))
        ax.text(x + 0.3, -0.65, f"round {i}", ha="center", fontsize=8)
    ax.text(3.6 + 0.9 * best + 0.3, -0.4 + heights[best] + 0.08, "kept", ha="center", fontsize=9, weight="bold")
    box(ax, (8.3, -0.5), 2.4, 1.1, "fresh episodes", "only the kept C:\nthe reported score", PURPLE)
    arrow(ax, (3.6 + 0.9 * best + 0.6, 0.0), (8.3, 0.05), "", curved=-0.1)
    ax.set_title("Iterative training: rounds, and a held-out look at reality to choose which round to keep",
                 fontsize=12)
    return ax
