import gymnasium as gym
import numpy as np
import pytest

from wmcourse.cli.main import main
from wmcourse.errors import CourseError, MissingArtefactError, SettingsError, ShapeError
from wmcourse.real import envs, rollouts


@pytest.fixture(scope="module")
def cartpole(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cartpole")
    rollouts.collect("CartPole-v1", 7, folder, num_envs=2, seed=3, episodes_per_shard=3, progress=False)
    return folder


@pytest.fixture(scope="module")
def carracing(tmp_path_factory):
    folder = tmp_path_factory.mktemp("carracing")
    rollouts.collect("CarRacing-v3", 3, folder, num_envs=1, seed=0, episodes_per_shard=2, max_steps=30, progress=False)
    return folder


def test_cartpole_shards_hold_states(cartpole):
    assert [p.name for p in rollouts.list_shards(cartpole)] == ["shard_00000.npz", "shard_00001.npz", "shard_00002.npz"]
    with np.load(rollouts.shard_path(cartpole, 0)) as shard:
        assert set(shard.files) == {"obs", "action", "reward", "done", "terminated", "final_obs", "lengths", "meta"}
        T = shard["lengths"].sum()
        assert shard["obs"].shape == (T, 4) and shard["obs"].dtype == np.float32
        assert shard["action"].shape == (T,) and shard["reward"].dtype == np.float32
        assert shard["done"].sum() == len(shard["lengths"]) == 3
    episodes = rollouts.load_episodes(cartpole)
    assert len(episodes) == 7
    returns, lengths = rollouts.episode_returns(cartpole)
    np.testing.assert_allclose(returns, [e.total_reward for e in episodes])
    assert lengths.tolist() == [len(e) for e in episodes]
    for e in episodes:
        assert e.done[-1] and not e.done[:-1].any() and e.terminated[-1]  # random play drops the pole early
        assert e.final_obs.shape == (4,)


def test_obs_is_what_was_seen_before_each_action(cartpole):
    """Replay the first episode of shard 1 in a fresh env with the shard's seed: every array must line up."""
    meta = rollouts.shard_meta(rollouts.shard_path(cartpole, 1))
    episode = rollouts.load_shard(rollouts.shard_path(cartpole, 1))[0]  # copy 0 of the vector env
    env = envs.make_env("CartPole-v1")
    obs, _ = env.reset(seed=meta["env_seed"])
    for t in range(len(episode)):
        np.testing.assert_allclose(episode.obs[t], obs)
        obs, reward, terminated, _, _ = env.step(int(episode.action[t]))
        assert reward == episode.reward[t] and terminated == episode.terminated[t]
    np.testing.assert_allclose(episode.final_obs, obs)


def test_carracing_frames_are_preprocessed_and_capped(carracing):
    episodes = rollouts.load_episodes(carracing)
    assert len(episodes) == 3
    for e in episodes:
        assert len(e) == 30  # max_steps
        assert e.obs.shape == (30, 64, 64, 3) and e.obs.dtype == np.uint8
        assert e.action.shape == (30, 3) and e.action.dtype == np.float32
        assert e.final_obs.shape == (64, 64, 3)
        assert e.done[-1] and not e.terminated.any()  # cut by max_steps, not ended by the game
    assert rollouts.load_frames(carracing).shape == (90, 64, 64, 3)
    assert not np.array_equal(episodes[0].obs[-1], episodes[1].obs[-1])  # different tracks


def test_resume_skips_finished_shards_and_reproduces_the_rest(cartpole, tmp_path):
    folder = tmp_path / "resume"
    rollouts.collect("CartPole-v1", 7, folder, num_envs=2, seed=3, episodes_per_shard=3, progress=False)
    kept, lost = rollouts.shard_path(folder, 0), rollouts.shard_path(folder, 1)
    stamp = kept.stat().st_mtime_ns
    lost.unlink()  # as if the run had been interrupted while collecting shard 1
    rollouts.collect("CartPole-v1", 7, folder, num_envs=2, seed=3, episodes_per_shard=3, progress=False)
    assert kept.stat().st_mtime_ns == stamp  # not collected again
    for k in range(3):  # and the data is the same as an uninterrupted run's (the fixture's)
        resumed, straight = (rollouts.load_shard(rollouts.shard_path(f, k)) for f in (folder, cartpole))
        for a, b in zip(resumed, straight, strict=True):
            np.testing.assert_array_equal(a.obs, b.obs)
            np.testing.assert_array_equal(a.action, b.action)


def test_asking_for_more_episodes_extends_a_collection(tmp_path):
    rollouts.collect("CartPole-v1", 4, tmp_path, seed=1, episodes_per_shard=3, progress=False)
    rollouts.collect("CartPole-v1", 8, tmp_path, seed=1, episodes_per_shard=3, progress=False)
    assert len(rollouts.load_episodes(tmp_path)) == 8  # the partial last shard was completed


def test_other_settings_are_refused(tmp_path):
    rollouts.collect("CartPole-v1", 2, tmp_path, seed=1, progress=False)
    with pytest.raises(CourseError, match="seed: 1 -> 2"):
        rollouts.collect("CartPole-v1", 2, tmp_path, seed=2, progress=False)


def test_empty_folder_names_the_collect_command(tmp_path):
    folder = tmp_path / "runs" / "CarRacing-v3" / "rollouts"
    with pytest.raises(MissingArtefactError, match="python -m wmcourse collect --env CarRacing-v3"):
        rollouts.load_episodes(folder)


def test_state_rollouts_are_not_frames(cartpole):
    with pytest.raises(ShapeError, match="CarRacing"):
        rollouts.load_frames(cartpole)


def test_frame_batches_cover_every_frame_once(tmp_path):
    for k in range(5):
        frames = np.full((7, 64, 64, 3), k * 10, np.uint8)
        frames[:, 0, 0, 0] = np.arange(7)  # a unique id per frame: (k * 10, i)
        episode = rollouts.Episode(frames, np.zeros((7, 3), np.float32), np.zeros(7, np.float32),
                                   np.eye(7, dtype=bool)[-1], np.zeros(7, bool), frames[-1])
        rollouts.save_shard(rollouts.shard_path(tmp_path, k), [episode], {"episodes": 1})
    batches = list(rollouts.iter_frame_batches(tmp_path, batch_size=4, seed=0, shards_at_once=2))
    assert [len(b) for b in batches] == [4] * 8 + [3]  # 35 frames: only the last batch is short
    ids = sorted((int(f[0, 0, 1]), int(f[0, 0, 0])) for b in batches for f in b)
    assert ids == sorted((k * 10, i) for k in range(5) for i in range(7))
    again = list(rollouts.iter_frame_batches(tmp_path, batch_size=4, seed=0, shards_at_once=2))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))


