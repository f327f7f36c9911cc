"""Notebook 05's exercise: the learner writes the dream rollout. The checker accepts any correct rollout (three
written differently here, one with torch.distributions, one that drops finished dreams from its batch) and names
each usual mistake in a sentence."""

import pytest
import torch

from wmcourse.lessons import n05_take_cover as lesson
from wmcourse.worldmodels import mdn


def _tempered_sample(out, tau):
    log_pi = torch.log_softmax(out.log_pi / tau, dim=-1)
    k = torch.distributions.Categorical(logits=log_pi).sample().unsqueeze(-1)
    mu = out.mu.gather(-1, k).squeeze(-1)
    sigma = out.log_sigma.gather(-1, k).squeeze(-1).exp() * tau ** 0.5
    return mu + sigma * torch.randn_like(mu)


def rollout(m, policy, z0, tau, max_steps, *, sample=_tempered_sample, features=None, update_memory=True,
            stop_on_done=True, mask=True, count_last=True, threshold=None, stop_all=False):
    """The solution, with one switch per mistake (every switch at its default is correct)."""
    h, c = m.initial_state(len(z0))
    z, score = z0, torch.zeros(len(z0))
    alive = torch.ones(len(z0), dtype=torch.bool)
    for _ in range(max_steps):
        shown = features(z, h, c) if features else torch.cat([z, h, c], dim=-1)
        action = policy(shown)
        out, state = m.step(z, action, (h, c))
        if update_memory:
            h, c = state
        ends = (out.done_logit > 0.5) if threshold == "logit" else (torch.sigmoid(out.done_logit) > 0.5)
        if not count_last:
            alive &= ~ends
        score += alive.float() if mask else torch.ones(len(z0))
        if count_last:
            alive &= ~ends
        if stop_on_done and (not alive.any() or (stop_all and (~alive).any())):
            break
        z = sample(out, tau)
    return score


def distributions_rollout(m, policy, z0, tau, max_steps):
    """Written with torch.distributions, a done counter instead of a mask, and no early exit."""
    h, c = m.initial_state(len(z0))
    z = z0
    ended_at = torch.full((len(z0),), float(max_steps))
    for t in range(max_steps):
        out, (h, c) = m.step(z, policy(torch.cat([z, h, c], dim=-1)), (h, c))
        ends = torch.distributions.Bernoulli(logits=out.done_logit).probs > 0.5
        ended_at = torch.where(ends & (ended_at == max_steps), torch.tensor(float(t + 1)), ended_at)
        mixture = torch.distributions.MixtureSameFamily(
            torch.distributions.Categorical(logits=out.log_pi / tau),
            torch.distributions.Normal(out.mu, out.log_sigma.exp() * tau ** 0.5))
        z = mixture.sample()
    return ended_at


def compacting_rollout(m, policy, z0, tau, max_steps):
    """Correct on its own, but it drops finished dreams from the batch, which the population's C cannot follow."""
    h, c = m.initial_state(len(z0))
    z, score, rows = z0, torch.zeros(len(z0)), torch.arange(len(z0))
    for _ in range(max_steps):
        out, (h, c) = m.step(z, policy(torch.cat([z, h, c], dim=-1)), (h, c))
        score[rows] += 1
        keep = torch.sigmoid(out.done_logit) <= 0.5
        if not keep.any():
            break
        z = mdn.sample(out.log_pi, out.mu, out.log_sigma, tau)[keep]
        h, c, rows = h[keep], c[keep], rows[keep]
    return score


def package_rollout(m, policy, z0, tau, max_steps):
    """Sampling with the package's inverse-CDF sampler (wmcourse.worldmodels.mdn.sample)."""
    return rollout(m, policy, z0, tau, max_steps,
                   sample=lambda out, t: mdn.sample(out.log_pi, out.mu, out.log_sigma, t))


@pytest.mark.parametrize("correct", [rollout, distributions_rollout, package_rollout])
def test_any_correct_rollout_passes(correct):
    assert lesson.dream_rollout.problem(correct) is None


def _mean_fed_back(out, tau):
    k = out.log_pi.argmax(dim=-1, keepdim=True)
    return out.mu.gather(-1, k).squeeze(-1)


