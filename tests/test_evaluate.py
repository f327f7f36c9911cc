import numpy as np
import pytest

from wmcourse.errors import SettingsError
from wmcourse.real import evaluate


class AlwaysLeft:
    def act(self, obs):
        return np.zeros(len(obs), dtype=np.int64)

    def reset(self, done):
        pass


def test_random_cartpole_scores_about_twenty():
    result = evaluate.evaluate("CartPole-v1", None, episodes=60, seed=1, num_envs=3, progress=False)
    assert len(result.returns) == 60
    assert 12 < result.mean < 35  # random CartPole lasts about 22 steps
    assert result.steps == result.lengths.sum()
    np.testing.assert_allclose(result.returns, result.lengths)  # CartPole pays 1 a step


def test_a_fixed_policy_is_worse_than_random():
    left = evaluate.evaluate("CartPole-v1", AlwaysLeft(), episodes=20, num_envs=2, progress=False)
    assert left.mean < 12


def test_seeded_evaluation_repeats():
    a = evaluate.evaluate("CartPole-v1", None, episodes=10, seed=3, num_envs=2, progress=False)
    b = evaluate.evaluate("CartPole-v1", None, episodes=10, seed=3, num_envs=2, progress=False)
    np.testing.assert_array_equal(np.sort(a.returns), np.sort(b.returns))


def test_episode_count_must_be_positive():
    with pytest.raises(SettingsError, match="at least 1"):
        evaluate.evaluate("CartPole-v1", None, episodes=0)


def test_max_steps_cuts_every_episode_there_and_is_checked():
    """The quick tests' cap on a real episode: a random CarRacing episode never ends by itself within 40 steps, so
    every one ends at exactly 40 (and the next starts fresh); a cap below 1 is refused."""
    result = evaluate.evaluate("CarRacing-v3", None, 3, seed=3, num_envs=1, progress=False, max_steps=40)
    assert result.lengths.tolist() == [40, 40, 40] and result.steps == 120
    with pytest.raises(SettingsError, match="max_steps must be at least 1"):
        evaluate.evaluate("CarRacing-v3", None, 1, max_steps=0, progress=False)
