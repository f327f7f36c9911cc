"""Mixture density networks (Bishop 1994): predict a whole distribution, not a single number.

A network that is trained with squared error predicts the average of what can happen. When the road splits
left or right, the average is straight ahead, into the wall. A mixture density network predicts, for each
output dimension d, K weights pi_dk, means mu_dk and scales sigma_dk of a mixture of Gaussians:

    p(y_d | x) = sum_k pi_dk N(y_d; mu_dk, sigma_dk^2)

As in the paper's code, every dimension has its own K-way mixture (the dimensions are independent given
the features). Parameters have shape (..., D, K) and targets (..., D). `log_pi` is always the
*normalised* log weights (logsumexp_k log_pi_dk = 0), as MixtureHead and `temperature` return them.

The same head serves the MDN-RNN (wmcourse.worldmodels.mdnrnn) and the 1-D toy problem of notebook 02
(`bimodal_toy_data`, `fit_toy_mdn`, `fit_single_gaussian`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..errors import SettingsError, ShapeError

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _check_mixture(log_pi: Tensor, mu: Tensor, log_sigma: Tensor, target: Tensor | None = None) -> None:
    """Raise a ShapeError unless the parameters share one shape (..., D, K) and target is (..., D)."""
    if not (log_pi.shape == mu.shape == log_sigma.shape) or log_pi.ndim < 2:
        raise ShapeError(
            f"Expected log_pi, mu and log_sigma of one shape (..., D, K), got {tuple(log_pi.shape)}, "
            f"{tuple(mu.shape)} and {tuple(log_sigma.shape)}. A single 1-D mixture needs shape (N, 1, K)."
        )
    if target is not None and target.shape != log_pi.shape[:-1]:
        raise ShapeError(
            f"Expected a target of shape {tuple(log_pi.shape[:-1])} (the parameters' shape without K), "
            f"got {tuple(target.shape)}. A target of shape (N,) for a 1-D mixture needs target[:, None]."
        )


def _check_tau(tau: float) -> float:
    if not tau > 0:
        raise SettingsError(f"The temperature tau must be positive (1.0 leaves the mixture as it is), got {tau}.")
    return float(tau)


def gaussian_log_prob(y: Tensor, mu: Tensor, log_sigma: Tensor) -> Tensor:
    """log N(y; mu, sigma^2) = -(y - mu)^2 / (2 sigma^2) - log sigma - log sqrt(2 pi), elementwise."""
    return -0.5 * ((y - mu) * torch.exp(-log_sigma)) ** 2 - log_sigma - LOG_SQRT_2PI


def mdn_log_prob(log_pi: Tensor, mu: Tensor, log_sigma: Tensor, target: Tensor) -> Tensor:
    """log p(y_d) = logsumexp_k [log pi_dk + log N(y_d; mu_dk, sigma_dk^2)], shape (..., D).

    logsumexp(a) = max(a) + log sum_k exp(a_k - max(a)) never overflows, where the naive
    log(sum(exp(a))) does as soon as one a_k is beyond about +88 (float32) or all are below about -104.
    """
    _check_mixture(log_pi, mu, log_sigma, target)
    return torch.logsumexp(log_pi + gaussian_log_prob(target.unsqueeze(-1), mu, log_sigma), dim=-1)


def mdn_nll(log_pi: Tensor, mu: Tensor, log_sigma: Tensor, target: Tensor) -> Tensor:
    """Mean negative log-likelihood per dimension.

    -mean_{..., d} logsumexp_k [log pi_dk + log N(y_d; mu_dk, sigma_dk^2)].

    Parameters (..., D, K) with log_pi normalised over K, target (..., D); returns a scalar (nats per dimension).
    """
    return -mdn_log_prob(log_pi, mu, log_sigma, target).mean()


def temperature(log_pi: Tensor, log_sigma: Tensor, tau: float) -> tuple[Tensor, Tensor]:
    """The paper's temperature: mixture logits divided by tau, every sigma times sqrt(tau).

        pi_k(tau) = pi_k^(1/tau) / sum_j pi_j^(1/tau)   (= softmax(log pi / tau))
        sigma_k(tau) = sigma_k sqrt(tau)                  (log sigma + log(tau) / 2)

    tau < 1 sharpens the mixture towards its likeliest component and shrinks the noise (a tame dream);
    tau > 1 flattens it and widens the noise (a wilder, harder dream). Returns (log_pi, log_sigma), normalised.
    """
    tau = _check_tau(tau)
    return F.log_softmax(log_pi / tau, dim=-1), log_sigma + 0.5 * math.log(tau)


def sample_component(log_pi: Tensor, tau: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
    """Index k of a component for each (..., d), drawn with probability pi_dk(tau), by inverse CDF.

    With w_k = exp(log pi_k / tau) (pi_k(tau) before normalising) and one uniform u per dimension,
    k = the number of cumulative weights W_j = w_0 + ... + w_j below u W_K (the first k whose share of the
    total reaches u). On a batch of small categoricals this is faster than torch.multinomial.
    """
    K = log_pi.shape[-1]
    # the K components first: sums over a leading axis of 5 run over whole arrays, several times faster on a CPU
    # than over a trailing axis of 5 (a dream's sampling took about 2.5 times less CPU time)
    scaled = (log_pi / _check_tau(tau)).movedim(-1, 0).contiguous()
    cumulative = torch.exp(scaled - scaled.amax(dim=0)).cumsum(dim=0)
    u = torch.rand(log_pi.shape[:-1], generator=generator, device=log_pi.device, dtype=log_pi.dtype)
    k = (cumulative < u * cumulative[-1]).sum(dim=0)
    return k.clamp_(max=K - 1)  # rounding can leave u W_K a hair above W_K


def sample(log_pi: Tensor, mu: Tensor, log_sigma: Tensor, tau: float = 1.0,
           generator: torch.Generator | None = None) -> Tensor:
    """One draw y_d ~ sum_k pi_dk(tau) N(mu_dk, sigma_dk^2 tau) per dimension: shape (..., D).

    First a component k ~ pi(tau) (inverse CDF), then y = mu_k + sigma_k sqrt(tau) eps with eps ~ N(0, 1).
    tau = 1 samples the mixture as it was predicted.
    """
    _check_mixture(log_pi, mu, log_sigma)
    k = sample_component(log_pi, tau, generator).unsqueeze(-1)
    mu_k = mu.gather(-1, k).squeeze(-1)
    sigma_k = torch.exp(log_sigma.gather(-1, k).squeeze(-1)) * math.sqrt(tau)
    eps = torch.randn(mu_k.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu_k + sigma_k * eps


def mixture_distribution(log_pi: Tensor, mu: Tensor, log_sigma: Tensor,
                         tau: float = 1.0) -> torch.distributions.MixtureSameFamily:
    """The same (tempered) mixture as a torch.distributions object: batch shape (..., D), event shape ()."""
    _check_mixture(log_pi, mu, log_sigma)
    log_pi, log_sigma = temperature(log_pi, log_sigma, tau)
    D = torch.distributions
    return D.MixtureSameFamily(D.Categorical(logits=log_pi), D.Normal(mu, torch.exp(log_sigma)))


class MixtureHead(nn.Module):
    """A linear layer from features (..., F) to a K-way mixture for each of D dimensions.

    Its D * 3K outputs are read, per dimension, as [logits(K), mu(K), log sigma(K)] (the layout of the
    paper's code); log_pi = logits - logsumexp(logits). Returns (log_pi, mu, log_sigma), each (..., D, K).
    """

    def __init__(self, in_features: int, out_dims: int, K: int = 5):
        super().__init__()
        self.out_dims, self.K = out_dims, K
        self.linear = nn.Linear(in_features, out_dims * 3 * K)

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        out = self.linear(features).unflatten(-1, (self.out_dims, 3, self.K))
        logits, mu, log_sigma = out.unbind(dim=-2)
        return F.log_softmax(logits, dim=-1), mu, log_sigma


# --- the 1-D toy problem of notebook 02 --------------------------------------------------------------

def bimodal_toy_data(n: int, seed: int = 0, noise: float = 0.05) -> tuple[Tensor, Tensor]:
    """A T-junction: x in [0, 1] is how far past the junction the car is, y its sideways position.

    Half the cars turn left and half right: y = +-sqrt(x) + noise. Given x, y has two branches;
    their average, y = 0, is the one place no car ever is. Returns x and y, each float32 (n, 1).
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g)
    side = torch.randint(0, 2, (n, 1), generator=g).float() * 2 - 1
    y = side * torch.sqrt(x) + noise * torch.randn(n, 1, generator=g)
    return x, y


