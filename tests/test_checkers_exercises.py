"""The exercises added for notebooks 04, 06 and 08: each checker accepts the right answer and names the
typical wrong ones, without giving the expected value away."""

import math

import numpy as np
import torch

from wmcourse.dreamer import rssm
from wmcourse.lessons import n04_cma_es, n06_dream_vs_real, n08_dreamer
from wmcourse.worldmodels import evolve, mdn

# --- 04: one ES update, checked exactly ------------------------------------------------------------------

def _es(update):
    """A simple ES whose mean update is `update(candidates, values, elite)`; everything else is right."""
    def es(objective, x0, sigma, population, elite, generations, seed):
        rng, mean, best, curve = np.random.default_rng(seed), np.asarray(x0, float), np.inf, []
        for _ in range(generations):
            c = mean + sigma * rng.standard_normal((population, len(mean)))
            v = objective(c)
            mean = update(c, v, elite)
            best = min(best, v.min())
            curve.append(best)
        return curve
    return es


def test_simple_es_checker_checks_the_first_update_exactly():
    assert n04_cma_es.simple_es.problem(evolve.simple_es) is None
    assert n04_cma_es.simple_es.problem(_es(lambda c, v, k: c[np.argsort(v)[:k]].mean(0))) is None
    assert "ALL candidates" in n04_cma_es.simple_es.problem(_es(lambda c, v, k: c.mean(0)))
    assert "single best" in n04_cma_es.simple_es.problem(_es(lambda c, v, k: c[np.argmin(v)]))
    assert "LOWEST" in n04_cma_es.simple_es.problem(_es(lambda c, v, k: c[np.argsort(v)[-k:]].mean(0)))
    assert "Off by one" in n04_cma_es.simple_es.problem(_es(lambda c, v, k: c[np.argsort(v)[:k + 1]].mean(0)))


def test_simple_es_checker_names_unscaled_or_foreign_noise():
    def unscaled(objective, x0, sigma, population, elite, generations, seed):
        return evolve.simple_es(objective, x0, 1.0, population, elite, generations, seed)

    assert "not scaled" in n04_cma_es.simple_es.problem(unscaled)

    def other_rng(objective, x0, sigma, population, elite, generations, seed):
        return evolve.simple_es(objective, x0, sigma, population, elite, generations, seed + 1)

    assert "rng you are given" in n04_cma_es.simple_es.problem(other_rng)


def test_es_race_figure_takes_the_learners_es():

    calls = []

    def mine(*args):
        calls.append(args)
        return evolve.simple_es(*args)

    fig = n04_cma_es.es_race_figure(np.array([-1.5, 2.5]), sigmas=(0.1,), generations=5, es=mine)
    assert len(calls) == 1 and "your ES" in fig.axes[0].get_legend_handles_labels()[1][0]


# --- 05: the dream step ----------------------------------------------------------------------------------

def test_component_checker_accepts_the_package_and_names_mistakes():
    ex = n06_dream_vs_real.sample_component_exercise
    assert ex.problem(lambda lp, tau, g: mdn.sample_component(lp, tau, g)) is None
    assert "temperature is missing" in ex.problem(lambda lp, tau, g: mdn.sample_component(lp, 1.0, g))
    assert "likeliest" in ex.problem(lambda lp, tau, g: lp.argmax(-1))
    assert "Divide" in ex.problem(lambda lp, tau, g: mdn.sample_component(lp * tau * tau, tau, g))
    assert "shape" in ex.problem(lambda lp, tau, g: mdn.sample_component(lp, tau, g).flatten())
    assert "Off by one" in ex.problem(lambda lp, tau, g: mdn.sample_component(lp, tau, g) + 1)
    assert "Not attempted" in ex.problem(lambda lp, tau, g: None)


def _draw(scale):
    def f(log_pi, mu, log_sigma, tau, g):
        k = mdn.sample_component(log_pi, tau, g).unsqueeze(-1)
        mu_k, s_k = mu.gather(-1, k).squeeze(-1), log_sigma.gather(-1, k).squeeze(-1).exp()
        return mu_k + s_k * scale(tau) * torch.randn(mu_k.shape, generator=g)
    return f


