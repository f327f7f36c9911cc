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
    hint_text="a = W [z, h] + b (the paper's appendix then bounds it with tanh). How many rows and columns has W, "
              "and how long is b?",
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

    from ..worldmodels.mdn import LOG_SQRT_2PI, gaussian_log_prob

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


# --- notebook 01 -------------------------------------------------------------------------------------

def _gaussian_case(seed: int = 2018, shape: tuple[int, int] = (6, 8)):
    """mu, logvar, eps (float32, batch x latent dims) with logvar spread over [-3, 2]: sigma far from 1, so the
    typical mistakes (logvar as sigma, exp(logvar) as sigma, ...) all give clearly different numbers."""
    import torch

    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(shape, generator=g) * 1.5
    logvar = torch.rand(shape, generator=g) * 5 - 3
    eps = torch.randn(shape, generator=g)
    return mu, logvar, eps


_FUNCTION_NOT_DONE = ("Not attempted yet: your function returns nothing; replace the `...` with your code and run the "
                      "cell again.")


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
             "exp(logvar) is the variance sigma^2; the noise is scaled by the standard deviation sigma = exp(logvar / 2)."),
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
        (0.5 * (1 + logvar - mu ** 2 - var), "The sign is flipped: a KL divergence is never negative (try mu = 1, logvar = 0)."),
        (-(1 + logvar - mu ** 2 - var), "You forgot the 1/2 in front."),
        (-0.5 * (1 + logvar - mu ** 2 - torch.exp(0.5 * logvar)),
         "You used sigma where sigma^2 belongs: exp(logvar) is already the variance sigma^2."),
        (-0.5 * (1 + 0.5 * logvar - mu ** 2 - torch.exp(0.5 * logvar)),
         "You used sigma where sigma^2 belongs: logvar is log sigma^2 and exp(logvar) is sigma^2; use them as they are."),
        (-0.5 * (1 + logvar - var), "You forgot the mu^2 term: a code whose mean moves away from 0 must cost KL."),
        (-0.5 * (1 + logvar - mu - var), "mu enters squared: -1/2 (1 + log sigma^2 - mu^2 - sigma^2)."),
        (-0.5 * (logvar - mu ** 2 - var), "You forgot the constant 1: with it, KL is exactly 0 when mu = 0 and sigma = 1."),
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


# --- notebook 02 (continued) -----------------------------------------------------------------------

