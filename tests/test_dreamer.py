"""The Dreamer agent: lambda-returns against hand-computed numbers, imagination, the replay buffer, the
policy in the real environment, checkpoints, a tiny training run with resume, and the notebook-07 checkers."""

import json

import numpy as np
import pytest
import torch

from wmcourse import checkers, dreamer
from wmcourse.cli import build_parser
from wmcourse.errors import CourseError, MissingArtefactError, ShapeError
from wmcourse.rssm import RSSMConfig


def tiny_config(**overrides):
    fields = dict(steps=240, prefill=80, train_every=20, batch=4, seq_len=8, horizon=5, imagine_starts=16,
                  eval_every=120, eval_episodes=2, final_episodes=3,
                  rssm=RSSMConfig(deter=16, groups=4, classes=4, hidden=16, embed=8))
    return dreamer.DreamerConfig(**{**fields, **overrides})


# --- lambda-returns -------------------------------------------------------------------------------------

def test_lambda_returns_match_a_hand_computed_example():
    # gamma = 0.5, lam = 0.5, r = (1, 2), v = (ignored, 3, 4):
    # R_2 = v_2 = 4;  R_1 = 2 + 0.5 * (0.5 * 4 + 0.5 * 4) = 4;  R_0 = 1 + 0.5 * (0.5 * 3 + 0.5 * 4) = 2.75
    rewards, values = torch.tensor([1.0, 2.0]), torch.tensor([99.0, 3.0, 4.0])
    out = dreamer.lambda_returns(rewards, values, torch.ones(2), gamma=0.5, lam=0.5)
    assert torch.allclose(out, torch.tensor([2.75, 4.0]))
    # the episode ends on the second step: R_1 = 2 (nothing after it), R_0 = 1 + 0.5 * (0.5 * 3 + 0.5 * 2) = 2.25
    out = dreamer.lambda_returns(rewards, values, torch.tensor([1.0, 0.0]), gamma=0.5, lam=0.5)
    assert torch.allclose(out, torch.tensor([2.25, 2.0]))
    # the notebook's exercise: r = (1, 1), v = (., 10, 20), gamma 0.9, lam 0.5 -> R_0 = 14.05
    out = dreamer.lambda_returns(torch.ones(2), torch.tensor([0.0, 10.0, 20.0]), torch.ones(2), gamma=0.9, lam=0.5)
    assert out[0].item() == pytest.approx(14.05)
    assert checkers.lambda_by_hand.problem(14.05) is None and checkers.lambda_by_hand.problem(19.0) is not None


def test_lambda_zero_is_td_and_lambda_one_is_the_discounted_sum():
    g = torch.Generator().manual_seed(0)
    H, N, gamma = 5, 3, 0.9
    rewards = torch.randn(H, N, generator=g, dtype=torch.float64)
    values = torch.randn(H + 1, N, generator=g, dtype=torch.float64)
    continues = torch.ones(H, N, dtype=torch.float64)
    td = dreamer.lambda_returns(rewards, values, continues, gamma, lam=0.0)
    assert torch.allclose(td, rewards + gamma * values[1:])
    mc = dreamer.lambda_returns(rewards, values, continues, gamma, lam=1.0)
    discounts = gamma ** torch.arange(H, dtype=torch.float64)[:, None]
    assert torch.allclose(mc[0], (discounts * rewards).sum(0) + gamma ** H * values[-1])


def test_lambda_returns_reject_bad_shapes_and_settings():
    with pytest.raises(ShapeError, match="H \\+ 1"):
        dreamer.lambda_returns(torch.ones(3), torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="lam"):
        dreamer.lambda_returns(torch.ones(3), torch.ones(4), torch.ones(3), lam=1.5)


# --- the agent's parts ----------------------------------------------------------------------------------

def test_imagination_shapes_and_one_hot_actions():
    torch.manual_seed(0)
    agent = dreamer.Dreamer(tiny_config())
    start = agent.world_model.initial(7)
    feats, actions = dreamer.imagine(agent, start, 5, torch.Generator().manual_seed(0))
    assert feats.shape == (6, 7, 16 + 16) and actions.shape == (5, 7, 2)
    assert torch.equal(actions.sum(-1), torch.ones(5, 7))
    assert not feats.requires_grad  # the dream builds no graph: the actor learns by REINFORCE


def test_replay_samples_contiguous_sequences_that_start_fresh():
    replay = dreamer.Replay(100, 4, 2)
    for i in range(50):
        replay.add(np.full(4, i, np.float32), np.eye(2, dtype=np.float32)[i % 2], 1.0, i % 10 == 0, i % 10 == 9)
    batch = replay.sample(6, 8, np.random.default_rng(0))
    assert batch["obs"].shape == (6, 8, 4) and batch["prev_action"].shape == (6, 8, 2)
    steps = batch["obs"][..., 0]
    assert torch.equal(steps[:, 1:] - steps[:, :-1], torch.ones(6, 7))  # consecutive steps
    assert batch["is_first"][:, 0].all()
    assert torch.equal(batch["is_terminal"], (steps % 10 == 9))
    with pytest.raises(CourseError, match="fewer than one sequence"):
        dreamer.Replay(10, 4, 2).sample(1, 8, np.random.default_rng(0))