def test_dream_sample_checker_accepts_the_package_and_names_mistakes():
    ex = n06_dream_vs_real.dream_sample
    assert ex.problem(lambda *a: mdn.sample(*a)) is None
    assert ex.problem(_draw(math.sqrt)) is None
    assert "ignores tau" in ex.problem(_draw(lambda tau: 1.0))
    assert "not tau" in ex.problem(_draw(lambda tau: tau))
    assert "noise is missing" in ex.problem(_draw(lambda tau: 0.0))

    def noise_first(log_pi, mu, log_sigma, tau, g):
        eps = torch.randn(mu.shape[:-1], generator=g)
        k = mdn.sample_component(log_pi, tau, g).unsqueeze(-1)
        return mu.gather(-1, k).squeeze(-1) + log_sigma.gather(-1, k).squeeze(-1).exp() * math.sqrt(tau) * eps

    assert "component first" in ex.problem(noise_first)


# --- 07: straight-through bias and the balanced KL ---------------------------------------------------

def test_straight_through_is_exact_for_a_linear_loss_and_biased_otherwise():
    logits = torch.tensor([1.0, 2.0, 0.5, -1.0, 0.0])
    w = torch.tensor([0.3, -1.0, 2.0, 0.0, 0.5])
    exact, st = rssm.straight_through_bias(logits, lambda z: (z * w).sum())
    torch.testing.assert_close(st, exact)
    exact, st = rssm.straight_through_bias(logits, lambda z: ((z * w).sum() - 1) ** 2)
    assert (st - exact).norm() > 0.1 * exact.norm()
    # the exact gradient is the gradient of sum_k p_k f(e_k), checked by finite differences
    f = lambda l: (torch.softmax(l, -1) * torch.stack([((e * w).sum() - 1) ** 2 for e in torch.eye(5)])).sum()  # noqa: E731
    h = 1e-3
    fd = torch.stack([(f(logits + h * e) - f(logits - h * e)) / (2 * h) for e in torch.eye(5)])
    torch.testing.assert_close(exact, fd, atol=1e-3, rtol=1e-3)


def test_straight_through_average_over_samples_converges_to_the_biased_value():
    logits = torch.tensor([0.5, -0.5, 1.0])
    w = torch.tensor([1.0, -2.0, 0.5])
    loss = lambda z: ((z * w).sum() - 1) ** 2  # noqa: E731
    exact, st = rssm.straight_through_bias(logits, loss)
    g = torch.Generator().manual_seed(0)
    total = torch.zeros(3)
    n = 4000
    for _ in range(n):
        l = logits.clone().requires_grad_(True)
        z = rssm.sample_straight_through(l, g)
        loss(z).backward()
        total += l.grad
    torch.testing.assert_close(total / n, st, atol=0.05, rtol=0.05)
    assert (total / n - exact).norm() > 0.1


def test_balanced_kl_checker_tests_where_the_gradients_flow():
    ex, kl = n08_dreamer.balanced_kl, rssm.categorical_kl
    assert ex.problem(lambda q, p: rssm.kl_balanced_loss(q, p).loss) is None
    assert ex.problem(
        lambda q, p: (0.5 * kl(q.detach(), p).clamp_min(1) + 0.1 * kl(q, p.detach()).clamp_min(1)).mean()) is None
    assert "both sides" in ex.problem(lambda q, p: (0.6 * kl(q, p).clamp_min(1)).mean())
    assert "wrong sides" in ex.problem(
        lambda q, p: (0.5 * kl(q, p.detach()).clamp_min(1) + 0.1 * kl(q.detach(), p).clamp_min(1)).mean())
    assert "Free bits" in ex.problem(lambda q, p: (0.5 * kl(q.detach(), p) + 0.1 * kl(q, p.detach())).mean())
    assert "wrong way round" in ex.problem(lambda q, p: (0.6 * kl(p, q).clamp_min(1)).mean())
    assert "No gradient" in ex.problem(lambda q, p: (0.6 * kl(q, p).clamp_min(1)).mean().detach())
    assert "Not attempted" in ex.problem(...)
    # a failure never reveals the expected value
    wrong = ex.problem(lambda q, p: (0.6 * kl(q, p).clamp_min(1)).mean())
    value = float(rssm.kl_balanced_loss(*n08_dreamer._kl_case()).loss)
    assert f"{value:.2f}" not in wrong
