"""The Dreamer agent: lambda-returns against hand-computed numbers, imagination, the replay buffer, the
policy in the real environment, checkpoints, a tiny training run with resume, and the notebook-08 checkers."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from wmcourse.cli.main import build_parser
from wmcourse.dreamer import agent as dreamer
from wmcourse.dreamer import probes as dreamer_probes
from wmcourse.dreamer import train as dreamer_training
from wmcourse.dreamer.rssm import RSSMConfig
from wmcourse.errors import CorruptArtefactError, CourseError, MissingArtefactError, SettingsError, ShapeError
from wmcourse.experiments import dreamer_comparison
from wmcourse.lessons import n08_dreamer


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
    assert n08_dreamer.lambda_by_hand.problem(14.05) is None and n08_dreamer.lambda_by_hand.problem(19.0) is not None


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
    with pytest.raises(SettingsError, match="lam"):
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
    replay = dreamer_training.Replay(100, 4, 2)
    for i in range(50):
        replay.add(np.full(4, i, np.float32), np.eye(2, dtype=np.float32)[i % 2], 1.0, i % 10 == 0, i % 10 == 9)
    batch = replay.sample(6, 8, np.random.default_rng(0))
    assert batch["obs"].shape == (6, 8, 4) and batch["prev_action"].shape == (6, 8, 2)
    steps = batch["obs"][..., 0]
    assert torch.equal(steps[:, 1:] - steps[:, :-1], torch.ones(6, 7))  # consecutive steps
    assert batch["is_first"][:, 0].all()
    assert torch.equal(batch["is_terminal"], (steps % 10 == 9))
    with pytest.raises(CourseError, match="fewer than one sequence"):
        dreamer_training.Replay(10, 4, 2).sample(1, 8, np.random.default_rng(0))


def test_one_update_moves_every_network_and_the_slow_critic_follows():
    torch.manual_seed(0)
    config = tiny_config()
    agent = dreamer.Dreamer(config)
    learner = dreamer.Learner(agent)
    replay = dreamer_training.Replay(200, 4, 2)
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
    with pytest.raises(SettingsError, match="mode"):
        dreamer.DreamerPolicy(agent, mode="best")


def test_agent_checkpoint_round_trip_in_float16(tmp_path):
    torch.manual_seed(0)
    agent = dreamer.Dreamer(tiny_config())
    path = dreamer_training.save_agent(agent, tmp_path / "a.pt", half=True)
    loaded = dreamer_training.load_agent(path)
    feat = torch.randn(5, 32)
    assert torch.allclose(loaded.actor(feat), agent.actor(feat), atol=1e-2)
    assert loaded.config == agent.config
    with pytest.raises(MissingArtefactError, match="python -m wmcourse dreamer"):
        dreamer_training.load_agent(tmp_path / "missing.pt")


# --- training -------------------------------------------------------------------------------------------

def test_tiny_training_run_writes_a_curve_and_resumes(tmp_path):
    config = tiny_config()
    results = dreamer_training.train(config, tmp_path / "run", resume=False, progress=False)
    assert [p["steps"] for p in results["curve"]] == [120, 240]
    assert results["real_steps"] == 240 and results["updates"] == (240 - 80) // 20 + 1
    assert results["final"]["episodes"] == 3 and len(results["final"]["returns"]) == 3
    assert results["parameters"]["total (trained)"] == sum(
        v for k, v in results["parameters"].items() if k != "total (trained)")
    # already finished: nothing to redo
    again = dreamer_training.train(config, tmp_path / "run", resume=True, progress=False)
    assert again["curve"] == results["curve"] and again["updates"] == results["updates"]
    with pytest.raises(CourseError, match="other settings"):
        dreamer_training.train(tiny_config(seed=1), tmp_path / "run", resume=True, progress=False)
    paths = dreamer_training.write_results(results, tmp_path / "out" / "r.json", tmp_path / "run", "test")
    loaded = dreamer_training.load_dreamer_results(paths[0])
    assert loaded["command"] == "test" and loaded["curve"] == results["curve"]
    assert dreamer_training.load_agent(paths[1]).config == config


def test_load_dreamer_results_names_the_command_when_missing(tmp_path):
    with pytest.raises(MissingArtefactError, match="python -m wmcourse dreamer"):
        dreamer_training.load_dreamer_results(tmp_path / "nothing.json")
    (tmp_path / "bad.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ShapeError, match="not a Dreamer results file"):
        dreamer_training.load_dreamer_results(tmp_path / "bad.json")


def test_shipped_results_are_checked_and_their_old_step_points_read_as_steps(tmp_path, monkeypatch):
    from wmcourse import artefacts

    monkeypatch.setenv("WMCOURSE_DATA", str(tmp_path))
    old = {"format": dreamer_training.FORMAT, "config": {"seed": 0, "gamma": 0.99},
           "curve": [{"step": 2500, "mean": 183.9, "std": 34.7, "train_mean": 25.7}]}  # as data/ ships it
    path = tmp_path / dreamer_training.GAMMA_099_NAME
    path.write_text(json.dumps(old))
    artefacts.record(path, dreamer_training.GAMMA_099_COMMAND, 0, {})
    assert dreamer_training.load_dreamer_results(path)["curve"] == [
        {"steps": 2500, "mean": 183.9, "std": 34.7, "train_mean": 25.7}]
    runs = dreamer_comparison.dreamer_runs({"config": {"gamma": 0.997, "seed": 0}})  # finds the γ = 0.99 run in data/
    assert runs["Dreamer (γ = 0.99)"]["curve"][0]["steps"] == 2500
    curves = dreamer_comparison.curves_over_seeds({"Dreamer (γ = 0.99)": runs["Dreamer (γ = 0.99)"]}, {"curves": {}})
    assert curves["Dreamer (γ = 0.99)"]["steps"] == [2500]
    path.write_text(json.dumps({**old, "final": 1}))  # altered after the manifest recorded it
    with pytest.raises(CorruptArtefactError, match="gamma 0.99"):
        dreamer_training.load_dreamer_results(path)
    with pytest.raises(MissingArtefactError, match="--out data/dreamer_cartpole.json"):
        dreamer_training.load_dreamer_results()  # the default: data/dreamer_cartpole.json, not shipped here
    with pytest.raises(MissingArtefactError, match="--out data/dreamer_cartpole.json"):
        dreamer_training.load_agent()


def test_cli_has_the_dreamer_command():
    args = build_parser().parse_args(["dreamer", "--env", "CartPole-v1", "--steps", "100", "--out", "x.json"])
    assert args.steps == 100 and args.out == "x.json" and args.run.__name__ == "cmd_dreamer"


def test_config_rejects_unknown_envs_and_empty_budgets():
    with pytest.raises(CourseError, match="Unknown environment"):
        dreamer.DreamerConfig(env_id="cartpole")
    with pytest.raises(SettingsError, match="steps"):
        dreamer.DreamerConfig(steps=0)


# --- the dream against reality (dreamer_probes) ---------------------------------------------------------------

def test_probes_of_an_untrained_agent_have_the_right_shapes():
    agent = dreamer.Dreamer(tiny_config()).eval()
    starts = np.random.default_rng(0).normal(scale=0.05, size=(6, 4)).astype(np.float32)
    scores = dreamer_probes.dream_returns(agent, starts, max_steps=20, seed=0)
    assert scores.shape == (6,) and np.isfinite(scores).all()
    with pytest.raises(ShapeError, match="start observations"):
        dreamer_probes.dream_returns(agent, starts[:, :3])
    states, actions, total = dreamer_probes.play_episode(agent, seed=1)
    assert states.shape == (len(actions) + 1, 4) and total == len(actions)  # CartPole pays 1 a step
    error = dreamer_probes.open_loop_error(agent, states, actions, context=3)
    assert error.shape == (len(states) - 3, 4) and (error >= 0).all()
    lines = dreamer_probes.drift_report(states, error, at=5)
    assert len(lines) == 4 and lines[2].strip().startswith("theta:") and "error at 5 steps" in lines[0]
    ax = n08_dreamer.plot_open_loop_error(error, horizon=5, title="t")
    assert len(ax.get_lines()) == 5 and ax.get_xscale() == "log"  # 4 state numbers and the horizon


def test_drift_report_names_the_first_step_the_error_passes_the_spread():
    states = np.array([[0.0, 0, 0, 0], [2.0, 0, 0, 0]] * 5)  # x has std 1, the others 0
    error = np.zeros((10, 4))
    error[3:, 0] = 1.5
    lines = dreamer_probes.drift_report(states, error)
    assert "after 4 dreamed steps" in lines[0] and "after 4 dreamed steps" not in lines[2]


# --- Dreamer next to World Models (dreamer_comparison) -------------------------------------------------------

def _run(gamma, curve_means, final=(500.0, 0.0)):
    return {"config": {"gamma": gamma, "seed": 0}, "final": {"mean": final[0], "std": final[1], "episodes": 100},
            "real_steps": 50_000, "train_seconds": 3060.0, "train_cpu_seconds": 1020.0,
            "parameters": {"world model": 100_000, "actor": 10_000, "critic": 9_081, "total (trained)": 119_081},
            "curve": [{"steps": 2500 * (i + 1), "mean": m, "std": 0.0} for i, m in enumerate(curve_means)]}


OVER_SEEDS = {"fixed_variant": "iterative_head", "failure_variant": "random_head", "budget": 50_000, "curves": {},
              "rows": [{"name": "random_head", "steps": 10_000,
                        "real": {"mean": 262.7, "std": 137.5, "min": 126.0, "max": 500.0, "n": 5},
                        "dream": {"mean": 500.0}},
                       {"name": "dqn", "steps": 50_000, "real": {"mean": 436.3, "std": 127.4, "min": 181, "max": 500,
                                                                 "n": 5}, "dream": None}]}


def test_results_table_has_a_row_per_run_and_per_world_models_agent():
    runs = {"Dreamer (γ = 0.997)": _run(0.997, [100, 480, 444, 500])}
    table = dreamer_comparison.results_table(runs, OVER_SEEDS, sizes={"DQN": 67_586})
    lines = table.splitlines()
    assert lines[0].startswith("| agent | real score (final)") and len(lines) == 2 + 1 + 2
    assert lines[2] == "| Dreamer (γ = 0.997) | 500.0 ± 0.0 | 50,000 | 51 min | 17 min | 119,081 |"
    assert lines[3].startswith("| World Models, random data (5 seeds") and "262.7 ± 137.5 (126–500)" in lines[3]
    assert lines[3].endswith("| 10,000 | - | - | - |") and lines[4].endswith("| 67,586 |")
    assert dreamer_comparison.results_table(runs).count("\n") == 3  # without the table over seeds: Dreamer only


def test_the_default_dreamer_over_its_seeds_gets_one_row_and_one_band():
    runs = {"Dreamer (γ = 0.997)": _run(0.997, [100, 500])}
    seed_runs = {0: _run(0.997, [100, 500]), 1: _run(0.997, [200, 400], final=(480.0, 5.0)),
                 2: {**_run(0.997, [300, 450], final=(490.0, 1.0)), "train_seconds": 1080.0}}
    table = dreamer_comparison.results_table(runs, sizes={}, seed_runs=seed_runs).splitlines()
    assert table[3] == ("| Dreamer (γ = 0.997) (3 seeds: mean ± std across seeds, lowest–highest) | 490.0 ± 8.2 "
                        "(480–500) | 50,000 | 18–51 min | 17–17 min | 119,081 |")
    curves = dreamer_comparison.curves_over_seeds(runs, {"curves": {}}, seed_runs=seed_runs)
    assert curves["Dreamer (γ = 0.997)"]["mean"] == [200.0, 450.0]
    assert curves["Dreamer (γ = 0.997)"]["per_seed"]["1"] == [200.0, 400.0]


def test_the_shipped_seed_runs_are_the_default_settings_with_another_seed():
    seed_runs = dreamer_comparison.dreamer_seed_runs()
    assert sorted(seed_runs) == [0, 1, 2]
    settings = [{k: v for k, v in r["config"].items() if k != "seed"} for r in seed_runs.values()]
    assert all(s == settings[0] for s in settings) and [r["config"]["seed"] for r in seed_runs.values()] == [0, 1, 2]


def test_first_solved_and_the_design_table():
    runs = {"a": _run(0.997, [100, 480, 444, 500]), "b": _run(0.99, [100, 200])}
    assert dreamer_comparison.first_solved(runs) == [
        "a: first at 475+ after 5,000 real steps; lowest evaluation after that 444 (at 7,500 steps)"]
    results = {**_run(0.997, [500]), "config": {**dataclasses.asdict(dreamer.DreamerConfig())}}
    table = dreamer_comparison.design_table(results, OVER_SEEDS, dream_score=390.4, real_score=499.1)
    rows = table.splitlines()
    assert len(rows) == 2 + 9 and rows[0].startswith("| | World Models | Dreamer |")
    assert "8 x 8 one-hot" in table and "actor 10,000 parameters" in table
    assert "Dreamer: dream 390 vs real 499; World Models on random data: dream 500 vs real 263" in table


def test_curves_over_seeds_fall_back_to_the_single_run():
    runs = {"Dreamer": _run(0.997, [100, 500])}
    single = {"seed": 3, "curves": {"wm_iterative": [{"steps": 1000, "mean": 50.0, "std": 1.0}],
                                    "dqn": [{"steps": 1000, "mean": 20.0, "std": 1.0}]}}
    curves = dreamer_comparison.curves_over_seeds(runs, {"curves": {"dqn": {"x": [1], "mean": [1]}}}, single)
    assert list(curves) == ["Dreamer", "World Models, iterative loop (one run)", "DQN (model-free)"]
    assert curves["DQN (model-free)"] == {"x": [1], "mean": [1]}


# --- the notebook's checkers ----------------------------------------------------------------------------

def test_straight_through_checker():
    ex = n08_dreamer.straight_through
    assert ex.problem(lambda one_hot, probs: one_hot + (probs - probs.detach())) is None
    assert "gradient" in ex.problem(lambda one_hot, probs: one_hot)
    assert "one-hot" in ex.problem(lambda one_hot, probs: probs)
    assert "wrong sign" in ex.problem(lambda one_hot, probs: one_hot - probs + probs.detach())
    assert "Not attempted" in ex.problem(...)


def test_lambda_returns_checker_accepts_the_package_and_names_mistakes():
    ex = n08_dreamer.lambda_returns_exercise
    assert ex.problem(dreamer.lambda_returns) is None
    assert "continues" in ex.problem(lambda r, v, c, g, l: dreamer.lambda_returns(r, v, torch.ones_like(c), g, l))
    assert "swapped" in ex.problem(lambda r, v, c, g, l: dreamer.lambda_returns(r, v, c, g, 1 - l))
    assert "shape" in ex.problem(lambda r, v, c, g, l: r[0])
