"""The RSSM's hand-written parts against torch.distributions and against what each is for: symlog and its
inverse, straight-through one-hot samples, the categorical KL, KL balancing with free bits, state resets."""

import math

import pytest
import torch
from torch.distributions import OneHotCategorical, OneHotCategoricalStraightThrough

from wmcourse.dreamer import rssm
from wmcourse.errors import SettingsError, ShapeError


def random_logits(shape=(5, 4, 6), seed=0, scale=2.0):
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# --- symlog -------------------------------------------------------------------------------------------

def test_symlog_values_are_the_seeds_examples():
    x = torch.tensor([1.0, 100.0, 10000.0, 0.0, -1.0])
    expected = torch.tensor([math.log(2), math.log(101), math.log(10001), 0.0, -math.log(2)])
    assert torch.allclose(rssm.symlog(x), expected)
    assert rssm.symlog(torch.tensor(10000.0)).item() == pytest.approx(9.21, abs=0.01)


def test_symexp_inverts_symlog_both_ways_and_symlog_is_odd():
    x = torch.cat([torch.linspace(-1e4, 1e4, 2001, dtype=torch.float64), torch.tensor([0.0, 1e-6, -3.3])])
    assert torch.allclose(rssm.symexp(rssm.symlog(x)), x, rtol=1e-10, atol=1e-10)
    assert torch.allclose(rssm.symlog(rssm.symexp(x / 1000)), x / 1000, rtol=1e-10, atol=1e-10)
    assert torch.equal(rssm.symlog(-x), -rssm.symlog(x))


def test_symlog_is_the_identity_near_zero_and_a_log_far_away():
    x = torch.tensor(1e-4, dtype=torch.float64, requires_grad=True)
    rssm.symlog(x).backward()
    assert x.grad.item() == pytest.approx(1.0, rel=1e-3)  # slope 1 at 0: small values pass unchanged
    assert rssm.symlog(torch.tensor(1e6, dtype=torch.float64)).item() == pytest.approx(math.log(1e6), rel=1e-6)


# --- straight-through samples ---------------------------------------------------------------------------

def test_straight_through_forward_is_exactly_one_hot():
    logits = random_logits().float().requires_grad_(True)
    z = rssm.sample_straight_through(logits, torch.Generator().manual_seed(1))
    assert set(z.detach().unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(z.detach().sum(-1), torch.ones(5, 4))


def test_straight_through_gradient_is_that_of_the_probabilities():
    logits = random_logits().requires_grad_(True)
    weights = random_logits(seed=3)
    (rssm.sample_straight_through(logits, torch.Generator().manual_seed(1)) * weights).sum().backward()
    ours = logits.grad.clone()
    logits.grad = None
    (torch.softmax(logits, -1) * weights).sum().backward()
    assert ours.abs().sum() > 0  # the gradient flows although the forward pass is discrete
    assert torch.allclose(ours, logits.grad)


def test_straight_through_matches_torch_distributions():
    logits = random_logits().requires_grad_(True)
    weights = random_logits(seed=4)
    library = OneHotCategoricalStraightThrough(logits=logits).rsample()
    (library * weights).sum().backward()
    library_grad = logits.grad.clone()
    logits.grad = None
    ours = rssm.straight_through(library.detach(), torch.softmax(logits, -1))  # the same draw, our estimator
    (ours * weights).sum().backward()
    assert torch.equal(ours.detach(), library.detach())
    assert torch.allclose(logits.grad, library_grad)


def test_straight_through_rejects_mismatched_shapes():
    with pytest.raises(ShapeError, match="same shape"):
        rssm.straight_through(torch.zeros(3, 4), torch.zeros(3, 5))


def test_one_hot_samples_follow_the_categorical_distribution():
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]))
    n = 20000
    draws = rssm.sample_one_hot(logits.expand(n, 2, 3), torch.Generator().manual_seed(0))
    library = OneHotCategorical(logits=logits).sample((n,))
    assert torch.allclose(draws.mean(0), logits.exp(), atol=0.015)
    assert torch.allclose(draws.mean(0), library.mean(0), atol=0.02)


def test_unimix_keeps_every_class_possible():
    logits = torch.tensor([[50.0, 0.0, -50.0, -50.0]])
    probs = rssm.unimix_logits(logits, 0.01).exp()
    assert probs.sum().item() == pytest.approx(1.0)
    assert probs.min().item() == pytest.approx(0.01 / 4, rel=1e-3)
    assert probs.max().item() == pytest.approx(0.99 + 0.01 / 4, rel=1e-4)
    with pytest.raises(SettingsError, match="unimix"):
        rssm.unimix_logits(logits, 1.0)


# --- KL and its balancing ---------------------------------------------------------------------------------

def test_categorical_kl_matches_torch_distributions():
    q, p = random_logits(seed=1), random_logits(seed=2)
    assert torch.allclose(rssm.categorical_kl(q, p), rssm.library_kl(q, p))
    assert rssm.categorical_kl(q, p).shape == (5,)  # summed over the 4 groups
    assert torch.allclose(rssm.categorical_kl(q, q), torch.zeros(5, dtype=torch.float64), atol=1e-12)


