"""Exercise checkers: `ex.check(answer)` says in one sentence what is wrong, `ex.hint()`, `ex.solution()`.

Each exercise has a judge: a function that returns None when the answer is right and otherwise a sentence
naming the mistake, without giving the expected value away. The notebooks call these; tests call the judges.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Exercise:
    name: str
    judge: Callable[[Any], str | None]
    hint_text: str
    solution_text: str
    praise: str = "Correct."

    def problem(self, answer: Any) -> str | None:
        """What is wrong with the answer, in a sentence (None when it is right)."""
        if answer is None or answer is Ellipsis:
            return "Not attempted yet: replace the `...` with your answer and run the cell again."
        try:
            return self.judge(answer)
        except Exception as exc:  # a learner's function that crashes is a mistake to report, not to raise
            return f"Your answer raised {type(exc).__name__}: {exc}"

    def check(self, answer: Any) -> bool:
        problem = self.problem(answer)
        print(f"[{self.name}] " + (self.praise if problem is None else f"Not yet. {problem}"))
        return problem is None

    def hint(self) -> None:
        print(f"[{self.name}] Hint: {self.hint_text}")

    def solution(self) -> None:
        print(f"[{self.name}] Solution:\n{self.solution_text}")


def _is_number(answer: Any) -> bool:
    return isinstance(answer, (int, float)) and not isinstance(answer, bool) and math.isfinite(answer)


# --- notebook 00 -------------------------------------------------------------------------------------

def _judge_controller_parameters(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a whole number of parameters, got {type(answer).__name__}."
    if answer == 3 * 288:
        return "You counted the weights W but not the biases b: every action has one bias too."
    if answer in (32 * 3 + 3, 256 * 3 + 3):
        return "The controller sees both z and h: its input is the two concatenated."
    if answer == 3 * 288 * 2 or answer == 288 * 288:
        return "W maps the input [z, h] to the 3 actions: its shape is (actions, inputs)."
    if answer != 3 * (32 + 256) + 3:
        return "Count the entries of W (actions x inputs) and of b (one per action), with inputs = len(z) + len(h)."
    return None


controller_parameters = Exercise(
    name="controller parameters",
    judge=_judge_controller_parameters,
    hint_text="a = tanh(W [z, h] + b). How many rows and columns has W, and how long is b?",
    solution_text="W is 3 x (32 + 256) = 864 numbers and b is 3 more: 3 * 288 + 3 = 867.",
    praise="Correct: 867 numbers drive the car. Few enough for an evolution strategy to search directly.",
)


def _judge_compression_ratio(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a number (how many input numbers per latent number), got {type(answer).__name__}."
    if math.isclose(answer, 96 * 96 * 3 / 32, rel_tol=0.01):
        return "That is the raw 96x96 frame; the VAE sees the preprocessed 64x64x3 frame."
    if math.isclose(answer, 32 / (64 * 64 * 3), rel_tol=0.01):
        return "That is the ratio upside down: divide the input size by the latent size."
    if math.isclose(answer, 64 * 64 / 32, rel_tol=0.01):
        return "A colour frame has 3 numbers per pixel (red, green, blue)."
    if not math.isclose(answer, 64 * 64 * 3 / 32, rel_tol=0.01):
        return "Divide the number of values in one 64x64 colour frame by the size of z."
    return None


compression_ratio = Exercise(
    name="compression ratio",
    judge=_judge_compression_ratio,
    hint_text="How many numbers are in a 64x64 frame with 3 colour channels? And in z?",
    solution_text="64 * 64 * 3 = 12,288 numbers in, 32 out: 12,288 / 32 = 384 to 1.",
    praise="Correct: each frame is squeezed 384 to 1 before M and C ever see it.",
)


# --- notebook 02 -------------------------------------------------------------------------------------

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

    from .mdn import LOG_SQRT_2PI, gaussian_log_prob

    y = target.unsqueeze(-1)
    log_n = gaussian_log_prob(y, mu, log_sigma)
    log_n_var = -0.5 * (y - mu) ** 2 / log_sigma.exp() - 0.5 * log_sigma - LOG_SQRT_2PI
    lse = torch.logsumexp(log_pi + log_n, dim=-1)
    summed = "You summed where the loss averages: take the mean over every batch entry and every dimension."
    return [
        (lse.mean(), "That is the log-likelihood; the loss is its negative."),
        (-torch.logsumexp(log_n, dim=-1).mean(), "The mixture weights are missing: add log pi_k to each component's log-density."),
        (-torch.logsumexp(log_pi.exp() + log_n, dim=-1).mean(),
         "You added pi_k to the log-density where log pi_k belongs (pi_k multiplies the density, so its log adds)."),
        (-torch.logsumexp(log_pi + log_n + log_sigma, dim=-1).mean(),
         "The Gaussian is not normalised: its log-density needs the -log sigma term."),
        (-torch.logsumexp(log_pi + log_n + LOG_SQRT_2PI, dim=-1).mean(),
         "The Gaussian is not normalised: its log-density needs the constant -log sqrt(2 pi)."),
        (-torch.logsumexp(log_pi + log_n + log_sigma + LOG_SQRT_2PI, dim=-1).mean(),
         "The Gaussian is not normalised: its log-density needs -log sigma - log sqrt(2 pi)."),
        (-torch.logsumexp(log_pi + log_n_var, dim=-1).mean(),
         "log_sigma is the log of the standard deviation, not of the variance: divide (y - mu)^2 by sigma^2 = exp(2 log_sigma)."),
        (-(log_pi.exp() * log_n).sum(dim=-1).mean(),
         "The log belongs outside the sum over components: log sum_k pi_k N_k, not sum_k pi_k log N_k."),
        (-torch.logsumexp(log_pi + log_n, dim=-2).mean(), "Sum over the K components (the last axis), not over the dimensions."),
        (-lse.sum(dim=-1).mean(), summed),
        (-lse.sum(), summed),
        (-lse.mean(dim=-1).sum(), summed),
    ]


def _judge_mixture_nll(f: Any) -> str | None:
    import torch

    from .mdn import mdn_nll

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