def _one_component_for_all_dimensions(out, tau):
    log_pi = torch.log_softmax(out.log_pi[:, 0] / tau, dim=-1)
    k = torch.distributions.Categorical(logits=log_pi).sample()[:, None, None].expand(-1, out.mu.shape[1], 1)
    return out.mu.gather(-1, k).squeeze(-1) + out.log_sigma.gather(-1, k).squeeze(-1).exp() * tau ** 0.5 * \
        torch.randn(out.mu.shape[:2])


def _sample_with(sigma_tau, pi_tau):
    def sample(out, tau):
        log_pi = torch.log_softmax(out.log_pi / pi_tau(tau), dim=-1)
        k = torch.distributions.Categorical(logits=log_pi).sample().unsqueeze(-1)
        sigma = out.log_sigma.gather(-1, k).squeeze(-1).exp() * sigma_tau(tau)
        return out.mu.gather(-1, k).squeeze(-1) + sigma * torch.randn(k.shape[:-1])
    return sample


MISTAKES = {
    "a mean": dict(sample=_mean_fed_back),
    "its own mixture": dict(sample=_one_component_for_all_dimensions),
    "forgot the temperature on sigma": dict(sample=_sample_with(lambda t: 1.0, lambda t: t)),
    "not with tau itself": dict(sample=_sample_with(lambda t: t, lambda t: t)),
    "forgot the temperature on the mixture weights": dict(sample=_sample_with(lambda t: t ** 0.5, lambda t: 1.0)),
    "the other way": dict(sample=_sample_with(lambda t: t ** 0.5, lambda t: 1 / t)),
    "had not updated": dict(update_memory=False),
    "[z, h, c]": dict(features=lambda z, h, c: torch.cat([z, h], dim=-1)),
    "wrong order": dict(features=lambda z, h, c: torch.cat([z, c, h], dim=-1)),
    "never end": dict(stop_on_done=False, mask=False),
    "earned more": dict(mask=False),
    "first one ended": dict(stop_all=True, mask=False),
    "Count the step": dict(count_last=False),
    "is a logit": dict(threshold="logit"),
}


@pytest.mark.parametrize("words", MISTAKES)
def test_each_usual_mistake_is_named(words):
    problem = lesson.dream_rollout.problem(lambda *args: rollout(*args, **MISTAKES[words]))
    assert problem is not None and words in problem, problem


def test_answers_that_are_not_rollouts_are_told_what_is_expected():
    assert "function" in lesson.dream_rollout.problem(42)
    assert "None" in lesson.dream_rollout.problem(lambda *args: None)
    assert "Not attempted" in lesson.dream_rollout.problem(...)
    assert "shape" in lesson.dream_rollout.problem(lambda m, policy, z0, tau, n: torch.zeros(len(z0), 2))
    assert "every dream in the batch" in lesson.dream_rollout.problem(compacting_rollout)


@pytest.mark.timeout(600)
def test_a_controller_evolved_with_the_rollout_in_the_dream_outlives_random_play_in_the_real_game():
    """Notebook 05's cell in fast mode: CMA-ES with the rollout (the solution) in the shipped M's dream, then the
    real Take Cover on the notebook's episodes, beside random play on the same episodes."""
    from wmcourse.experiments import takecover

    v, m, starts = takecover.load_shipped_models()
    params, config, history = lesson.evolve_with(lesson.reference_rollout, m, starts, tau=1.15,
                                                 **lesson.LEARNER_SEARCH_FAST)
    assert len(history) == lesson.LEARNER_SEARCH_FAST["generations"]
    mine, random = lesson.real_survival(v, m, params, config, episodes=lesson.learner_episodes(fast=True))
    assert mine.mean() > random.mean(), (mine, random)


@pytest.mark.parametrize("correct", [lambda s, p, d: s.view(p, d).mean(dim=1),
                                     lambda s, p, d: [float(s[i * d:(i + 1) * d].mean()) for i in range(p)]])
def test_the_fitness_checker_accepts_any_average_per_candidate(correct):
    assert lesson.fitness_exercise.problem(correct) is None


@pytest.mark.parametrize("wrong, words", [
    (lambda s, p, d: s.view(d, p).mean(dim=0), "mixed up"),
    (lambda s, p, d: s.view(p, d).max(dim=1).values, "luck"),
    (lambda s, p, d: s.view(p, d).sum(dim=1), "not their sum"),
    (lambda s, p, d: s.view(p, d).median(dim=1).values, "median"),
    (lambda s, p, d: s.mean(), "one number per candidate"),
])
def test_the_fitness_checker_names_each_mistake(wrong, words):
    assert words in lesson.fitness_exercise.problem(wrong)