def _grads(post, prior, **scales):
    post, prior = post.clone().requires_grad_(True), prior.clone().requires_grad_(True)
    rssm.kl_balanced_loss(post, prior, **scales).loss.backward()
    return post.grad, prior.grad


def test_kl_balancing_sends_each_term_to_its_own_side():
    post, prior = random_logits(seed=1), random_logits(seed=2)  # far apart: every KL is above the free nat
    assert (rssm.categorical_kl(post, prior) > 1.0).all()
    post_grad, prior_grad = _grads(post, prior, dyn_scale=1.0, rep_scale=0.0)
    assert torch.count_nonzero(post_grad) == 0 and torch.count_nonzero(prior_grad) > 0  # dynamics: prior only
    post_grad, prior_grad = _grads(post, prior, dyn_scale=0.0, rep_scale=1.0)
    assert torch.count_nonzero(post_grad) > 0 and torch.count_nonzero(prior_grad) == 0  # representation: posterior only


def test_kl_balancing_scales_the_plain_kl_gradient():
    post, prior = random_logits(seed=1), random_logits(seed=2)
    post_grad, prior_grad = _grads(post, prior)  # DreamerV3's 0.5 and 0.1
    q, p = post.clone().requires_grad_(True), prior.clone().requires_grad_(True)
    rssm.categorical_kl(q, p).mean().backward()
    assert torch.allclose(prior_grad, 0.5 * p.grad)
    assert torch.allclose(post_grad, 0.1 * q.grad)
    terms = rssm.kl_balanced_loss(post, prior)
    kl = rssm.categorical_kl(post, prior)
    assert terms.loss.item() == pytest.approx((0.6 * kl).mean().item())
    assert torch.allclose(terms.dyn, terms.rep) and torch.allclose(terms.kl, kl)


def test_free_bits_stop_the_gradient_below_one_nat():
    post = random_logits(seed=1)
    prior = post + 0.05 * random_logits(seed=2)  # close: KL far below 1 nat
    assert (rssm.categorical_kl(post, prior) < 1.0).all()
    post_grad, prior_grad = _grads(post, prior)
    assert torch.count_nonzero(post_grad) == 0 and torch.count_nonzero(prior_grad) == 0
    assert rssm.kl_balanced_loss(post, prior).loss.item() == pytest.approx(0.5 + 0.1)


def test_kl_loss_rejects_mismatched_logits():
    with pytest.raises(ShapeError, match="groups, classes"):
        rssm.kl_balanced_loss(torch.zeros(2, 4, 4), torch.zeros(2, 4, 5))


# --- the model ------------------------------------------------------------------------------------------

def small_model(seed=0, free_nats=1.0):
    torch.manual_seed(seed)
    return rssm.RSSM(rssm.RSSMConfig(deter=16, groups=4, classes=4, hidden=16, embed=8, free_nats=free_nats))


def test_observe_shapes_and_one_hot_states():
    model = small_model()
    B, T = 3, 7
    actions = torch.eye(2)[torch.randint(2, (B, T))]
    out = model.observe(torch.randn(B, T, 4), actions, torch.zeros(B, T, dtype=torch.bool))
    assert out.h.shape == (B, T, 16) and out.z.shape == (B, T, 16)
    assert out.post_logits.shape == out.prior_logits.shape == (B, T, 4, 4)
    assert torch.equal(out.z.detach().view(B, T, 4, 4).sum(-1), torch.ones(B, T, 4))


def test_is_first_resets_the_memory():
    """h at a first step must not depend on what came before it: the state restarts from zeros."""
    model = small_model()
    obs = torch.randn(2, 6, 4)
    obs[1, :3] = 5 * torch.randn(3, 4)  # a different past for the second sequence
    actions = torch.eye(2)[torch.tensor([[0, 1, 0, 1, 1, 0], [1, 1, 1, 0, 1, 0]])]
    first = torch.zeros(2, 6, dtype=torch.bool)
    first[:, 3] = True
    with torch.no_grad():
        out = model.observe(obs, actions, first, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out.h[0, 3], out.h[1, 3])
    assert not torch.allclose(out.h[0, 2], out.h[1, 2])


def test_loss_trains_every_part_and_rejects_bad_shapes():
    model = small_model(free_nats=0.0)  # an untrained prior and posterior agree to within a nat: no free bits here
    B, T = 4, 5
    obs, actions = torch.randn(B, T, 4), torch.eye(2)[torch.randint(2, (B, T))]
    total, parts, _ = model.loss(obs, actions, torch.ones(B, T), torch.zeros(B, T, dtype=torch.bool),
                                 torch.zeros(B, T, dtype=torch.bool))
    total.backward()
    assert set(parts) >= {"decoder", "reward", "cont", "kl", "dyn", "rep"}
    for name in ("encoder", "gru", "prior_net", "post_net", "decoder", "reward_head", "cont_head"):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in getattr(model, name).parameters()), name
    with pytest.raises(ShapeError, match="batch, time, 4"):
        model.observe(torch.randn(B, 4), actions, torch.zeros(B, T, dtype=torch.bool))
    with pytest.raises(ShapeError, match="one-hot"):
        model.observe(obs, torch.zeros(B, T, 3), torch.zeros(B, T, dtype=torch.bool))
