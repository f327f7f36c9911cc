"""Notebook 01's exercises: the right answers pass, and each typical mistake gets its own sentence."""

import numpy as np
import pytest
import torch

from wmcourse.lessons import n01_vae
from wmcourse.worldmodels import vae

# --- reparameterization -------------------------------------------------------------------------------------


def right_reparameterize(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


@pytest.mark.parametrize("answer", [
    right_reparameterize,
    lambda mu, logvar, eps: mu + logvar.exp().sqrt() * eps,
    lambda mu, logvar, eps: eps * torch.exp(logvar / 2) + mu,
])
def test_reparameterization_right_answers_pass(answer):
    assert n01_vae.reparameterization.problem(answer) is None


def test_reparameterization_agrees_with_the_package():
    mu, logvar = torch.randn(3, 5), torch.randn(3, 5)
    eps = torch.randn(3, 5, generator=torch.Generator().manual_seed(4))
    expected = vae.reparameterize(mu, logvar, torch.Generator().manual_seed(4))
    torch.testing.assert_close(right_reparameterize(mu, logvar, eps), expected)


@pytest.mark.filterwarnings("ignore:__array_wrap__:DeprecationWarning")
@pytest.mark.parametrize("answer, sentence", [
    (lambda mu, logvar, eps: mu + logvar * eps, "used logvar as the standard deviation"),
    (lambda mu, logvar, eps: mu + torch.exp(logvar) * eps, "exp(logvar) is the variance"),
    (lambda mu, logvar, eps: torch.exp(0.5 * logvar) * eps, "forgot mu"),
    (lambda mu, logvar, eps: mu + torch.exp(0.5 * logvar) * torch.randn_like(mu), "drew your own noise"),
    (lambda mu, logvar, eps: mu + torch.exp(0.5 * logvar), "does not change when eps changes"),
    (lambda mu, logvar, eps: (mu + torch.exp(0.5 * logvar) * eps).sum(-1), "shape of mu"),
    (lambda mu, logvar, eps: (mu + torch.exp(0.5 * logvar) * eps)[0], "shape of mu"),
    (lambda mu, logvar, eps: (mu, torch.exp(0.5 * logvar) * eps), "not a tuple"),
    (lambda mu, logvar, eps: mu + torch.exp(-0.5 * logvar) * eps, "divided by sigma"),
    (lambda mu, logvar, eps: (mu + torch.exp(0.5 * logvar) * eps).detach(), "gradients cannot reach"),
    (lambda mu, logvar, eps: torch.tensor(np.asarray(mu.detach())
                                          + np.exp(0.5 * logvar.detach().numpy()) * eps.numpy()),
     "gradients cannot reach"),
    (lambda mu, logvar, eps: mu + np.exp(0.5 * logvar) * eps, "use torch operations only"),
    (lambda mu, logvar, eps: mu - torch.exp(0.5 * logvar) * eps * 3, "term by term"),
])
def test_reparameterization_mistakes_are_named(answer, sentence):
    problem = n01_vae.reparameterization.problem(answer)
    assert problem is not None and sentence in problem, problem


def test_reparameterization_not_attempted_and_not_a_function():
    assert "Not attempted" in n01_vae.reparameterization.problem(...)
    assert "Expected a function" in n01_vae.reparameterization.problem(3)
    assert "Not attempted" in n01_vae.reparameterization.problem(lambda mu, logvar, eps: ...)
    assert "Not attempted" in n01_vae.kl_term.problem(lambda mu, logvar: None)


# --- KL term ---------------------------------------------------------------------------------------------


def right_kl(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


@pytest.mark.parametrize("answer", [
    right_kl,
    lambda mu, logvar: right_kl(mu, logvar).sum(-1),  # per frame
    lambda mu, logvar: right_kl(mu, logvar).sum(),  # everything summed
    lambda mu, logvar: right_kl(mu, logvar).sum(-1).mean(),  # the loss's batch mean
    lambda mu, logvar: 0.5 * (logvar.exp() + mu ** 2 - 1 - logvar),
    vae.kl_divergence,
])
def test_kl_right_answers_pass(answer):
    assert n01_vae.kl_term.problem(answer) is None


@pytest.mark.parametrize("reduce", [lambda t: t, lambda t: t.sum(-1), lambda t: t.sum()], ids=["dim", "frame", "total"])
@pytest.mark.parametrize("wrong, sentence", [
    (lambda mu, lv: 0.5 * (1 + lv - mu ** 2 - lv.exp()), "sign is flipped"),
    (lambda mu, lv: -(1 + lv - mu ** 2 - lv.exp()), "forgot the 1/2"),
    (lambda mu, lv: -0.5 * (1 + lv - mu ** 2 - torch.exp(0.5 * lv)), "sigma where sigma^2 belongs"),
    (lambda mu, lv: -0.5 * (1 + 0.5 * lv - mu ** 2 - torch.exp(0.5 * lv)), "sigma where sigma^2 belongs"),
    (lambda mu, lv: -0.5 * (1 + lv - lv.exp()), "forgot the mu^2 term"),
    (lambda mu, lv: -0.5 * (lv - mu ** 2 - lv.exp()), "constant 1"),
])
def test_kl_mistakes_are_named(wrong, sentence, reduce):
    problem = n01_vae.kl_term.problem(lambda mu, logvar: reduce(wrong(mu, logvar)))
    assert problem is not None and sentence in problem, problem


def test_kl_other_mistakes():
    assert "averaged over the latent dimensions" in n01_vae.kl_term.problem(lambda mu, lv: right_kl(mu, lv).mean(-1))
    assert "got shape" in n01_vae.kl_term.problem(lambda mu, lv: right_kl(mu, lv)[:, :3])
    assert "NaN" in n01_vae.kl_term.problem(lambda mu, lv: -0.5 * (1 + torch.log(lv) - mu ** 2 - lv.exp()))
    assert "Not KL" in n01_vae.kl_term.problem(lambda mu, lv: mu ** 2)


def test_failures_do_not_give_the_answer_away():
    for problem in (n01_vae.kl_term.problem(lambda mu, lv: mu ** 2),
                    n01_vae.reparameterization.problem(lambda mu, lv, eps: 2 * mu)):
        assert "exp(logvar / 2)" not in problem.split(":")[0] and "def " not in problem
