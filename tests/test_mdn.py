"""The mixture density head: NLL against torch.distributions, temperature, sampling statistics, the toy MDN,
and the notebook-02 exercise checker."""

import math

import pytest
import torch

from wmcourse.errors import ShapeError
from wmcourse.lessons import n02_mdn
from wmcourse.worldmodels import mdn


def random_mixture(shape=(4, 7, 3), K=5, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    log_pi = torch.log_softmax(2 * torch.randn(*shape, K, generator=g, dtype=dtype), dim=-1)
    mu = torch.randn(*shape, K, generator=g, dtype=dtype)
    log_sigma = torch.rand(*shape, K, generator=g, dtype=dtype) - 1.0
    target = 1.5 * torch.randn(*shape, generator=g, dtype=dtype)
    return log_pi, mu, log_sigma, target


def library_mixture(log_pi, mu, log_sigma):
    D = torch.distributions
    return D.MixtureSameFamily(D.Categorical(logits=log_pi), D.Normal(mu, log_sigma.exp()))


# --- NLL ---------------------------------------------------------------------------------------------

def test_log_prob_and_nll_match_torch_distributions():
    log_pi, mu, log_sigma, y = random_mixture()
    expected = library_mixture(log_pi, mu, log_sigma).log_prob(y)
    torch.testing.assert_close(mdn.mdn_log_prob(log_pi, mu, log_sigma, y), expected)
    torch.testing.assert_close(mdn.mdn_nll(log_pi, mu, log_sigma, y), -expected.mean())


def test_nll_stays_finite_where_a_naive_log_sum_exp_does_not():
    log_pi, mu, log_sigma, y = random_mixture(dtype=torch.float32)
    log_sigma = torch.full_like(log_sigma, -3.0)
    y = 10 * torch.sign(y) + y  # far from every mean: each density underflows to 0
    naive = -torch.log(torch.exp(log_pi + mdn.gaussian_log_prob(y[..., None], mu, log_sigma)).sum(-1)).mean()
    assert torch.isinf(naive)
    nll = mdn.mdn_nll(log_pi, mu, log_sigma, y)
    expected = -library_mixture(log_pi.double(), mu.double(), log_sigma.double()).log_prob(y.double()).mean()
    assert torch.isfinite(nll) and math.isclose(float(nll), float(expected), rel_tol=1e-5)


def test_bad_shapes_get_a_clear_error():
    log_pi, mu, log_sigma, y = random_mixture()
    with pytest.raises(ShapeError, match="target of shape"):
        mdn.mdn_nll(log_pi, mu, log_sigma, y[..., 0])
    with pytest.raises(ShapeError, match="one shape"):
        mdn.mdn_nll(log_pi, mu[..., :2], log_sigma, y)


def test_mixture_head_shapes_and_normalised_weights():
    head = mdn.MixtureHead(16, out_dims=3, K=5)
    log_pi, mu, log_sigma = head(torch.randn(2, 7, 16))
    assert log_pi.shape == mu.shape == log_sigma.shape == (2, 7, 3, 5)
    torch.testing.assert_close(log_pi.logsumexp(-1), torch.zeros(2, 7, 3))


# --- temperature and sampling ------------------------------------------------------------------------

def test_temperature_is_the_papers_formula():
    log_pi, _, log_sigma, _ = random_mixture()
    for tau in (0.5, 1.0, 1.5):
        lp, ls = mdn.temperature(log_pi, log_sigma, tau)
        pi_tau = log_pi.exp() ** (1 / tau)
        torch.testing.assert_close(lp.exp(), pi_tau / pi_tau.sum(-1, keepdim=True))
        torch.testing.assert_close(ls.exp(), log_sigma.exp() * math.sqrt(tau))
    lp, ls = mdn.temperature(log_pi, log_sigma, 1.0)
    torch.testing.assert_close(lp, log_pi)
    torch.testing.assert_close(ls, log_sigma)
    with pytest.raises(ValueError, match="positive"):
        mdn.temperature(log_pi, log_sigma, 0.0)


# Three dimensions, each its own well separated 3-way mixture, repeated N times.
MEANS = torch.tensor([[-4.0, 0.0, 5.0], [-3.0, 2.0, 7.0], [-6.0, -1.0, 4.0]])
SIGMAS = torch.tensor([[0.3, 0.5, 0.4], [0.4, 0.3, 0.5], [0.5, 0.4, 0.3]])
WEIGHTS = torch.tensor([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
N = 40_000


def batched_mixture():
    expand = lambda t: t.expand(N, 3, 3)  # noqa: E731
    return expand(WEIGHTS.log()), expand(MEANS), expand(SIGMAS.log())


def tempered(tau):
    w = WEIGHTS ** (1 / tau)
    return w / w.sum(-1, keepdim=True), SIGMAS * math.sqrt(tau)


def normal_cdf(x):
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


def ks_statistic(samples, weights, sigmas):
    """Largest gap between the samples' empirical CDF and the mixture's CDF, for each of the 3 dimensions."""
    x = samples.double().sort(dim=0).values                                            # (N, 3)
    cdf = (weights.double() * normal_cdf((x[..., None] - MEANS.double()) / sigmas.double())).sum(-1)
    i = torch.arange(1, len(x) + 1, dtype=torch.float64)[:, None]
    return torch.maximum(i / len(x) - cdf, cdf - (i - 1) / len(x)).max(dim=0).values


@pytest.mark.parametrize("tau", [0.5, 1.0, 1.5])
def test_sampling_matches_the_analytic_tempered_mixture(tau):
    log_pi, mu, log_sigma = batched_mixture()
    y = mdn.sample(log_pi, mu, log_sigma, tau, torch.Generator().manual_seed(1))
    assert y.shape == (N, 3)
    w, s = tempered(tau)
    mean = (w * MEANS).sum(-1)
    var = (w * (s**2 + MEANS**2)).sum(-1) - mean**2
    assert ((y.mean(0) - mean).abs() < 5 * (var / N).sqrt()).all()              # 5 standard errors
    assert ((y.var(0) / var - 1).abs() < 0.05).all()
    # mode frequencies: the components are so far apart that the nearest mean tells which one was drawn
    mode = (y[..., None] - MEANS).abs().argmin(-1)
    freq = torch.stack([(mode == k).float().mean(0) for k in range(3)], dim=-1)
    assert ((freq - w).abs() < 5 * (w * (1 - w) / N).sqrt() + 1e-3).all()
    assert (ks_statistic(y, w, s) < 1.63 / math.sqrt(N)).all()                  # KS test at the 1% level


def test_tau_one_samples_the_untempered_mixture_and_other_taus_do_not():
    log_pi, mu, log_sigma = batched_mixture()
    y1 = mdn.sample(log_pi, mu, log_sigma, 1.0, torch.Generator().manual_seed(2))
    assert (ks_statistic(y1, WEIGHTS, SIGMAS) < 1.63 / math.sqrt(N)).all()
    y15 = mdn.sample(log_pi, mu, log_sigma, 1.5, torch.Generator().manual_seed(2))
    assert (ks_statistic(y15, WEIGHTS, SIGMAS) > 1.63 / math.sqrt(N)).any()     # the test can tell them apart
    # and with the same seed, tau = 1 draws exactly what the untempered parameters give
    lp, ls = mdn.temperature(log_pi, log_sigma, 1.0)
    torch.testing.assert_close(mdn.sample(lp, mu, ls, 1.0, torch.Generator().manual_seed(2)), y1)


def test_inverse_cdf_component_sampling_matches_the_weights():
    log_pi = torch.log_softmax(torch.randn(4, 6), -1)
    k = mdn.sample_component(log_pi.expand(50_000, 4, 6), 1.0, torch.Generator().manual_seed(3))
    freq = torch.nn.functional.one_hot(k, 6).float().mean(0)
    p = log_pi.exp()
    assert ((freq - p).abs() < 5 * (p * (1 - p) / 50_000).sqrt() + 1e-4).all()


def test_mixture_distribution_is_the_tempered_mixture():
    log_pi, mu, log_sigma = (t[:1] for t in batched_mixture())
    w, s = tempered(1.5)
    dist = mdn.mixture_distribution(log_pi, mu, log_sigma, tau=1.5)
    torch.testing.assert_close(dist.mean[0], (w * MEANS).sum(-1))
    torch.testing.assert_close(dist.component_distribution.scale[0], s)


# --- the toy problem ---------------------------------------------------------------------------------

def test_mdn_beats_a_single_gaussian_on_the_bimodal_toy():
    x, y = mdn.bimodal_toy_data(1000, seed=0)
    x_test, y_test = mdn.bimodal_toy_data(1000, seed=1)
    model, losses = mdn.fit_toy_mdn(x, y, K=3, steps=300, lr=1e-2)
    single, _ = mdn.fit_single_gaussian(x, y, steps=300, lr=1e-2)
    assert losses[-1] < losses[0]
    assert model.nll(x_test, y_test) < single.nll(x_test, y_test) - 1.0
    with torch.no_grad():  # the single Gaussian predicts the average road: straight ahead, where no car goes
        _, mu_single, _ = single(torch.tensor([[0.8]]))
        log_pi, mu_mdn, _ = model(torch.tensor([[0.8]]))
    assert abs(float(mu_single)) < 0.2
    likely = mu_mdn[log_pi.exp() > 0.2]
    assert (likely.abs() > 0.7).all() and likely.min() < 0 < likely.max()


def test_toy_fit_rejects_bad_shapes():
    with pytest.raises(ShapeError, match=r"\(N, 1\)"):
        mdn.fit_toy_mdn(torch.rand(10), torch.rand(10), steps=1)


# --- the notebook-02 exercise ------------------------------------------------------------------------

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def log_normal(y, mu, log_sigma):
    return -0.5 * ((y[..., None] - mu) / log_sigma.exp()) ** 2 - log_sigma - LOG_SQRT_2PI


def right(log_pi, mu, log_sigma, y):
    return -torch.logsumexp(log_pi + log_normal(y, mu, log_sigma), dim=-1).mean()


WRONG = {
    "numerically unstable": lambda lp, mu, ls, y: -torch.log(torch.exp(lp + log_normal(y, mu, ls)).sum(-1)).mean(),
    "its negative": lambda lp, mu, ls, y: -right(lp, mu, ls, y),
    "weights are missing": lambda lp, mu, ls, y: -torch.logsumexp(log_normal(y, mu, ls), -1).mean(),
    "where log pi_k belongs": lambda lp, mu, ls, y: -torch.logsumexp(lp.exp() + log_normal(y, mu, ls), -1).mean(),
    "NaN": lambda lp, mu, ls, y: -torch.log((lp * log_normal(y, mu, ls).exp()).sum(-1)).mean(),
    "-log sigma term": lambda lp, mu, ls, y: -torch.logsumexp(
        lp - 0.5 * ((y[..., None] - mu) / ls.exp()) ** 2 - LOG_SQRT_2PI, -1).mean(),
    "sqrt(2 pi)": lambda lp, mu, ls, y: -torch.logsumexp(
        lp - 0.5 * ((y[..., None] - mu) / ls.exp()) ** 2 - ls, -1).mean(),
    "not of the variance": lambda lp, mu, ls, y: -torch.logsumexp(
        lp - 0.5 * (y[..., None] - mu) ** 2 / ls.exp() - 0.5 * ls - LOG_SQRT_2PI, -1).mean(),
    "outside the sum": lambda lp, mu, ls, y: -(lp.exp() * log_normal(y, mu, ls)).sum(-1).mean(),
    "last axis": lambda lp, mu, ls, y: -torch.logsumexp(lp + log_normal(y, mu, ls), -2).mean(),
    "summed where the loss averages": lambda lp, mu, ls, y: -torch.logsumexp(lp + log_normal(y, mu, ls), -1).sum(),
    "one value per entry": lambda lp, mu, ls, y: -torch.logsumexp(lp + log_normal(y, mu, ls), -1),
    "do not line up": lambda lp, mu, ls, y: -torch.logsumexp(lp + (-0.5 * ((y - mu) / ls.exp()) ** 2), -1).mean(),
    "Not the mixture NLL": lambda lp, mu, ls, y: torch.tensor(3.0),
}


def test_mixture_nll_checker_accepts_the_right_answers():
    assert n02_mdn.mixture_nll.problem(right) is None
    assert n02_mdn.mixture_nll.problem(mdn.mdn_nll) is None
    assert n02_mdn.mixture_nll.problem(lambda *a: float(right(*a))) is None  # a float is fine too


@pytest.mark.parametrize("sentence", list(WRONG))
def test_mixture_nll_checker_names_each_mistake(sentence):
    problem = n02_mdn.mixture_nll.problem(WRONG[sentence])
    assert problem is not None and sentence in problem
    assert ". " not in problem and len(problem) < 250  # one sentence, no dump of numbers
    ordinary, _ = n02_mdn._mixture_cases()
    assert f"{float(mdn.mdn_nll(*ordinary)):.3}" not in problem  # the expected value is never given away


def test_mixture_nll_checker_reports_non_functions_and_not_attempted():
    assert "Not attempted" in n02_mdn.mixture_nll.problem(...)
    assert "Expected a function" in n02_mdn.mixture_nll.problem(1.23)
