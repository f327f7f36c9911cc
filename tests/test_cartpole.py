"""The CartPole World Model of notebook 07: data, M, its done head, the dream, the loop, the shipped results."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from wmcourse.artefacts import data_dir
from wmcourse.errors import ShapeError
from wmcourse.experiments import cartpole as ce
from wmcourse.experiments import recipe, runner
from wmcourse.lessons import n07_cartpole_failure
from wmcourse.real import evaluate
from wmcourse.worldmodels import cartpole as cp
from wmcourse.worldmodels import dream

torch.set_num_threads(1)


class Balancer:
    """A hand-made linear controller that keeps the pole up for long: push towards where the pole falls."""

    def act(self, obs):
        return (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(np.int64)

    def reset(self, done):
        pass


@pytest.fixture(scope="module")
def random_data():
    return cp.collect_episodes(None, 3000, seed=0)


@pytest.fixture(scope="module")
def trained(random_data):
    config = cp.WorldModelConfig(hidden=32, seq_len=8, batch_size=256, lr=3e-3, train_steps=300)
    model, history = cp.train_world_model(random_data, config,
                                          seed=0)
    return model, history


def test_collect_spends_exactly_the_budget_and_marks_dones(random_data):
    assert random_data.num_steps == 3000
    assert len(random_data.states) == 3000 + len(random_data)
    for i in range(len(random_data)):
        states, actions, dones = random_data.episode(i)
        assert not dones[:-1].any()  # a done can only be the last step of an episode
        assert dones[-1] == bool(cp.done_rule(states[-1]))
    assert 15 < random_data.num_steps / len(random_data) < 35  # random CartPole lasts about 22 steps


def test_done_rule_is_gymnasium_rule():
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(2)))
        assert bool(cp.done_rule(obs.astype(np.float64))) == terminated
        if terminated or truncated:
            obs, _ = env.reset()
    env.close()


def test_state_model_learns_the_physics(random_data, trained):
    model, history = trained
    assert history[-1]["z_nll"] < history[0]["z_nll"] - 1.0
    test = cp.collect_episodes(None, 400, seed=99)
    errors, copy_last = [], []
    for i in range(len(test)):
        s, a, _ = test.episode(i)
        pred = cp.dream_along(model, s[:2], a[:1], mode="likeliest")[0, 1]  # one step ahead
        errors.append((pred - s[1]) / model.std.numpy())
        copy_last.append((s[0] - s[1]) / model.std.numpy())
    # M predicts the next state far better than "nothing changes" (the velocities change every step)
    assert np.mean(np.square(errors)) < 0.2 * np.mean(np.square(copy_last))


def test_done_head_flags_real_endings(trained):
    model, _ = trained
    held_out = cp.collect_episodes(None, 1000, seed=5)
    detection = cp.done_detection(model, held_out)
    assert detection["endings"] > 30
    assert detection["endings_caught"] > 0.6   # most real endings are flagged at their last step
    assert detection["false_alarms"] < 0.05    # and few of the other steps


def test_pieces_keep_every_step_and_end_each_episode_with_its_done(random_data):
    cut = cp.pieces(random_data, 8)
    assert cut.num_steps == random_data.num_steps and cut.lengths.max() <= 8
    assert cut.dones.sum() == random_data.dones.sum()
    np.testing.assert_array_equal(cut.actions, random_data.actions)
    for i in range(len(cut)):
        states, actions, dones = cut.episode(i)
        assert not dones[:-1].any()


def test_dream_runs_a_population_and_pays_one_a_step(random_data, trained):
    model, _ = trained
    settings = cp.ControllerSettings(max_steps=60)
    config = settings.controller_config(model.config.hidden)
    world = cp.CartPoleDream(model, random_data.first_states, max_steps=60, generator=torch.Generator().manual_seed(0))
    params = torch.zeros(3, config.n_params)
    params[1, 2], params[1, 3] = 1.0, 0.5  # the Balancer, in normalised units roughly
    params[2, 4] = 1.0                     # always push right
    scores = dream.population_returns(world, params, config, rollouts=6)
    assert scores.shape == (3,)
    assert ((scores >= 1) & (scores <= 60)).all()
    assert scores[1] > scores[2]  # even a small dream knows balancing beats pushing one way


def test_a_longer_search_dream_changes_the_search_but_not_the_scoring_cap(random_data, trained):
    model, _ = trained
    settings = cp.ControllerSettings(features="state", population=6, rollouts=2, generations=2, max_steps=10)
    dreams_only = recipe.Scoring(dream_episodes=8, dream_seed=0, real_episodes=0, real_seed=0)
    short = ce.evolve_and_score(model, random_data.first_states, settings, dreams_only, seed=0)
    long = ce.evolve_and_score(model, random_data.first_states, settings, dreams_only, seed=0, search_steps=200)
    assert not np.allclose(short.params, long.params)  # the search saw other scores
    assert short.dreams.max() <= 10 and long.dreams.max() <= 10  # C is still scored over the task's cap
    assert short.real is None  # no real episodes asked for
    again = ce.evolve_and_score(model, random_data.first_states, settings, dreams_only, seed=0, search_steps=None)
    np.testing.assert_array_equal(short.params, again.params)


def test_the_loop_covers_more_than_random_data(random_data):
    later = cp.collect_episodes(Balancer(), 3000, seed=1, epsilon=0.1)
    long_run = cp.collect_episodes(Balancer(), 2000, seed=2)
    alone = cp.coverage(random_data.states, long_run.states)
    both = cp.coverage(cp.Episodes.join([random_data, later]).states, long_run.states)
    assert both > 0.95 and both > alone + 0.08
    assert later.num_steps / len(later) > 3 * random_data.num_steps / len(random_data)


def test_world_model_saves_and_loads(tmp_path, trained):
    model, _ = trained
    path = cp.save_world_model(model, tmp_path / "m.pt")
    again = cp.load_world_model(path)
    z = torch.randn(5, 4)
    assert torch.allclose(again.decode(z), model.decode(z))
    s = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    a = np.random.default_rng(0).integers(0, 2, 4)
    np.testing.assert_allclose(cp.done_along(again, s, a), cp.done_along(model, s, a), rtol=1e-6)


def test_bad_inputs_say_what_was_expected(trained):
    model, _ = trained
    with pytest.raises(ValueError, match="features"):
        cp.CartPoleDream(model, np.zeros((3, 4)), features="pixels")
    with pytest.raises(ShapeError, match=r"\(N, 4\)"):
        cp.CartPoleDream(model, np.zeros((3, 5)))
    with pytest.raises(ShapeError, match="parameters"):
        cp.WorldModelPolicy(model, np.zeros(7), "state")
    with pytest.raises(ValueError, match="budget"):
        ce.run_variant(ce.Variant("x", "x", first_steps=60_000), ce.ExperimentConfig())


def test_fast_experiment_writes_every_artefact(tmp_path):
    out = tmp_path / "cartpole_results.json"
    results = ce.run_experiment(runner.overlay(ce.ExperimentConfig(), ce.OVERLAYS, "fast"), out=out, progress=False)
    assert [row["name"] for row in results["rows"]][0] == "random" and results["rows"][-1]["name"] == "dqn"
    assert all(row["steps"] <= results["budget"] for row in results["rows"])
    model, params, features, data = ce.load_shipped("fixed", tmp_path)
    assert data.num_steps == results["curves"]["wm_iterative"][-1]["steps"]
    assert "| setup |" in ce.format_table(ce.load_cartpole_results(tmp_path))


def test_ending_example_prefers_the_cart_leaving_the_track(random_data):
    index, left = cp.ending_example(random_data)
    states, _, dones = random_data.episode(index)
    assert dones[-1]
    assert left == (abs(states[-1, 0]) > cp.X_LIMIT)
    if not left:  # random pushes: the pole falls near the middle; no episode before it left the track either
        assert all(abs(random_data.episode(i)[0][-1, 0]) <= cp.X_LIMIT for i in range(len(random_data))
                   if random_data.episode(i)[2][-1])


def test_survival_grid_matches_the_maps_layout():
    thetas, theta_dots, starts = cp.survival_grid(5, theta=0.2, theta_dot=1.0)
    assert starts.shape == (25, 4) and starts.dtype == np.float32
    np.testing.assert_allclose(thetas, np.linspace(-0.2, 0.2, 5))
    assert not starts[:, :2].any()  # the cart at rest in the middle
    grid = starts.reshape(len(theta_dots), len(thetas), 4)  # as survival_maps reshapes: rows theta_dot, columns theta
    np.testing.assert_allclose(grid[:, 0, 3], theta_dots, rtol=1e-6)
    np.testing.assert_allclose(grid[0, :, 2], thetas, rtol=1e-6)


def test_learning_curves_take_seeds_first_then_the_single_run():
    one_run = {"seed": 3, "curves": {"wm_iterative": [{"steps": 10, "mean": 5.0, "std": 1.0}],
                                     "dqn": [{"steps": 10, "mean": 7.0, "std": 1.0}]}}
    summary = {"curves": {"dqn": {"steps": [10], "per_seed": {"0": [8.0]}, "mean": [8.0], "std": [0.0],
                                  "min": [8.0], "max": [8.0]}}}
    curves = ce.learning_curves(summary, one_run)
    assert list(curves) == ["DQN", "World Model, iterative loop (one run, seed 3)"]
    assert curves["DQN"] is summary["curves"]["dqn"]
    assert curves["World Model, iterative loop (one run, seed 3)"]["per_seed"] == {"3": [5.0]}


def test_episode_end_checker():
    assert n07_cartpole_failure.episode_end.problem(cp.done_rule) is None
    assert "radians" in n07_cartpole_failure.episode_end.problem(lambda s: (abs(s[:, 0]) > 2.4) | (abs(s[:, 2]) > 12))
    assert "OR" in n07_cartpole_failure.episode_end.problem(lambda s: abs(s[:, 2]) > cp.THETA_LIMIT)
    assert ">=" in n07_cartpole_failure.episode_end.problem(
        lambda s: (abs(s[:, 0]) >= 2.4) | (abs(s[:, 2]) >= cp.THETA_LIMIT))
    assert "Not attempted" in n07_cartpole_failure.episode_end.problem(...)


# --- the shipped artefacts -----------------------------------------------------------------------------

shipped = pytest.mark.skipif(not (data_dir() / ce.RESULTS_NAME).exists(), reason=f"run `{ce.COMMAND}` first")


@shipped
def test_shipped_fixed_controller_beats_random_by_a_wide_margin():
    model, params, features, data = ce.load_shipped("fixed")
    assert data.num_steps <= 50_000
    result = evaluate.evaluate(cp.ENV_ID, cp.WorldModelPolicy(model, params, features), 10, seed=7, num_envs=10,
                               progress=False)
    assert result.mean > 200  # random: about 22


@shipped
def test_shipped_failure_looks_better_in_the_dream_than_in_reality():
    model, params, features, data = ce.load_shipped("failure")
    settings = cp.ControllerSettings(features=features)
    world, config = cp.controller_dream(model, data.first_states, settings, seed=1)
    dreamed = dream.controller_returns(world, params, config, 20).mean()
    real = evaluate.evaluate(cp.ENV_ID, cp.WorldModelPolicy(model, params, features), 10, seed=7, num_envs=10,
                             progress=False).mean
    assert dreamed > real + 100


@shipped
def test_shipped_table_is_consistent():
    results = ce.load_cartpole_results()
    assert results["budget"] == 50_000
    assert all(row["steps"] <= 50_000 for row in results["rows"])
    names = [row["name"] for row in results["rows"]]
    assert {"random", "dqn", ce.FIXED_VARIANT, ce.FAILURE_VARIANT} <= set(names)
    assert results["curves"]["dqn"][-1]["steps"] == 50_000
