"""Rollouts: play a policy in the real environment and store what it saw, did and got.

World Models learns only from stored experience: V from the frames, M from sequences of (z_t, a_t) -> z_t+1.
An episode of length T is stored as

    obs[t]     the observation seen BEFORE action t (CarRacing: uint8 64x64x3 frame; CartPole: float32 state)
    action[t]  the action taken on seeing obs[t]
    reward[t]  the reward that action earned
    done[t]    True on the last step only (the episode ended: terminated, truncated, or capped by max_steps)
    terminated[t]  True on the last step only when the environment itself ended it (crash, pole fell)
    final_obs  the observation after the last action (so every obs[t] has its successor)

Episodes are grouped into compressed shards (`shard_00000.npz`, ...), concatenated along time with their
`lengths`. Shard k is collected from seeds derived from (seed, k) alone, so an interrupted run resumes by
skipping the shards already written, and gives the same data as a run that never stopped.

Policies. The paper's CarRacing data came from a randomly initialised controller, a = tanh(W [z, h] + b)
with W drawn afresh for each episode (tiny weights, std U(0, 0.01)), not uniform noise: its actions stay
steady and drift with the frames instead of jittering every step. Without a V and M to feed it we imitate
that with `WalkPolicy` (the default for CarRacing), a smooth random walk per environment copy:
x_t = rho x_t-1 + sqrt(1 - rho^2) eps_t, a_t = center + scale * tanh(x_t). `random` is uniform noise;
`PilotPolicy` is a noisy lane follower (steers towards the grey road pixels ahead): NOT what the paper did,
but it shows the model the road through the whole track. `mix` alternates pilot and walk shard by shard,
so M sees both driving along the road and leaving it. Measured on 2 x 1,000-step episodes each:

    policy   returns       frames that change   frames with road in view
    random   -34, -33      3%                   99%      gas and brake cancel out: the car barely moves
    walk     -72 .. -24    36-63%               26-62%   long arcs, often off onto the grass
    pilot    +86, +360     86%                  96%      follows the road, wobbling
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from ..checkpoint import atomic_write_bytes
from ..errors import MissingArtefactError, SettingsError, ShapeError
from .backend import Backend, LocalBackend
from .envs import FRAME_SIZE, SUPPORTED_ENVS, TAKE_COVER, check_env_id, make_vector_env, preprocess_frames, thirds
from .evaluate import Policy, RandomPolicy

PIXEL_ENVS = ("CarRacing-v3", "VizdoomTakeCover-v1")
POLICIES = ("auto", "random", "walk", "hold", "pilot", "mix")
MIX = ("pilot", "walk")  # "mix": shards alternate, road-following data and off-road recovery
DEFAULT_POLICY = {"CarRacing-v3": "walk", "CartPole-v1": "random", "VizdoomTakeCover-v1": "hold"}
DEFAULT_EPISODES_PER_SHARD = {"CarRacing-v3": 10, "CartPole-v1": 200, "VizdoomTakeCover-v1": 50}
SHARD_PATTERN = "shard_*.npz"
INFO_NAME = "collection.json"


# --- policies ----------------------------------------------------------------------------------------

class WalkPolicy:
    """Smooth random actions: each copy's actions drift like a random walk instead of jittering.

        x_t = rho * x_{t-1} + sqrt(1 - rho^2) * eps_t,   eps_t ~ N(0, I)      (x_t stays N(0, I))
        a_t = clip(center + scale * tanh(x_t), low, high)

    rho = 0.95 keeps an action for about 1 / (1 - rho) = 20 steps. Discrete actions are "sticky": the last
    action is kept with probability rho, else a new one is drawn uniformly. A copy whose episode ends
    starts a fresh walk.
    """

    # CarRacing (steer, gas, brake): steer gently, mostly accelerate, brake rarely and lightly.
    CARRACING = dict(center=(0.0, 0.5, -0.25), scale=(0.5, 0.5, 0.5))

    def __init__(self, action_space: gym.Space, seed: int = 0, rho: float = 0.95,
                 center: tuple[float, ...] | None = None, scale: tuple[float, ...] | None = None):
        self.action_space = action_space
        self.rho = rho
        self.rng = np.random.default_rng(seed)
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        if not self.discrete:
            low, high = action_space.low, action_space.high
            self.center = np.asarray(center if center is not None else (low + high) / 2, np.float32)
            self.scale = np.asarray(scale if scale is not None else (high - low) / 2, np.float32)
        self.x: np.ndarray | None = None

    def _fresh(self, n: int) -> np.ndarray:
        if self.discrete:
            return self.rng.integers(0, self.action_space.n, size=n)
        return self.rng.standard_normal((n, *self.action_space.shape))

    def act(self, obs: np.ndarray) -> np.ndarray:
        n = len(obs)
        if self.x is None or len(self.x) != n:
            self.x = self._fresh(n)
        elif self.discrete:
            switch = self.rng.random(n) > self.rho
            self.x = np.where(switch, self._fresh(n), self.x)
        else:
            self.x = self.rho * self.x + np.sqrt(1 - self.rho**2) * self._fresh(n)
        if self.discrete:
            return self.x.copy()
        action = self.center + self.scale * np.tanh(self.x)
        return np.clip(action, self.action_space.low, self.action_space.high).astype(np.float32)

    def reset(self, done: np.ndarray) -> None:
        if self.x is not None and np.any(done):
            self.x[done] = self._fresh(int(np.sum(done)))


class HoldPolicy:
    """The paper's Doom data policy: a uniformly random action, held for a random 1 to `longest` steps.

        k ~ U{1, ..., longest},  a ~ U(action space),  then a is played k times before the next draw

    Held actions carry the agent across the room and to its walls; a fresh action every step only jitters
    in place, so a world model trained on such data never sees what happens beside a wall. With `snap`
    (Take Cover: `envs.thirds`) the action is stored as the game reads it, so M learns from what was done.
    """

    def __init__(self, action_space: gym.Space, seed: int = 0, longest: int = 10,
                 snap: Callable[[np.ndarray], np.ndarray] | None = None):
        if longest < 1:
            raise SettingsError(f"longest must be at least 1 step, got {longest}.")
        self.uniform = RandomPolicy(action_space, seed)
        self.rng = np.random.default_rng([seed, 1])
        self.longest, self.snap = longest, snap
        self.action: np.ndarray | None = None
        self.left = np.zeros(0, np.int64)

    def act(self, obs: np.ndarray) -> np.ndarray:
        n = len(obs)
        if self.action is None or len(self.action) != n:
            self.action, self.left = self.uniform.act(obs), np.zeros(n, np.int64)
        fresh = self.left <= 0
        if fresh.any():
            drawn = self.uniform.act(obs)
            self.action[fresh] = drawn[fresh] if self.snap is None else self.snap(drawn[fresh])
            self.left[fresh] = self.rng.integers(1, self.longest + 1, size=int(fresh.sum()))
        self.left -= 1
        return self.action.copy()

    def reset(self, done: np.ndarray) -> None:
        if self.action is not None and np.any(done):
            self.left[np.asarray(done, bool)] = 0


class PilotPolicy:
    """A noisy lane follower for CarRacing: steer towards the grey road pixels on a row ahead of the car.

        steer_t = clip((road_column - car_column) / 12 + noise * tanh(x_t), -1, 1),  gas ~ 0.05..0.35, no brake

    with x_t the smooth walk of `WalkPolicy`. Not the paper's data policy: a way to show the model the road
    through the whole track (it visits roughly 50-140 of a track's ~300 tiles in 1,000 steps, the walk ~10-25).
    """

    ROW, CAR_COLUMN = 60, 48  # a row of the raw 96x96 frame some way ahead of the car; the car's column

    def __init__(self, action_space: gym.Space, seed: int = 0, noise: float = 0.5, rho: float = 0.95):
        if not isinstance(action_space, gym.spaces.Box) or action_space.shape != (3,):
            raise SettingsError("The pilot policy drives CarRacing only (3 continuous actions); "
                                "use 'random' or 'walk'.")
        self.walk = WalkPolicy(action_space, seed, rho, center=(0.0, 0.0, 0.0), scale=(1.0, 1.0, 1.0))
        self.noise = noise

    def act(self, obs: np.ndarray) -> np.ndarray:
        if obs.ndim != 4 or obs.shape[1:] != (96, 96, 3):
            raise ShapeError(f"The pilot policy reads raw CarRacing frames (N, 96, 96, 3), got {obs.shape}.")
        u = self.walk.act(obs)  # (N, 3) in [-1, 1]
        row = obs[:, self.ROW].astype(np.int16)  # (N, 96, 3)
        road = (np.abs(row[..., 0] - row[..., 1]) < 20) & (row[..., 0] > 80) & (row[..., 0] < 130)
        columns = np.arange(row.shape[1])
        seen = road.any(axis=1)
        centre = np.where(seen, (road * columns).sum(1) / np.maximum(road.sum(1), 1), self.CAR_COLUMN)
        steer = np.clip((centre - self.CAR_COLUMN) / 12 + self.noise * u[:, 0], -1, 1)
        gas = 0.05 + 0.3 * (u[:, 1] + 1) / 2
        return np.stack([steer, gas, np.zeros_like(gas)], axis=1).astype(np.float32)

    def reset(self, done: np.ndarray) -> None:
        self.walk.reset(done)


def make_policy(name: str, env_id: str, action_space: gym.Space, seed: int = 0) -> Policy:
    """A data-collection policy by name: 'random' (uniform), 'walk' (smooth), 'hold' (uniform, held 1-10 steps),
    'pilot' (CarRacing only), 'auto' (the environment's default)."""
    if name == "auto":
        name = DEFAULT_POLICY[check_env_id(env_id)]
    if name == "random":
        return RandomPolicy(action_space, seed)
    if name == "walk":
        return WalkPolicy(action_space, seed, **(WalkPolicy.CARRACING if env_id == "CarRacing-v3" else {}))
    if name == "hold":
        return HoldPolicy(action_space, seed, snap=thirds if env_id == TAKE_COVER else None)
    if name == "pilot":
        return PilotPolicy(action_space, seed)
    raise SettingsError(f"Unknown policy {name!r}: choose one of {', '.join(POLICIES)}.")


# --- episodes and shards -------------------------------------------------------------------------------

@dataclass
class Episode:
    """One stored episode (see the module docstring for what each array holds)."""

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    done: np.ndarray
    terminated: np.ndarray
    final_obs: np.ndarray

    def __len__(self) -> int:
        return len(self.reward)

    @property
    def total_reward(self) -> float:
        return float(self.reward.sum())


def shard_path(out_dir: Path, index: int) -> Path:
    return Path(out_dir) / f"shard_{index:05d}.npz"


def shard_seeds(seed: int, index: int) -> tuple[int, int]:
    """(environment seed, policy seed) of shard `index`: a function of (seed, index) only, so runs resume exactly."""
    env_seed, policy_seed = np.random.SeedSequence([seed, index]).generate_state(2)
    return int(env_seed), int(policy_seed)


def _stack_episode(obs: list, actions: list, rewards: list, final_obs: np.ndarray, terminated: bool,
                   pixels: bool) -> Episode:
    T = len(rewards)
    frames = np.stack(obs)
    done = np.zeros(T, bool)
    done[-1] = True
    term = np.zeros(T, bool)
    term[-1] = terminated
    if pixels:
        frames, final_obs = preprocess_frames(frames), preprocess_frames(final_obs)
    else:
        frames, final_obs = frames.astype(np.float32), np.asarray(final_obs, np.float32)
    return Episode(frames, np.stack(actions), np.asarray(rewards, np.float32), done, term, final_obs)


def _split(total: int, parts: int) -> np.ndarray:
    """How many of `total` items each of `parts` workers does: as equal as can be, the first ones one more."""
    quota = np.full(parts, total // parts)
    quota[: total % parts] += 1
    return quota


def play_episodes(envs: gym.vector.VectorEnv, env_id: str, policy: Policy, episodes: int, env_seed: int,
                  max_steps: int | None = None, on_step: Callable[[int], None] | None = None) -> list[Episode]:
    """Play `episodes` whole episodes in the vector env (reset with `env_seed`), in a fixed order.

    Copy i plays a fixed share of the episodes, so the result does not depend on which copy finishes first.
    An episode longer than `max_steps` is cut there (done, not terminated) and its copy reset.
    """
    n = envs.num_envs
    quota = _split(episodes, n)
    pixels = env_id in PIXEL_ENVS
    finished: list[list[Episode]] = [[] for _ in range(n)]
    buffers: list[tuple[list, list, list]] = [([], [], []) for _ in range(n)]
    obs, _ = envs.reset(seed=env_seed)
    policy.reset(np.ones(n, bool))
    while any(len(finished[i]) < quota[i] for i in range(n)):
        action = policy.act(obs)
        next_obs, reward, terminated, truncated, info = envs.step(action)
        for i in range(n):
            buffers[i][0].append(np.array(obs[i]))
            buffers[i][1].append(np.array(action[i]))
            buffers[i][2].append(float(reward[i]))
        ended = terminated | truncated
        capped = np.array([max_steps is not None and len(b[2]) >= max_steps for b in buffers]) & ~ended
        for i in np.flatnonzero(ended | capped):
            if len(finished[i]) < quota[i]:
                last = info["final_obs"][i] if ended[i] else next_obs[i]
                finished[i].append(_stack_episode(*buffers[i], np.array(last), bool(terminated[i]), pixels))
            buffers[i] = ([], [], [])
        if capped.any():
            next_obs, _ = envs.reset(options={"reset_mask": capped})
        policy.reset(ended | capped)
        if on_step is not None:
            on_step(sum(map(len, finished)))
        obs = next_obs
    return [episode for per_copy in finished for episode in per_copy]


def pack_shard(episodes: list[Episode], meta: dict) -> bytes:
    """Episodes as the bytes of one compressed shard (where they were played: the compression costs CPU too)."""
    arrays = {name: np.concatenate([getattr(e, name) for e in episodes])
              for name in ("obs", "action", "reward", "done", "terminated")}
    arrays["final_obs"] = np.stack([e.final_obs for e in episodes])
    arrays["lengths"] = np.array([len(e) for e in episodes], np.int64)
    arrays["meta"] = np.array(json.dumps(meta))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def write_shard(path: Path, packed: bytes) -> None:
    """Write a packed shard atomically (a half-written shard never looks finished)."""
    atomic_write_bytes(path, packed)  # its temporary file is not *.npz: never mistaken for a finished shard


def save_shard(path: Path, episodes: list[Episode], meta: dict) -> None:
    """Write episodes to one compressed shard, atomically."""
    write_shard(path, pack_shard(episodes, meta))


def load_shard(path: Path) -> list[Episode]:
    """The episodes of one shard."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in ("obs", "action", "reward", "done", "terminated", "final_obs", "lengths")}
    bounds = np.concatenate([[0], np.cumsum(arrays["lengths"])])
    return [
        Episode(*(arrays[k][a:b] for k in ("obs", "action", "reward", "done", "terminated")), arrays["final_obs"][i])
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))
    ]


def shard_meta(path: Path) -> dict:
    """The small header of a shard (env, policy, seed, episodes, ...) without reading its frames."""
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["meta"]))


def _collect_command(folder: Path) -> str:
    env_id = next((part for part in Path(folder).parts if part in SUPPORTED_ENVS), "CarRacing-v3")
    return f"python -m wmcourse collect --env {env_id} --episodes 100 --out {folder}"


def list_shards(folder: str | Path) -> list[Path]:
    """The shards in a rollout folder, in order; an error naming the collect command when there are none."""
    folder = Path(folder)
    shards = sorted(folder.glob(SHARD_PATTERN)) if folder.is_dir() else []
    if not shards:
        raise MissingArtefactError(
            f"No rollouts in {folder} (expected files shard_00000.npz, ...). Collect some with:\n"
            f"    {_collect_command(folder)}"
        )
    return shards


def load_episodes(folder: str | Path, max_episodes: int | None = None) -> list[Episode]:
    """Every episode stored in a rollout folder (or the first `max_episodes`), in collection order."""
    episodes: list[Episode] = []
    for path in list_shards(folder):
        episodes.extend(load_shard(path))
        if max_episodes is not None and len(episodes) >= max_episodes:
            return episodes[:max_episodes]
    return episodes


def _shard_frames(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as data:
        frames = data["obs"]
    if frames.ndim != 4 or frames.dtype != np.uint8:
        raise ShapeError(f"{path} holds observations of shape {frames.shape[1:]} ({frames.dtype}), not 64x64x3 frames: "
                         "the VAE needs CarRacing rollouts.")
    return frames


def episode_returns(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(returns, lengths) of every stored episode, reading only the small reward and length arrays."""
    returns, lengths = [], []
    for path in list_shards(folder):
        with np.load(path, allow_pickle=False) as data:
            bounds = np.concatenate([[0], np.cumsum(data["lengths"])])
            returns.append(np.add.reduceat(data["reward"], bounds[:-1]))
            lengths.append(data["lengths"])
    return np.concatenate(returns).astype(np.float64), np.concatenate(lengths)


def count_frames(folder: str | Path) -> int:
    """How many observations a rollout folder holds (reads only the shards' small length arrays)."""
    total = 0
    for path in list_shards(folder):
        with np.load(path, allow_pickle=False) as data:
            total += int(data["lengths"].sum())
    return total


def load_frames(folder: str | Path, max_frames: int | None = None) -> np.ndarray:
    """All stored frames of a rollout folder as one uint8 array (N, 64, 64, 3): fine for a few hundred thousand."""
    chunks, total = [], 0
    for path in list_shards(folder):
        chunks.append(_shard_frames(path))
        total += len(chunks[-1])
        if max_frames is not None and total >= max_frames:
            break
    return np.concatenate(chunks)[:max_frames]


def iter_frame_batches(folder: str | Path, batch_size: int, seed: int = 0, shuffle: bool = True,
                       shards_at_once: int = 4) -> Iterator[np.ndarray]:
    """One pass over a rollout folder's frames in uint8 batches (B, 64, 64, 3), without loading it all.

    Shards are visited in a seeded random order, `shards_at_once` at a time, and their frames shuffled
    together. Every batch is full but the last: ceil(frames / batch_size) batches. Same seed, same batches.
    """
    shards = list_shards(folder)
    rng = np.random.default_rng(seed)
    if shuffle:
        shards = [shards[i] for i in rng.permutation(len(shards))]
    leftover = np.zeros((0, FRAME_SIZE, FRAME_SIZE, 3), np.uint8)
    for start in range(0, len(shards), shards_at_once):
        frames = np.concatenate([_shard_frames(p) for p in shards[start:start + shards_at_once]])
        if shuffle:
            frames = frames[rng.permutation(len(frames))]
        frames = np.concatenate([leftover, frames])
        full = len(frames) // batch_size * batch_size
        for b in range(0, full, batch_size):
            yield frames[b:b + batch_size]
        leftover = frames[full:]
    if len(leftover):
        yield leftover


# --- collection ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShardWork:
    """Everything one shard needs, its seeds included: wherever it is collected, it holds the same episodes."""

    env_id: str
    episodes: int
    policy: str | Policy  # a policy name (made afresh from policy_seed), or a policy object played as it is
    env_seed: int
    policy_seed: int
    num_envs: int = 1
    max_steps: int | None = None
    meta: dict | None = None  # written into the shard, with its step count


def collect_shard(work: ShardWork) -> bytes:
    """Play one shard's episodes in a fresh vector env and pack them (a pure function of `work`: what a backend
    maps). The worker compresses, so the machine that writes the shards only writes bytes."""
    envs = make_vector_env(work.env_id, work.num_envs)
    try:
        actor = work.policy if not isinstance(work.policy, str) else make_policy(
            work.policy, work.env_id, envs.single_action_space, work.policy_seed)
        played = play_episodes(envs, work.env_id, actor, work.episodes, work.env_seed, work.max_steps)
    finally:
        envs.close()
    return pack_shard(played, {**(work.meta or {}), "steps": int(sum(map(len, played)))})


def collect(env_id: str, episodes: int, out_dir: str | Path, num_envs: int = 1, policy: str | Policy = "auto",
            seed: int = 0, episodes_per_shard: int | None = None, max_steps: int | None = None,
            progress: bool = True, backend: Backend | None = None) -> list[Path]:
    """Collect `episodes` episodes of `policy` in `env_id` into shards in `out_dir`; return the shard paths.

    Resumable: shards already complete are skipped, and shard k always uses the seeds shard_seeds(seed, k),
    so stopping and re-running gives the same data (for the same num_envs). A policy given as an object
    (e.g. a trained controller) is used as it is; its own randomness is then the caller's business.
    `backend` says where the shards are played (wmcourse.real.backend): by default one after another in this
    process; LocalBackend(workers) or RayBackend() play several at once and give the same shards.
    """
    check_env_id(env_id)
    if episodes < 1:
        raise SettingsError(f"episodes must be at least 1, got {episodes}.")
    if max_steps is not None and max_steps < 1:
        raise SettingsError(f"max_steps must be at least 1 (or None for the environment's own limit), got {max_steps}.")
    per_shard = episodes_per_shard or DEFAULT_EPISODES_PER_SHARD[env_id]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    policy_name = policy if isinstance(policy, str) else type(policy).__name__
    if policy_name == "auto":
        policy_name = DEFAULT_POLICY[env_id]
    num_envs = min(num_envs, per_shard)
    info = {"env_id": env_id, "policy": policy_name, "seed": seed, "episodes_per_shard": per_shard,
            "max_steps": max_steps, "num_envs": num_envs}
    _check_same_collection(out_dir, info)

    sizes = [min(per_shard, episodes - start) for start in range(0, episodes, per_shard)]
    paths = [shard_path(out_dir, k) for k in range(len(sizes))]
    todo = [k for k, path in enumerate(paths) if not (path.exists() and shard_meta(path)["episodes"] == sizes[k])]
    work = []
    for k in todo:
        env_seed, policy_seed = shard_seeds(seed, k)
        name = MIX[k % len(MIX)] if policy == "mix" else policy_name if isinstance(policy, str) else policy
        meta = {**info, "shard": k, "episodes": sizes[k], "env_seed": env_seed, "policy_seed": policy_seed}
        work.append(ShardWork(env_id, sizes[k], name, env_seed, policy_seed, num_envs, max_steps, meta))
    bar = tqdm(total=episodes, initial=episodes - sum(sizes[k] for k in todo), unit="episode",
               desc=f"collect {env_id}", disable=not progress)
    steps, start = 0, time.perf_counter()
    try:
        for i, packed in (backend or LocalBackend()).map(collect_shard, work, cpus=num_envs):
            write_shard(paths[todo[i]], packed)
            steps += shard_meta(paths[todo[i]])["steps"]
            bar.update(work[i].episodes)
            bar.set_postfix(real_steps_per_s=f"{steps / (time.perf_counter() - start):.0f}")
    finally:
        bar.close()
    return paths


def _check_same_collection(out_dir: Path, info: dict) -> None:
    """Refuse to mix rollouts of different settings in one folder (a resumed run must continue the same one)."""
    path = out_dir / INFO_NAME
    if path.exists():
        previous = json.loads(path.read_text())
        if previous != info:
            changed = ", ".join(f"{k}: {previous.get(k)!r} -> {v!r}" for k, v in info.items() if previous.get(k) != v)
            raise SettingsError(
                f"{out_dir} holds rollouts collected with other settings ({changed}). "
                "Use another --out folder, or delete this one to start again."
            )
    else:
        path.write_text(json.dumps(info, indent=2) + "\n")