class ToyMDN(nn.Module):
    """x (N, 1) -> a K-way mixture over y (N, 1, K): two hidden tanh layers, then a MixtureHead.

    With K = 1 it is a single Gaussian with a learned mean and spread: the "regression" baseline.
    """

    def __init__(self, K: int = 5, hidden: int = 32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.head = MixtureHead(hidden, 1, K)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        return self.head(self.body(x))

    @torch.no_grad()
    def nll(self, x: Tensor, y: Tensor) -> float:
        """Mean negative log-likelihood of y given x, in nats (lower is better)."""
        return float(mdn_nll(*self(x), y))


def fit_toy_mdn(x: Tensor, y: Tensor, K: int = 5, hidden: int = 32, steps: int = 1000, lr: float = 5e-3,
                seed: int = 0, progress: bool = False) -> tuple[ToyMDN, list[float]]:
    """Fit a ToyMDN to (x, y) by full-batch Adam on the mixture NLL; returns the model and the loss per step."""
    if x.shape != y.shape or x.ndim != 2 or x.shape[1] != 1:
        raise ShapeError(f"Expected x and y of shape (N, 1) (as bimodal_toy_data returns), "
                         f"got {tuple(x.shape)} and {tuple(y.shape)}.")
    torch.manual_seed(seed)
    model = ToyMDN(K, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(steps), desc=f"toy MDN, K={K}", disable=not progress):
        loss = mdn_nll(*model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses


def fit_single_gaussian(x: Tensor, y: Tensor, hidden: int = 32, steps: int = 1000, lr: float = 5e-3,
                        seed: int = 0, progress: bool = False) -> tuple[ToyMDN, list[float]]:
    """The baseline: the same network with one Gaussian (K = 1), i.e. regression with a learned spread."""
    return fit_toy_mdn(x, y, K=1, hidden=hidden, steps=steps, lr=lr, seed=seed, progress=progress)