def test_walk_policy_is_smooth_and_in_bounds():
    space = gym.spaces.Box(np.array([-1, 0, 0], np.float32), np.array([1, 1, 1], np.float32))
    walk = rollouts.make_policy("walk", "CarRacing-v3", space, seed=0)
    uniform = rollouts.make_policy("random", "CarRacing-v3", space, seed=0)
    obs = np.zeros((4, 96, 96, 3), np.uint8)
    a, b = np.stack([walk.act(obs) for _ in range(300)]), np.stack([uniform.act(obs) for _ in range(300)])
    assert np.all(a >= space.low) and np.all(a <= space.high)
    assert np.abs(np.diff(a, axis=0)).mean() < 0.3 * np.abs(np.diff(b, axis=0)).mean()
    assert a[..., 1].mean() > 3 * a[..., 2].mean()  # mostly gas, little brake: the car moves


def test_sticky_discrete_actions():
    walk = rollouts.WalkPolicy(gym.spaces.Discrete(2), seed=0, rho=0.9)
    actions = np.stack([walk.act(np.zeros((8, 4))) for _ in range(500)])
    assert set(np.unique(actions)) == {0, 1}
    assert 0.02 < (np.diff(actions, axis=0) != 0).mean() < 0.1  # switches about (1 - rho) / 2 of the time


def test_hold_policy_holds_each_draw_for_one_to_ten_steps():
    space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    hold = rollouts.make_policy("hold", "CarRacing-v3", space, seed=0)  # no snapping outside Take Cover
    actions = np.stack([hold.act(np.zeros((16, 1))) for _ in range(2000)])[..., 0]  # (steps, copies)
    assert np.all(np.abs(actions) <= 1) and len(np.unique(actions)) > 1000  # continuous draws, uniform in the box
    runs = [len(run) for copy in actions.T for run in np.split(copy, np.flatnonzero(np.diff(copy)) + 1)]
    assert max(runs) <= 10 and 4.5 < np.mean(runs[1:-1]) < 6.5  # holds of 1..10 steps, 5.5 on average
    done = np.zeros(16, bool)
    done[3] = True
    before = hold.act(np.zeros((16, 1)))
    hold.reset(done)
    after = hold.act(np.zeros((16, 1)))
    assert after[3] != before[3]  # a finished episode's copy draws afresh


def test_take_cover_hold_policy_stores_what_the_game_reads():
    space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    hold = rollouts.make_policy("hold", "VizdoomTakeCover-v1", space, seed=0)
    actions = np.stack([hold.act(np.zeros((8, 1))) for _ in range(3000)])
    values, counts = np.unique(actions, return_counts=True)
    assert values.tolist() == [-1.0, 0.0, 1.0] and counts.min() > 0.28 * counts.sum()  # left, stay, right a third each
    with pytest.raises(SettingsError, match="at least 1"):
        rollouts.HoldPolicy(space, longest=0)


def test_unknown_policy_is_refused():
    with pytest.raises(CourseError, match="walk"):
        rollouts.make_policy("greedy", "CartPole-v1", gym.spaces.Discrete(2))
    with pytest.raises(CourseError, match="CarRacing only"):
        rollouts.make_policy("pilot", "CartPole-v1", gym.spaces.Discrete(2))


def test_parallel_carracing_collection_repeats(tmp_path):
    kwargs = dict(num_envs=2, seed=5, episodes_per_shard=2, max_steps=15, progress=False)
    rollouts.collect("CarRacing-v3", 2, tmp_path / "a", **kwargs)  # two worker processes (AsyncVectorEnv)
    rollouts.collect("CarRacing-v3", 2, tmp_path / "b", **kwargs)
    for a, b in zip(rollouts.load_episodes(tmp_path / "a"), rollouts.load_episodes(tmp_path / "b")):
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.action, b.action)


def test_command_line_collects(tmp_path, capsys):
    args = ["collect", "--env", "CartPole-v1", "--episodes", "5", "--out", str(tmp_path), "--num-envs", "1"]
    assert main(args) == 0
    assert "5 episodes in 1 shards" in capsys.readouterr().out
    assert main([*args, "--seed", "1"]) == 2  # same folder, other settings: refused with a message
    assert "other settings" in capsys.readouterr().err
