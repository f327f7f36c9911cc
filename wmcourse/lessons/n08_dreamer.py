"""Notebook 08, World Models next to Dreamer: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

# what the notebook shows from the shared lessons modules (re-exported)
from .. import paper as paper
from ..artefacts import data_dir as data_dir
from ..artefacts import run_command as run_command
from ..checkpoint import count_parameters as count_parameters
from ..dreamer.agent import lambda_returns
from ..experiments import dreamer_comparison as dreamer_comparison
from ..runtime import fast_mode as fast_mode
from .cartpole_plots import curves_over_seeds_plot as curves_over_seeds_plot
from .controls import FigureControl, slider, strip
from .exercise import _FUNCTION_NOT_DONE, Exercise, _is_number
from .slides import SEED, slide


def _straight_through_case():
    """A one-hot draw and the probabilities it was drawn from, (6, 4, 5) = batch x groups x classes, float32."""
    import torch

    g = torch.Generator().manual_seed(7)
    logits = (2 * torch.randn(6, 4, 5, generator=g)).requires_grad_(True)
    probs = torch.softmax(logits, -1)
    index = torch.multinomial(probs.detach().reshape(-1, 5), 1, generator=g).reshape(6, 4)
    one_hot = torch.nn.functional.one_hot(index, 5).float()
    weights = torch.randn(6, 4, 5, generator=g)
    return logits, probs, one_hot, weights


def _judge_straight_through(f: Any) -> str | None:
    import torch

    if not callable(f):
        return f"Expected a function f(one_hot, probs), got {type(f).__name__}."
    logits, probs, one_hot, weights = _straight_through_case()
    out = f(one_hot.clone(), probs)
    if out is None or out is Ellipsis:
        return _FUNCTION_NOT_DONE
    if not isinstance(out, torch.Tensor):
        return f"Return a tensor shaped like one_hot, got {type(out).__name__}."
    if out.shape != one_hot.shape:
        return f"z must have the shape of one_hot, {tuple(one_hot.shape)}, got {tuple(out.shape)}."
    value = out.detach()
    if torch.allclose(value, probs.detach(), atol=1e-6) and not torch.allclose(value, one_hot):
        return ("The forward pass gives the probabilities, not the discrete sample: "
                "its value must be the one-hot vector.")
    if torch.allclose(value, one_hot + probs.detach(), atol=1e-6):
        return "Adding probs shifts the value away from the one-hot vector: subtract a copy of probs with no gradient."
    if not torch.allclose(value, one_hot, atol=1e-6):
        return "The forward value must be exactly the one-hot sample (each row a single 1)."
    if out.grad_fn is None:
        return ("The value is the one-hot sample, but no gradient can reach probs: "
                "a discrete sample has no gradient of its own; add a term that is zero in value but carries "
                "probs' gradient.")
    (out * weights).sum().backward(retain_graph=True)
    got = logits.grad.clone()
    logits.grad = None
    (probs * weights).sum().backward()
    want = logits.grad
    if torch.allclose(got, -want, atol=1e-6):
        return "The gradient has the wrong sign: it is + probs - probs.detach(), not the other way round."
    if not torch.allclose(got, want, atol=1e-6):
        return "The value is right, but the gradient is not that of probs: use probs - probs.detach(), unchanged."
    return None


straight_through = Exercise(
    name="straight-through estimator",
    judge=_judge_straight_through,
    hint_text=("You want a value of one_hot and a gradient of probs. probs - probs.detach() is zero in value, but its "
               "gradient is that of probs."),
    solution_text=(
        "def straight_through(one_hot, probs):\n"
        "    return one_hot + (probs - probs.detach())  # value: one_hot; gradient: as if it were probs"
    ),
    praise="Correct: forward a discrete one-hot sample, backward as if it were the probabilities (DreamerV2/V3).",
)


def _kl_case():
    """Posterior and prior logits (6, 4, 5) = states x groups x classes; the first two states nearly agree
    (KL below one nat, where free bits make the terms flat), the others do not."""
    import torch

    g = torch.Generator().manual_seed(12)
    post = 2 * torch.randn(6, 4, 5, generator=g)
    prior = 2 * torch.randn(6, 4, 5, generator=g)
    prior[:2] = post[:2] + 0.2 * torch.randn(2, 4, 5, generator=g)
    return post, prior


def _kl_gradients(loss_fn, post, prior):
    """(value, d loss / d post, d loss / d prior) of loss_fn(post, prior); a None gradient becomes zeros."""
    import torch

    q, p = post.clone().requires_grad_(True), prior.clone().requires_grad_(True)
    out = loss_fn(q, p)
    if not isinstance(out, torch.Tensor) or out.numel() != 1:
        return out, None, None
    if not out.requires_grad:
        return out, torch.zeros_like(q), torch.zeros_like(p)
    gq, gp = torch.autograd.grad(out.reshape(()), (q, p), allow_unused=True)
    return (out.detach().reshape(()), (torch.zeros_like(q) if gq is None else gq),
            (torch.zeros_like(p) if gp is None else gp))


def _judge_balanced_kl(f: Any) -> str | None:
    import torch

    from ..dreamer.rssm import categorical_kl, kl_balanced_loss

    if not callable(f):
        return f"Expected a function f(post_logits, prior_logits) returning the loss, got {type(f).__name__}."
    post, prior = _kl_case()
    value, gq, gp = _kl_gradients(f, post, prior)
    if value is None or value is Ellipsis:
        return _FUNCTION_NOT_DONE
    if not isinstance(value, torch.Tensor):
        return f"Return the loss as one torch number (a 0-dim tensor), got {type(value).__name__}."
    if gq is None:
        return f"Return one number, the loss averaged over the states, got a tensor of shape {tuple(value.shape)}."
    want, wq, wp = _kl_gradients(lambda q, p: kl_balanced_loss(q, p).loss, post, prior)
    close = lambda a, b: torch.allclose(a, b, rtol=1e-4, atol=1e-6)  # noqa: E731
    kl = categorical_kl
    if not close(value, want):
        if close(value, (0.6 * kl(post, prior)).mean()):
            return "Free bits are missing: clip each KL below at 1 nat (clamp_min(1.0)) before weighting it."
        if (close(value, (0.6 * kl(post, prior).mean()).clamp_min(1.0))
                or close(value, 0.6 * kl(post, prior).mean().clamp_min(1.0))):
            return "Clip each state's KL at 1 nat, before the mean over states, not the mean itself."
        if close(value, (0.5 * kl(prior, post).clamp_min(1) + 0.1 * kl(prior, post).clamp_min(1)).mean()):
            return "The KL is the wrong way round: KL[q || p], the posterior first (rssm.categorical_kl(post, prior))."
        if close(value, (0.5 * kl(post, prior).clamp_min(1) + 0.1 * kl(post, prior).clamp_min(1)).sum()):
            return "Average over the states, do not sum."
        return "The value is not 0.5 max(1, KL[q || p]) + 0.1 max(1, KL[q || p]), averaged over the states."
    if close(gq, wq) and close(gp, wp):
        return None
    if not gq.any() and not gp.any():
        return "No gradient reaches either side: detach only one side in each term, not both (or the whole loss)."
    both = lambda q, p: (0.6 * kl(q, p).clamp_min(1.0)).mean()  # noqa: E731
    _, bq, bp = _kl_gradients(both, post, prior)
    if close(gq, bq) and close(gp, bp):
        return ("The value is right but both terms train both sides: stop the posterior's gradient in "
                "the dynamics term (post.detach()) and the prior's in the representation term (prior.detach()).")
    swapped = lambda q, p: (0.5 * kl(q, p.detach()).clamp_min(1) + 0.1 * kl(q.detach(), p).clamp_min(1)).mean()  # noqa: E731
    _, sq, sp = _kl_gradients(swapped, post, prior)
    if close(gq, sq) and close(gp, sp):
        return ("The weights sit on the wrong sides: the 0.5 (dynamics) term must train the prior, KL[sg(q) || p], "
                "and the 0.1 (representation) term the posterior, KL[q || sg(p)].")
    if close(gp, wp) and not close(gq, wq):
        return "The prior's gradient is right; the posterior's is not: it comes only from the 0.1 term, KL[q || sg(p)]."
    if close(gq, wq) and not close(gp, wp):
        return "The posterior's gradient is right; the prior's is not: it comes only from the 0.5 term, KL[sg(q) || p]."
    return "The value is right but the gradients are not: one term detaches the posterior, the other the prior."


balanced_kl = Exercise(
    name="balanced KL",
    judge=_judge_balanced_kl,
    hint_text=("Two copies of the same KL: 0.5 * categorical_kl(post.detach(), prior).clamp_min(1.0) trains only the "
               "prior; 0.1 * categorical_kl(post, prior.detach()).clamp_min(1.0) trains only the posterior. Add them "
               "and take the mean over the states."),
    solution_text=(
        "def my_balanced_kl(post_logits, prior_logits):\n"
        "    dyn = rssm.categorical_kl(post_logits.detach(), prior_logits).clamp_min(1.0)  # trains the prior\n"
        "    rep = rssm.categorical_kl(post_logits, prior_logits.detach()).clamp_min(1.0)  # trains the posterior\n"
        "    return (0.5 * dyn + 0.1 * rep).mean()"
    ),
    praise="Correct: the same value as rssm.kl_balanced_loss, and the gradients go where DreamerV3 sends them.",
)


def _lambda_cases():
    """(rewards (H, N), values (H + 1, N), continues (H, N)) with some terminations, and (gamma, lam) pairs."""
    import torch

    g = torch.Generator().manual_seed(11)
    H, N = 6, 5
    rewards = torch.randn(H, N, generator=g, dtype=torch.float64)
    values = 3 + torch.randn(H + 1, N, generator=g, dtype=torch.float64)
    continues = (torch.rand(H, N, generator=g, dtype=torch.float64) > 0.2).double()
    return (rewards, values, continues), ((0.9, 0.7), (0.99, 0.95), (0.5, 0.3))


def _lambda_mistakes(rewards, values, continues, gamma, lam):
    """Typical wrong versions of the recursion, each with the sentence that names the mistake."""
    import torch

    from ..dreamer.agent import lambda_returns

    ones = torch.ones_like(continues)
    H = rewards.shape[0]

    def backwards(step, last):
        out = []
        for t in reversed(range(H)):
            last = step(t, last)
            out.append(last)
        return torch.stack(out[::-1])

    def forwards():
        out, last = [], values[0]
        for t in range(H):
            last = rewards[t] + gamma * continues[t] * ((1 - lam) * values[t + 1] + lam * last)
            out.append(last)
        return torch.stack(out)

    return [
        (lambda_returns(rewards, values, ones, gamma, lam),
         "You ignored the continues: after a terminal step nothing more may be added (multiply by c_t)."),
        (lambda_returns(rewards, values, continues, gamma, 1 - lam),
         "lam and 1 - lam are swapped: lam weighs the longer return R_{t+1}, 1 - lam the critic's v_{t+1}."),
        (lambda_returns(rewards, values, continues, 1.0, lam), "The discount gamma is missing."),
        (backwards(lambda t, last: rewards[t] + gamma * continues[t] * ((1 - lam) * values[t] + lam * last),
                   values[-1]),
         "Off by one: the critic's value in R_t is v_{t+1}, the state the step leads to, not v_t."),
        (backwards(lambda t, last: rewards[t] + gamma * continues[t] * ((1 - lam) * values[t + 1] + lam * last),
                   torch.zeros_like(values[-1])),
         "The recursion must start from the critic: R_H = v_H (the bootstrap), not 0."),
        (forwards(), "Compute backwards, from t = H - 1 down to 0: R_t needs R_{t+1}, which must already be known."),
        (backwards(lambda t, last: rewards[t] + gamma * continues[t] * ((1 - lam) * values[t + 1] + lam * last),
                   values[-1]).flip(0),
         "Your returns are in reverse order: the first row must be R_0."),
    ]


def _judge_lambda_returns(f: Any) -> str | None:
    import torch

    from ..dreamer.agent import lambda_returns

    if not callable(f):
        return f"Expected a function f(rewards, values, continues, gamma, lam), got {type(f).__name__}."
    (rewards, values, continues), settings = _lambda_cases()
    for gamma, lam in settings:
        out = f(rewards.clone(), values.clone(), continues.clone(), gamma, lam)
        if out is None or out is Ellipsis:
            return _FUNCTION_NOT_DONE
        out = torch.as_tensor(out, dtype=torch.float64) if not isinstance(out, torch.Tensor) else out.double()
        if out.shape != rewards.shape:
            if out.shape == values.shape:
                return (f"Return H = {rewards.shape[0]} returns R_0 ... R_(H-1), one per reward; R_H = v_H is only "
                        "where the recursion starts.")
            return f"Expected returns of shape {tuple(rewards.shape)} (H, ...), got {tuple(out.shape)}."
        want = lambda_returns(rewards, values, continues, gamma, lam)
        if torch.allclose(out, want, atol=1e-6):
            continue
        for wrong, sentence in _lambda_mistakes(rewards, values, continues, gamma, lam):
            if torch.allclose(out, wrong, atol=1e-6):
                return sentence
        return ("Not the lambda-return: from R_H = v_H go backwards, "
                "R_t = r_t + gamma * c_t * ((1 - lam) * v_{t+1} + lam * R_{t+1}).")
    return None


lambda_returns_exercise = Exercise(
    name="lambda-returns",
    judge=_judge_lambda_returns,
    hint_text=("Start from last = values[-1] (that is R_H = v_H) and loop t from H - 1 down to 0: "
               "last = rewards[t] + gamma * continues[t] * ((1 - lam) * values[t + 1] + lam * last). "
               "Collect each R_t, then put them back in order."),
    solution_text=(
        "def my_lambda_returns(rewards, values, continues, gamma, lam):\n"
        "    last, out = values[-1], []\n"
        "    for t in reversed(range(len(rewards))):\n"
        "        last = rewards[t] + gamma * continues[t] * ((1 - lam) * values[t + 1] + lam * last)\n"
        "        out.append(last)\n"
        "    return torch.stack(out[::-1])"
    ),
    praise="Correct: that is wmcourse.dreamer.agent.lambda_returns, the targets Dreamer's critic and actor learn from.",
)


def _judge_lambda_by_hand(answer: Any) -> str | None:
    # r = (1, 1), c = (1, 1), v_1 = 10, v_2 = 20, gamma = 0.9, lam = 0.5:
    # R_1 = 1 + 0.9 * 20 = 19;  R_0 = 1 + 0.9 * (0.5 * 10 + 0.5 * 19) = 1 + 0.9 * 14.5 = 14.05
    if not _is_number(answer):
        return f"Expected a number, got {type(answer).__name__}."
    if math.isclose(answer, 19.0, rel_tol=1e-3):
        return "That is R_1. Now use it: R_0 = r_0 + gamma * ((1 - lam) * v_1 + lam * R_1)."
    if math.isclose(answer, 1 + 0.9 * 10, rel_tol=1e-3):
        return ("That is the one-step (lam = 0) target r_0 + gamma * v_1; "
                "lam = 0.5 also weighs in the longer return R_1.")
    if math.isclose(answer, 1 + 0.9 * (1 + 0.9 * 20), rel_tol=1e-3):
        return "That is the lam = 1 return (rewards, then v_2); with lam = 0.5 half the weight goes to v_1."
    if math.isclose(answer, 1 + 0.9 * (0.5 * 20 + 0.5 * 19), rel_tol=1e-3):
        return "Off by one: R_0 uses v_1 (the next state's value), not v_2."
    if math.isclose(answer, 1 + (0.5 * 10 + 0.5 * 19), rel_tol=1e-3):
        return "Don't forget the discount gamma = 0.9 in front of the bracket."
    if not math.isclose(answer, 14.05, rel_tol=1e-3):
        return "First R_1 = r_1 + gamma * v_2 (R_2 = v_2, so the bracket is just v_2), then R_0 from R_1."
    return None


lambda_by_hand = Exercise(
    name="lambda-return by hand",
    judge=_judge_lambda_by_hand,
    hint_text="Backwards: R_2 = v_2 = 20, so R_1 = 1 + 0.9 * (0.5 * 20 + 0.5 * 20). "
              "Then R_0 = 1 + 0.9 * (0.5 * v_1 + 0.5 * R_1).",
    solution_text="R_1 = 1 + 0.9 * 20 = 19 (R_2 = v_2, so the bracket is v_2); "
                  "R_0 = 1 + 0.9 * (0.5 * 10 + 0.5 * 19) = 1 + 0.9 * 14.5 = 14.05.",
    praise="Correct: the critic's opinion of s_1 and the longer return through s_2 are averaged, half and half.",
)


class LambdaReturns(FigureControl):
    """Notebook 08: lambda and gamma sliders on the lambda-return targets of the made-up dream
    (wmcourse.lessons.plot_lambda_targets): lambda = 0 and 1 stay drawn for reference."""

    def __init__(self, lam: float = 0.95, gamma: float = 0.997, seed: int = 0):
        self.seed = seed
        self.lam = slider(W.FloatSlider, "lambda", value=lam, min=0.0, max=1.0, step=0.05, width="300px")
        self.gamma = slider(W.FloatSlider, "gamma", value=gamma, min=0.8, max=1.0, step=0.005, width="300px",
                             readout_format=".3f")
        self._build([self.lam, self.gamma])

    def figure_now(self) -> plt.Figure:

        lams = sorted({0.0, round(self.lam.value, 3), 1.0})
        return plot_lambda_targets(self.seed, gamma=self.gamma.value, lams=lams)


class OpenLoopHorizon(FigureControl):
    """Notebook 08: a horizon slider over the RSSM's open-loop dream of a real episode (wmcourse.dreamer.probes.
    open_loop_states): the error of each state up to H steps after the last real observation, and the real
    pole beside the dreamed one at step H."""

    def __init__(self, agent, states: np.ndarray, actions: np.ndarray, context: int = 5, seed: int = 0,
                 imagination: int = 15):
        from ..dreamer import probes as dreamer_probes

        self.real = np.asarray(states, np.float32)[context:]
        self.dreamed = dreamer_probes.open_loop_states(agent, states, actions, context, seed)
        self.imagination = imagination
        self.horizon = slider(W.IntSlider, "steps dreamed H", value=min(imagination, len(self.real)), min=1,
                               max=len(self.real), width="520px")
        self._build([self.horizon])

    def figure_now(self) -> plt.Figure:
        from . import cartpole_plots

        h = self.horizon.value
        error = np.abs(self.dreamed - self.real)
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.2), gridspec_kw={"width_ratios": [1.4, 1]})
        for i, name in enumerate(["x", "x_dot", "theta", "theta_dot"]):
            left.plot(np.arange(1, h + 1), error[:h, i], label=name)
        left.axvline(self.imagination, color="#6b7280", ls=":", label=f"imagination horizon ({self.imagination})")
        left.set_xlim(1, max(h, self.imagination + 1))
        left.set_xlabel("steps dreamed after the last real observation")
        left.set_ylabel("|dream - real|")
        left.legend(fontsize=8)
        left.grid(alpha=0.3)
        pictures = [cartpole_plots.cartpole_image(self.real[h - 1]), cartpole_plots.cartpole_image(self.dreamed[h - 1])]
        right.imshow(strip(np.stack(pictures), gap=4), interpolation="nearest")
        right.set_title(f"step H = {h}: reality (left), Dreamer's dream (right)", fontsize=9)
        right.set_axis_off()
        fig.tight_layout()
        return fig


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


@slide("08_side_by_side", "1. The two architectures, side by side")
def slide_side_by_side() -> plt.Figure:

    draw_side_by_side()
    fig = plt.gcf()
    fig.tight_layout()
    return fig


@slide("08_symlog", "5. symlog: one scale for every reward")
def slide_symlog() -> plt.Figure:
    return symlog_figure()


@slide("08_lambda_returns", "6. Learning in imagination: λ-returns")
def slide_lambda_returns() -> plt.Figure:
    """The notebook's made-up 15-step dream: every step pays 1, the pole falls after step 10, and the critic is a
    noisy, over-optimistic guesser (about 40 everywhere); the targets R_t for several lambda."""

    return plot_lambda_targets(SEED)


def _box(ax, x, y, w, h, title, body="", color="#e5e7eb"):

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.05", fc=color, ec="#333"))
    ax.text(x + w / 2, y + h * (0.66 if body else 0.5), title, ha="center", va="center", fontsize=10, weight="bold")
    if body:
        ax.text(x + w / 2, y + h * 0.28, body, ha="center", va="center", fontsize=8)


def _arrow(ax, a, b, label="", rad=0.0, style="-|>", color="#333"):

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
        ax.plot(lambda_returns(rewards, values, continues, gamma=gamma, lam=lam), marker="o", ms=3,
                label=f"λ = {lam:g}")
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