def test_one_update_moves_every_network_and_the_slow_critic_follows():
    torch.manual_seed(0)
    config = tiny_config()
    agent = dreamer.Dreamer(config)
    learner = dreamer.Learner(agent)
    replay = dreamer.Replay(200, 4, 2)
    rng = np.random.default_rng(0)
    for i in range(100):
        replay.add(rng.normal(size=4).astype(np.float32), np.eye(2, dtype=np.float32)[i % 2], 1.0,
                   i % 25 == 0, i % 25 == 24)
    before = {k: v.clone() for k, v in agent.state_dict().items()}
    metrics = learner.update(replay.sample(4, 8, rng), torch.Generator().manual_seed(0))
    after = agent.state_dict()
    for part in ("world_model.gru.weight_hh", "actor.0.weight", "critic.0.weight", "slow_critic.0.weight"):
        assert not torch.equal(before[part], after[part]), part
    moved = after["slow_critic.0.weight"] - before["slow_critic.0.weight"]
    towards = after["critic.0.weight"] - before["slow_critic.0.weight"]
    assert torch.allclose(moved, config.target_rate * towards, atol=1e-7)
    assert {"decoder", "kl", "actor_loss", "critic_loss", "imagined_return"} <= set(metrics)


def test_policy_acts_on_batches_and_rejects_bad_observations():
    agent = dreamer.Dreamer(tiny_config())
    policy = dreamer.DreamerPolicy(agent, seed=0)
    policy.reset(np.ones(3, bool))
    actions = policy.act(np.zeros((3, 4), np.float32))
    assert actions.shape == (3,) and set(actions.tolist()) <= {0, 1}
    with pytest.raises(ShapeError, match="observations"):
        policy.act(np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="mode"):
        dreamer.DreamerPolicy(agent, mode="best")


def test_agent_checkpoint_round_trip_in_float16(tmp_path):
    torch.manual_seed(0)
    agent = dreamer.Dreamer(tiny_config())
    path = dreamer.save_agent(agent, tmp_path / "a.pt", half=True)
    loaded = dreamer.load_agent(path)
    feat = torch.randn(5, 32)
    assert torch.allclose(loaded.actor(feat), agent.actor(feat), atol=1e-2)
    assert loaded.config == agent.config
    with pytest.raises(MissingArtefactError, match="python -m wmcourse dreamer"):
        dreamer.load_agent(tmp_path / "missing.pt")


# --- training -------------------------------------------------------------------------------------------

def test_tiny_training_run_writes_a_curve_and_resumes(tmp_path):
    config = tiny_config()
    results = dreamer.train(config, tmp_path / "run", resume=False, progress=False)
    assert [p["step"] for p in results["curve"]] == [120, 240]
    assert results["real_steps"] == 240 and results["updates"] == (240 - 80) // 20 + 1
    assert results["final"]["episodes"] == 3 and len(results["final"]["returns"]) == 3
    assert results["parameters"]["total (trained)"] == sum(
        v for k, v in results["parameters"].items() if k != "total (trained)")
    again = dreamer.train(config, tmp_path / "run", resume=True, progress=False)  # already finished: nothing to redo
    assert again["curve"] == results["curve"] and again["updates"] == results["updates"]
    with pytest.raises(CourseError, match="another configuration"):
        dreamer.train(tiny_config(seed=1), tmp_path / "run", resume=True, progress=False)
    paths = dreamer.write_results(results, tmp_path / "out" / "r.json", tmp_path / "run", "test")
    loaded = dreamer.load_results(paths[0])
    assert loaded["command"] == "test" and loaded["curve"] == results["curve"]
    assert dreamer.load_agent(paths[1]).config == config


def test_load_results_names_the_command_when_missing(tmp_path):
    with pytest.raises(MissingArtefactError, match="python -m wmcourse dreamer"):
        dreamer.load_results(tmp_path / "nothing.json")
    (tmp_path / "bad.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ShapeError, match="not a Dreamer results file"):
        dreamer.load_results(tmp_path / "bad.json")


def test_cli_has_the_dreamer_command():
    args = build_parser().parse_args(["dreamer", "--env", "CartPole-v1", "--steps", "100", "--out", "x.json"])
    assert args.steps == 100 and args.out == "x.json" and args.run.__name__ == "_cmd_dreamer"


def test_config_rejects_unknown_envs_and_empty_budgets():
    with pytest.raises(CourseError, match="Unknown environment"):
        dreamer.DreamerConfig(env_id="cartpole")
    with pytest.raises(ValueError, match="steps"):
        dreamer.DreamerConfig(steps=0)


# --- the notebook's checkers ----------------------------------------------------------------------------

def test_straight_through_checker():
    ex = checkers.straight_through
    assert ex.problem(lambda one_hot, probs: one_hot + (probs - probs.detach())) is None
    assert "gradient" in ex.problem(lambda one_hot, probs: one_hot)
    assert "one-hot" in ex.problem(lambda one_hot, probs: probs)
    assert "wrong sign" in ex.problem(lambda one_hot, probs: one_hot - probs + probs.detach())
    assert "Not attempted" in ex.problem(...)


def test_lambda_returns_checker_accepts_the_package_and_names_mistakes():
    ex = checkers.lambda_returns_exercise
    assert ex.problem(dreamer.lambda_returns) is None
    assert "continues" in ex.problem(lambda r, v, c, g, l: dreamer.lambda_returns(r, v, torch.ones_like(c), g, l))
    assert "swapped" in ex.problem(lambda r, v, c, g, l: dreamer.lambda_returns(r, v, c, g, 1 - l))
    assert "shape" in ex.problem(lambda r, v, c, g, l: r[0])