def _judge_mdn_head_outputs(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a whole number of outputs, got {type(answer).__name__}."
    if answer == 32 * 5 * 3 + 256:
        return "Count the outputs of the layer only; its input (h, 256 numbers) is not part of its output."
    if answer in (32 * 3, 5 * 3, 32 * 5):
        return "Every latent dimension has its own mixture of 5 Gaussians, and each Gaussian needs three numbers."
    if answer in (32 * 5 * 2, 32 * 5 * 3 - 32 * 5, 32 * 2):
        return "Each component needs a weight too, not only a mean and a spread."
    if answer == 256 * 32 * 5 * 3 or answer == 257 * 32 * 5 * 3:
        return "That counts the layer's parameters; the question asks for its outputs."
    if answer != 32 * 5 * 3:
        return "For each of the 32 dimensions: 5 components, each with a weight (logit), a mean and a log sigma."
    return None


mdn_head_outputs = Exercise(
    name="MDN head outputs",
    judge=_judge_mdn_head_outputs,
    hint_text="z has 32 dimensions; each has its own mixture of 5 Gaussians; what three numbers describe one Gaussian "
              "in a mixture?",
    solution_text="32 dimensions x 5 components x (logit, mean, log sigma) = 480 outputs; with the bias the layer has "
                  "256 * 480 + 480 = 123,360 parameters.",
    praise="Correct: 480 numbers describe M's guess of the next z, a whole distribution rather than one point.",
)


# --- notebook 03 -------------------------------------------------------------------------------------

def _tempered_cases():
    import torch

    g = torch.Generator().manual_seed(3)
    log_pi = torch.log_softmax(1.5 * torch.randn(16, 4, 5, generator=g), dim=-1)
    log_sigma = torch.rand(16, 4, 5, generator=g) - 1.5
    return log_pi, log_sigma


def _judge_tempered_mixture(f: Any) -> str | None:
    import torch

    from ..worldmodels.mdn import temperature

    if not callable(f):
        return f"Expected a function f(log_pi, log_sigma, tau) returning (log_pi, log_sigma), got {type(f).__name__}."
    log_pi, log_sigma = _tempered_cases()
    for tau in (0.5, 1.0, 1.7):
        out = f(log_pi.clone(), log_sigma.clone(), tau)
        if out is None:
            return "Your function returns None: replace the `...` with your code and `return` the two tensors."
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return "Return two things: the tempered log_pi and the tempered log_sigma, as a tuple."
        got_pi, got_sigma = (torch.as_tensor(o, dtype=torch.float32) for o in out)
        if got_pi.shape != log_pi.shape or got_sigma.shape != log_sigma.shape:
            return (f"Keep the shapes: expected two tensors of shape {tuple(log_pi.shape)}, got "
                    f"{tuple(got_pi.shape)} and {tuple(got_sigma.shape)}.")
        want_pi, want_sigma = temperature(log_pi, log_sigma, tau)
        close = lambda a, b: torch.allclose(a, b, atol=1e-5)  # noqa: E731
        if not close(got_pi, want_pi):
            if close(got_pi, log_pi / tau):
                return "Divide the logits by tau, then normalise again (log_softmax over the K components)."
            if close(got_pi, torch.log_softmax(log_pi * tau, dim=-1)):
                return "The logits are divided by tau, not multiplied: tau > 1 must flatten the weights."
            if close(got_pi, torch.log_softmax(log_pi / tau, dim=-2)):
                return "Normalise over the K components (the last axis), not over the dimensions."
            if close(got_pi, torch.softmax(log_pi / tau, dim=-1)):
                return "Return log weights (log_softmax), as log_pi came in, not the weights themselves."
            return "The weights are not right: pi_k(tau) is proportional to pi_k^(1/tau), i.e. softmax(log pi / tau)."
        if not close(got_sigma, want_sigma):
            if close(got_sigma, log_sigma + math.log(tau)):
                return "The noise is scaled by sqrt(tau), not tau: the variance, sigma^2, is what grows by tau."
            if close(got_sigma, log_sigma * math.sqrt(tau)) or close(got_sigma, log_sigma * tau):
                return "log_sigma is a logarithm: multiplying sigma by sqrt(tau) adds log(sqrt(tau)) to it."
            if close(got_sigma, log_sigma.exp() * math.sqrt(tau)):
                return "Return log sigma, as it came in, not sigma itself."
            return "The spreads are not right: every sigma is multiplied by sqrt(tau)."
    return None


tempered_mixture = Exercise(
    name="tempered mixture",
    judge=_judge_tempered_mixture,
    hint_text="Weights: softmax of (log pi / tau) over the last axis, kept in logs. Spreads: sigma * sqrt(tau), which in "
              "logs is log_sigma + log(sqrt(tau)) = log_sigma + 0.5 * log(tau).",
    solution_text=(
        "def tempered_mixture(log_pi, log_sigma, tau):\n"
        "    return torch.log_softmax(log_pi / tau, dim=-1), log_sigma + 0.5 * math.log(tau)"
    ),
    praise="Correct: that is wmcourse.worldmodels.mdn.temperature, the paper's temperature.",
)


def _judge_tempered_weight(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a number between 0 and 1, got {type(answer).__name__}."
    right = 0.8 ** 2 / (0.8 ** 2 + 0.2 ** 2)
    if math.isclose(answer, 0.8 ** 2, rel_tol=1e-3):
        return "pi^(1/tau) alone is not a probability: divide by the sum over both components."
    if math.isclose(answer, 0.8 ** 0.5 / (0.8 ** 0.5 + 0.2 ** 0.5), rel_tol=1e-3):
        return "That is tau = 2 (the power 1/tau = 0.5); here tau = 0.5, so the power is 1/tau = 2."
    if math.isclose(answer, 0.8, rel_tol=1e-3):
        return "That is the weight at tau = 1; at tau = 0.5 the likelier component gains weight."
    if not math.isclose(answer, right, rel_tol=1e-3):
        return "Raise each weight to the power 1/tau, then divide by their sum."
    return None


tempered_weight = Exercise(
    name="tempered weight",
    judge=_judge_tempered_weight,
    hint_text="pi_k(tau) = pi_k^(1/tau) / sum_j pi_j^(1/tau); with tau = 0.5 the power is 2.",
    solution_text="0.8^2 / (0.8^2 + 0.2^2) = 0.64 / 0.68 = 0.941: the likelier branch now wins 94% of the time.",
    praise="Correct: at tau = 0.5 the 80/20 choice becomes about 94/6, and as tau -> 0 it becomes 100/0.",
)


# --- notebook 04 -------------------------------------------------------------------------------------

def _es_update_mistakes(candidates, values, elite):
    """The typical wrong mean updates after one generation, each with the sentence that names the mistake."""
    import numpy as np

    order = np.argsort(values)
    return [
        (candidates[order[-elite:]].mean(axis=0),
         "The mean moved towards the worst candidates: keep the `elite` with the LOWEST objective "
         "(np.argsort sorts from low to high)."),
        (candidates.mean(axis=0), "The mean moved to the average of ALL candidates: average only the `elite` best."),
        (candidates[order[0]], "The mean jumped to the single best candidate: average the `elite` best, not one."),
        (candidates[order[:elite + 1]].mean(axis=0), "Off by one: average exactly `elite` candidates."),
        (candidates[order[:max(elite - 1, 1)]].mean(axis=0), "Off by one: average exactly `elite` candidates."),
    ]


def _judge_simple_es(f: Any) -> str | None:
    """Run the learner's ES for a few generations with a spy objective that records every candidate, and check
    the first generation's samples and the first update of the mean exactly against wmcourse.worldmodels.evolve.simple_es."""
    import numpy as np

    from ..worldmodels.evolve import simple_es as reference

    if not callable(f):
        return f"Expected a function simple_es(objective, x0, sigma, population, elite, generations, seed), got {type(f).__name__}."
    x0, sigma, population, elite, generations, seed = np.array([-2.0, 3.0]), 0.3, 10, 3, 60, 0
    seen: list = []

    def bowl(x):  # minimised at (1, 1); the start (-2, 3) is 3.6 away, 12 step sizes
        x = np.atleast_2d(np.asarray(x, float))
        seen.append(x.copy())
        return ((x - 1.0) ** 2).sum(axis=1)

    curve = f(bowl, x0.copy(), sigma, population, elite, generations, seed)
    if curve is None or curve is Ellipsis:
        return _FUNCTION_NOT_DONE
    try:
        curve = [float(v) for v in curve]
    except TypeError:
        return "Return the list of the best objective value seen so far, one number per generation."
    if len(curve) == 0:
        return "Not attempted yet: write the loop that replaces the `...` and run the cell again."
    if len(curve) != generations:
        return f"Expected one number per generation ({generations} here), got {len(curve)}."
    rows = np.concatenate(seen) if seen else np.zeros((0, 2))
    if len(rows) < 2 * population:
        return (f"The objective saw {len(rows)} candidates in {generations} generations: score all `population` "
                "candidates every generation.")
    first, second = rows[:population], rows[population:2 * population]
    rng = np.random.default_rng(seed)
    eps1 = rng.standard_normal((population, len(x0)))
    eps2 = rng.standard_normal((population, len(x0)))
    close = lambda a, b: np.allclose(a, b, rtol=1e-9, atol=1e-9)  # noqa: E731
    if not close(first, x0 + sigma * eps1):
        if close(first, x0 + eps1):
            return "The candidates are not scaled: x_i = mean + sigma * eps_i."
        return ("The first candidates are not mean + sigma * eps with eps = rng.standard_normal((population, len(mean))) "
                "from the rng you are given: draw them that way, once per generation, so the checker can follow "
                "your search exactly.")
    values = ((first - 1.0) ** 2).sum(axis=1)
    want = first[np.argsort(values)[:elite]].mean(axis=0)
    if not close(second, want + sigma * eps2):
        for wrong, sentence in _es_update_mistakes(first, values, elite):
            if close(second, wrong + sigma * eps2):
                return sentence
        if close(second, x0 + sigma * eps2):
            return "The mean never moved: after scoring, set it to the average of the `elite` best candidates."
        return ("After the first generation the mean is not the average of the `elite` candidates with the lowest "
                "objective: check the update line.")
    want_curve = reference(lambda x: ((np.atleast_2d(x) - 1.0) ** 2).sum(axis=1), x0, sigma, population, elite,
                           generations, seed)
    if any(b > a + 1e-12 for a, b in zip(curve, curve[1:])):
        return "The best value so far can never go up: keep the minimum over every generation, not the last one's."
    if not np.allclose(curve, want_curve, rtol=1e-9, atol=1e-12):
        return ("The update is right, but the curve is not the best value seen so far: after each generation record "
                "min(best, the lowest value of this generation).")
    return None


simple_es = Exercise(
    name="simple evolution strategy",
    judge=_judge_simple_es,
    hint_text=("Each generation: candidates = mean + sigma * rng.standard_normal((population, len(mean))); "
               "values = objective(candidates); mean = average of the `elite` candidates with the lowest values."),
    solution_text=(
        "def simple_es(objective, x0, sigma, population, elite, generations, seed):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    mean, best, curve = np.asarray(x0, float), np.inf, []\n"
        "    for _ in range(generations):\n"
        "        candidates = mean + sigma * rng.standard_normal((population, len(mean)))\n"
        "        values = objective(candidates)\n"
        "        mean = candidates[np.argsort(values)[:elite]].mean(axis=0)\n"
        "        best = min(best, values.min())\n"
        "        curve.append(best)\n"
        "    return curve"
    ),
    praise="Correct: one update checked exactly against wmcourse.worldmodels.evolve.simple_es, and the whole curve matches.",
)


# --- notebook 06 -------------------------------------------------------------------------------------

def _dream_step_case(seed: int = 5):
    """M's mixture for a batch of dream steps: (log_pi, mu, log_sigma), each (64, 6, 5) = dreams x dims x K."""
    import torch

    g = torch.Generator().manual_seed(seed)
    log_pi = torch.log_softmax(1.5 * torch.randn(64, 6, 5, generator=g), dim=-1)
    mu = 2 * torch.randn(64, 6, 5, generator=g)
    log_sigma = torch.rand(64, 6, 5, generator=g) - 1.5
    return log_pi, mu, log_sigma


def _call_with_generator(f: Any, args: tuple, seed: int):
    import torch

    return f(*(a.clone() if isinstance(a, torch.Tensor) else a for a in args), torch.Generator().manual_seed(seed))


def _judge_sample_component(f: Any) -> str | None:
    import torch

    from ..worldmodels.mdn import sample_component

    if not callable(f):
        return f"Expected a function f(log_pi, tau, generator), got {type(f).__name__}."
    log_pi, _, _ = _dream_step_case()
    for tau in (1.0, 0.5, 1.7):
        out = _call_with_generator(f, (log_pi, tau), seed=17)
        if out is None or out is Ellipsis:
            return _FUNCTION_NOT_DONE
        out = torch.as_tensor(out)
        if out.shape != log_pi.shape[:-1]:
            return (f"Return one component index per dream and dimension, shape {tuple(log_pi.shape[:-1])} "
                    f"(log_pi without its last axis), got {tuple(out.shape)}.")
        if out.is_floating_point() and not torch.equal(out, out.round()):
            return "Return whole-number indices k (0 to K - 1), not probabilities or weights."
        out = out.long()
        want = sample_component(log_pi, tau, torch.Generator().manual_seed(17))
        if torch.equal(out, want):
            continue
        if torch.equal(out, log_pi.argmax(-1)):
            return "You always took the likeliest component: draw one at random, with probability pi_k(tau)."
        if tau != 1.0 and torch.equal(out, sample_component(log_pi, 1.0, torch.Generator().manual_seed(17))):
            return "The temperature is missing: the weights are softmax(log_pi / tau), not softmax(log_pi)."
        if tau != 1.0 and torch.equal(out, sample_component(log_pi * tau, 1.0, torch.Generator().manual_seed(17))):
            return "Divide the log weights by tau, do not multiply: tau > 1 must flatten the weights."
        u = torch.rand(log_pi.shape[:-1] + (1,), generator=torch.Generator().manual_seed(17))
        cum_log = log_pi.div(tau).log_softmax(-1).cumsum(-1)
        if torch.equal(out, (cum_log < u).sum(-1).clamp(max=log_pi.shape[-1] - 1)):
            return "You added up the log weights: exponentiate first (torch.softmax), then take the cumulative sum."
        if torch.equal(out, want + 1):
            return ("Off by one: k is the NUMBER of cumulative weights below u (the first k whose cumulative weight "
                    "reaches u), counted from 0.")
        return ("Not the package's draw: compute pi = softmax(log_pi / tau), draw ONE uniform u per dream and "
                "dimension with torch.rand(..., generator=generator), and count the cumulative weights below u.")
    return None


sample_component_exercise = Exercise(
    name="component of the mixture",
    judge=_judge_sample_component,
    hint_text=("pi = torch.softmax(log_pi / tau, dim=-1); u = torch.rand(pi.shape[:-1] + (1,), generator=generator); "
               "k = the number of entries of pi.cumsum(-1) that are below u (a sum of a comparison)."),
    solution_text=(
        "def my_sample_component(log_pi, tau, generator):\n"
        "    pi = torch.softmax(log_pi / tau, dim=-1)\n"
        "    u = torch.rand(pi.shape[:-1] + (1,), generator=generator)\n"
        "    k = (pi.cumsum(dim=-1) < u).sum(dim=-1)\n"
        "    return k.clamp(max=pi.shape[-1] - 1)  # rounding can leave the last cumulative weight just below 1"
    ),
    praise="Correct: the same components as wmcourse.worldmodels.mdn.sample_component, drawn from the same random numbers.",
)


def _judge_dream_sample(f: Any) -> str | None:
    import math

    import torch

    from ..worldmodels.mdn import sample, sample_component

    if not callable(f):
        return f"Expected a function f(log_pi, mu, log_sigma, tau, generator), got {type(f).__name__}."
    log_pi, mu, log_sigma = _dream_step_case(seed=6)
    for tau in (1.0, 1.5, 0.4):
        out = _call_with_generator(f, (log_pi, mu, log_sigma, tau), seed=23)
        if out is None or out is Ellipsis:
            return _FUNCTION_NOT_DONE
        out = torch.as_tensor(out, dtype=torch.float32)
        if out.shape != mu.shape[:-1]:
            return f"Return one number per dream and dimension, shape {tuple(mu.shape[:-1])}, got {tuple(out.shape)}."
        want = sample(log_pi, mu, log_sigma, tau, torch.Generator().manual_seed(23))
        close = lambda a, b: torch.allclose(a, b, rtol=1e-5, atol=1e-5)  # noqa: E731
        if close(out, want):
            continue
        g = torch.Generator().manual_seed(23)
        k = sample_component(log_pi, tau, g).unsqueeze(-1)
        eps = torch.randn(mu.shape[:-1], generator=g)
        mu_k, sigma_k = mu.gather(-1, k).squeeze(-1), log_sigma.gather(-1, k).squeeze(-1).exp()
        if close(out, mu_k):
            return "The noise is missing: z = mu_k + sigma_k * sqrt(tau) * eps, not the component's mean alone."
        if tau != 1.0 and close(out, mu_k + sigma_k * eps):
            return "The spread ignores tau: the paper's temperature multiplies sigma by sqrt(tau)."
        if tau != 1.0 and close(out, mu_k + sigma_k * tau * eps):
            return "sigma is multiplied by sqrt(tau), not tau: the VARIANCE grows by tau."
        if close(out, mu_k + log_sigma.gather(-1, k).squeeze(-1) * math.sqrt(tau) * eps):
            return "log_sigma is a logarithm: the spread is exp(log_sigma)."
        if close(out, (log_pi.exp() * mu).sum(-1)):
            return "That is the mixture's mean, the same every time: a dream step is a random draw."
        g = torch.Generator().manual_seed(23)
        eps_first = torch.randn(mu.shape[:-1], generator=g)
        k_after = sample_component(log_pi, tau, g).unsqueeze(-1)
        swapped = mu.gather(-1, k_after).squeeze(-1) + log_sigma.gather(-1, k_after).squeeze(-1).exp() * math.sqrt(tau) * eps_first
        if close(out, swapped):
            return "Draw the component first and the Gaussian noise second, from the same generator, as the package does."
        u = torch.rand(mu.shape[:-1], generator=torch.Generator().manual_seed(23))
        if close(out, mu_k + sigma_k * math.sqrt(tau) * u):
            return "eps must be Gaussian noise, torch.randn, not uniform noise (torch.rand)."
        return ("Not the package's draw: first k from your component sampler (or wmcourse.worldmodels.mdn.sample_component) with "
                "the generator, then eps = torch.randn(..., generator=generator), z = mu_k + sigma_k sqrt(tau) eps.")
    return None


dream_sample = Exercise(
    name="one dream step",
    judge=_judge_dream_sample,
    hint_text=("k = my_sample_component(log_pi, tau, generator).unsqueeze(-1); pick mu_k = mu.gather(-1, k) and "
               "sigma_k = log_sigma.gather(-1, k).exp() (squeeze the last axis); then "
               "eps = torch.randn(mu_k.shape, generator=generator) and z = mu_k + sigma_k * sqrt(tau) * eps."),
    solution_text=(
        "def my_dream_sample(log_pi, mu, log_sigma, tau, generator):\n"
        "    k = my_sample_component(log_pi, tau, generator).unsqueeze(-1)\n"
        "    mu_k = mu.gather(-1, k).squeeze(-1)\n"
        "    sigma_k = log_sigma.gather(-1, k).squeeze(-1).exp() * math.sqrt(tau)\n"
        "    eps = torch.randn(mu_k.shape, generator=generator)\n"
        "    return mu_k + sigma_k * eps"
    ),
    praise="Correct: the same draw as wmcourse.worldmodels.mdn.sample, the step that every dream of this course takes.",
)


# --- notebook 08 (Dreamer) ---------------------------------------------------------------------------

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
        return "The forward pass gives the probabilities, not the discrete sample: its value must be the one-hot vector."
    if torch.allclose(value, one_hot + probs.detach(), atol=1e-6):
        return "Adding probs shifts the value away from the one-hot vector: subtract a copy of probs with no gradient."
    if not torch.allclose(value, one_hot, atol=1e-6):
        return "The forward value must be exactly the one-hot sample (each row a single 1)."
    if out.grad_fn is None:
        return ("The value is the one-hot sample, but no gradient can reach probs: a discrete sample has no gradient of "
                "its own; add a term that is zero in value but carries probs' gradient.")
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
    return out.detach().reshape(()), (torch.zeros_like(q) if gq is None else gq), (torch.zeros_like(p) if gp is None else gp)


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
        if close(value, (0.6 * kl(post, prior).mean()).clamp_min(1.0)) or close(value, 0.6 * kl(post, prior).mean().clamp_min(1.0)):
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
        return ("The value is right but both terms train both sides: stop the posterior's gradient in the dynamics term "
                "(post.detach()) and the prior's in the representation term (prior.detach()).")
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
        (backwards(lambda t, last: rewards[t] + gamma * continues[t] * ((1 - lam) * values[t] + lam * last), values[-1]),
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
        return "That is the one-step (lam = 0) target r_0 + gamma * v_1; lam = 0.5 also weighs in the longer return R_1."
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
    hint_text="Backwards: R_2 = v_2 = 20, so R_1 = 1 + 0.9 * (0.5 * 20 + 0.5 * 20). Then R_0 = 1 + 0.9 * (0.5 * v_1 + 0.5 * R_1).",
    solution_text="R_1 = 1 + 0.9 * 20 = 19 (R_2 = v_2, so the bracket is v_2); "
                  "R_0 = 1 + 0.9 * (0.5 * 10 + 0.5 * 19) = 1 + 0.9 * 14.5 = 14.05.",
    praise="Correct: the critic's opinion of s_1 and the longer return through s_2 are averaged, half and half.",
)


# --- notebook 07 (CartPole) ------------------------------------------------------------------------

def _episode_end_cases():
    """States (N, 4) around CartPole's end rule: inside, outside on each side, exactly on the limits, and
    ones where only the velocities are large (they never end an episode)."""
    import numpy as np

    from ..worldmodels.cartpole import THETA_LIMIT, X_LIMIT

    rows = [[0, 0, 0, 0], [X_LIMIT, 0, 0, 0], [-X_LIMIT, 0, 0, 0], [X_LIMIT + 0.01, 0, 0, 0],
            [-X_LIMIT - 0.01, 0, 0, 0], [0, 0, THETA_LIMIT, 0], [0, 0, -THETA_LIMIT, 0], [0, 0, THETA_LIMIT + 0.01, 0],
            [0, 0, -THETA_LIMIT - 0.01, 0], [0, 3.0, 0, 0], [0, 0, 0, 3.0], [0, 0, 0.5, 0], [0, 0, 11.0, 0],
            [1.0, -1.0, 0.1, -1.0], [-2.0, 0, -0.15, 0], [2.5, 0, 0.3, 0]]
    rng = np.random.default_rng(6)
    random_rows = rng.uniform([-3, -3, -0.4, -3], [3, 3, 0.4, 3], size=(48, 4))
    return np.concatenate([np.array(rows, float), random_rows])  # float64: exactly on the limit stays exact


def _judge_episode_end(f: Any) -> str | None:
    import numpy as np

    from ..worldmodels.cartpole import THETA_LIMIT, X_LIMIT, done_rule

    if not callable(f):
        return f"Expected a function episode_end(states) returning one True/False per state, got {type(f).__name__}."
    states = _episode_end_cases()
    out = f(states.copy())
    if out is None:
        return "Your function returns None: `return` the array of True/False, one per row of states."
    got = np.asarray(out.numpy() if hasattr(out, "numpy") else out)
    if got.shape != (len(states),):
        return f"Return one True/False per state: expected shape ({len(states)},), got {got.shape}."
    got = got.astype(bool)
    want = np.asarray(done_rule(states))
    if (got == want).all():
        return None
    x, theta = np.abs(states[:, 0]), np.abs(states[:, 2])
    if (got == (x > X_LIMIT) | (theta > 12)).all():
        return "The angle is in radians: 12 degrees is 12 * 2 * pi / 360 = 0.2095 rad."
    if (got == (x > X_LIMIT)).all() or (got == (theta > THETA_LIMIT)).all():
        return "There are two ways to lose: the pole falls past 12 degrees OR the cart leaves the track past 2.4."
    if (got == (x >= X_LIMIT) | (theta >= THETA_LIMIT)).all():
        return "Exactly on the limit is still alive: the episode ends only beyond it (use >, not >=)."
    if (got == (states[:, 0] > X_LIMIT) | (states[:, 2] > THETA_LIMIT)).all():
        return "Only one side is checked: the pole can fall left (negative theta) and the cart can leave left too."
    if (got == (np.abs(states[:, 1]) > X_LIMIT) | (np.abs(states[:, 3]) > THETA_LIMIT)).all():
        return "Columns 1 and 3 are velocities; the rule is about the position x (column 0) and the angle theta (column 2)."
    wrong = int((got != want).sum())
    return f"{wrong} of {len(states)} states are judged wrongly: check which columns you read and the two limits."


episode_end = Exercise(
    name="episode end",
    judge=_judge_episode_end,
    hint_text="states[:, 0] is the cart position x and states[:, 2] the pole angle theta (radians). An episode ends when "
              "|x| > 2.4 or |theta| > 12 degrees; numpy's np.abs and | (elementwise or) do it for all rows at once.",
    solution_text=(
        "def episode_end(states):\n"
        "    theta_limit = 12 * 2 * np.pi / 360\n"
        "    return (np.abs(states[:, 0]) > 2.4) | (np.abs(states[:, 2]) > theta_limit)"
    ),
    praise="Correct: that is wmcourse.worldmodels.cartpole.done_rule, the judge that the dream without a done head applies to M's "
           "predicted states. It is exact; what M feeds it is not.",
)


# --- notebook 05 -------------------------------------------------------------------------------------

def _judge_take_cover_parameters(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a whole number of parameters, got {type(answer).__name__}."
    if answer == 64 + 512 + 512:
        return "You counted the weights but not the bias: the one output has one bias too (the paper writes 1,088)."
    if answer == 64 + 512 + 1:
        return "Doom's controller reads the LSTM's cell c as well as h: its input is [z, h, c]."
    if answer == 3 * (64 + 512 + 512) + 3:
        return "Take Cover's controller has ONE output, read in thirds (left, stay, right), not one output per action."
    if answer == 32 + 256 + 1 or answer == 867:
        return "Those are CarRacing's sizes: for Doom z has 64 numbers and the LSTM 512 units."
    if answer != 64 + 512 + 512 + 1:
        return "Count the inputs (len(z) + len(h) + len(c)) times the outputs, plus one bias per output."
    return None


take_cover_parameters = Exercise(
    name="Take Cover controller parameters",
    judge=_judge_take_cover_parameters,
    hint_text="a = thirds(tanh(w . [z, h, c] + b)) with z of 64 numbers and an LSTM of 512 units (h and c each 512).",
    solution_text="w has 64 + 512 + 512 = 1,088 numbers and b is 1 more: 1,089 (the paper writes 1,088).",
    praise="Correct: 1,089 numbers decide when to dodge. The paper writes 1,088, the weights alone.",
)


def _judge_thirds_action(f: Any) -> str | None:
    import numpy as np

    from ..real.envs import thirds

    if not callable(f):
        return f"Expected a function to_action(o) that maps raw outputs to -1, 0 or +1, got {type(f).__name__}."
    o = np.concatenate([np.linspace(-3, 3, 241), [0.34, 0.345, -0.34, -0.345, 0.36, -0.36]]).astype(np.float32)
    out = f(o.copy())
    if out is None:
        return "Your function returns None: `return` the actions, one per output."
    got = np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float64).reshape(-1)
    if got.shape != o.shape:
        return f"Return one action per output: expected shape {o.shape}, got {got.shape}."
    want = thirds(np.tanh(o))
    if np.array_equal(got, want):
        return None
    if np.array_equal(got, -want):
        return "Left and right are swapped: the lowest third (tanh(o) < -1/3) is left, -1."
    if np.array_equal(got, thirds(o)):
        return "Squash first: the thirds split tanh(o), which lies in [-1, 1], not the raw output o."
    if np.array_equal(got, np.sign(np.tanh(o))):
        return "There are three choices, not two: the middle third (|tanh(o)| <= 1/3) means stay, 0."
    if set(np.unique(got)) - {-1.0, 0.0, 1.0}:
        return "Each action must be exactly -1 (left), 0 (stay) or +1 (right)."
    wrong = int((got != want).sum())
    return f"{wrong} of {len(o)} outputs are mapped wrongly: compare tanh(o) with -1/3 and +1/3."


thirds_action = Exercise(
    name="thirds action",
    judge=_judge_thirds_action,
    hint_text="t = np.tanh(o); then -1 where t < -1/3, +1 where t > 1/3, 0 elsewhere (np.where, or booleans subtracted).",
    solution_text=(
        "def to_action(o):\n"
        "    t = np.tanh(o)\n"
        "    return (t > 1 / 3).astype(float) - (t < -1 / 3).astype(float)"
    ),
    praise="Correct: that is the paper's Take Cover action, wmcourse.real.envs.thirds applied to tanh of C's output.",
)
