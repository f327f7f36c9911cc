"""The compact DQN: its target, its exploration schedule, and that it learns CartPole."""

import numpy as np
import pytest
import torch
from torch import nn

from wmcourse.artefacts import data_dir
from wmcourse.baselines import dqn
from wmcourse.errors import SettingsError
from wmcourse.real import evaluate

torch.set_num_threads(1)


def test_td_loss_is_huber_of_the_one_step_target():
    q, q_target = nn.Linear(1, 2, bias=False), nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        q.weight.copy_(torch.tensor([[1.0], [2.0]]))          # Q(s) = (s, 2 s)
        q_target.weight.copy_(torch.tensor([[3.0], [-1.0]]))  # Q_target(s') = (3 s', -s')
    batch = {"obs": torch.tensor([[1.0], [1.0]]), "action": torch.tensor([0, 1]), "reward": torch.tensor([1.0, 1.0]),
             "next_obs": torch.tensor([[2.0], [2.0]]), "done": torch.tensor([0.0, 1.0])}
    # targets: 1 + 0.5 * max(6, -2) = 4 (not done) and 1 (done: no bootstrap); predictions Q(s, a) = 1 and 2
    errors = torch.tensor([1.0 - 4.0, 2.0 - 1.0])
    huber = torch.where(errors.abs() < 1, 0.5 * errors ** 2, errors.abs() - 0.5).mean()
    assert torch.isclose(dqn.td_loss(q, q_target, batch, gamma=0.5), huber)


def test_epsilon_falls_linearly_then_stays():
    config = dqn.DQNConfig(steps=1000, exploration_fraction=0.2, epsilon_final=0.05)
    assert dqn.epsilon_at(0, config) == 1.0
    assert np.isclose(dqn.epsilon_at(100, config), 0.525)
    assert np.isclose(dqn.epsilon_at(200, config), 0.05) and np.isclose(dqn.epsilon_at(900, config), 0.05)


def test_dqn_beats_a_random_policy():
    config = dqn.DQNConfig(steps=4000, hidden=64, learning_starts=400, train_freq=50, gradient_steps=20,
                           exploration_fraction=0.25)
    q, curve = dqn.train_dqn(config=config, seed=0, eval_every=4000, eval_episodes=10, progress=False)
    assert [p["steps"] for p in curve] == [4000]
    score = evaluate.evaluate("CartPole-v1", dqn.GreedyPolicy(q), 10, seed=5, num_envs=10, progress=False).mean
    assert score > 60  # a random policy scores about 22


def test_bad_budget_is_refused():
    with pytest.raises(SettingsError, match="positive"):
        dqn.train_dqn(config=dqn.DQNConfig(steps=0), progress=False)


@pytest.mark.skipif(not (data_dir() / "cartpole_dqn.pt").exists(), reason="run `python -m wmcourse cartpole` first")
def test_shipped_dqn_scores_what_the_table_says():
    from wmcourse.experiments import cartpole as ce

    row = next(r for r in ce.load_cartpole_results()["rows"] if r["name"] == "dqn")
    result = evaluate.evaluate("CartPole-v1", dqn.GreedyPolicy(ce.load_shipped_dqn()), 10, seed=100_000, num_envs=10,
                               progress=False)
    assert abs(result.mean - row["real_mean"]) < max(3 * row["real_std"], 25)
