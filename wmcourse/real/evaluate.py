"""Evaluation in the real environment: run a policy for many episodes at once and report mean and spread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from ..errors import SettingsError
from .envs import make_vector_env


class Policy(Protocol):
    """Anything that acts on a batch of observations, one row per environment copy."""

    def act(self, obs: np.ndarray) -> np.ndarray: ...

    def reset(self, done: np.ndarray) -> None:
        """Forget the memory of the copies whose episode just ended (done is a boolean mask)."""


class RandomPolicy:
    """Uniformly random actions from the action space: the baseline every model must beat."""

    def __init__(self, action_space: gym.Space, seed: int = 0):
        self.action_space = action_space
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray) -> np.ndarray:
        n = len(obs)
        if isinstance(self.action_space, gym.spaces.Discrete):
            return self.rng.integers(0, self.action_space.n, size=n)
        low, high = self.action_space.low, self.action_space.high
        return self.rng.uniform(low, high, size=(n, *low.shape)).astype(np.float32)

    def reset(self, done: np.ndarray) -> None:
        pass


@dataclass
class EvalResult:
    """Returns and lengths of finished episodes, and the real steps it took."""

    returns: np.ndarray
    lengths: np.ndarray
    steps: int
    seconds: float

    @property
    def mean(self) -> float:
        return float(self.returns.mean())

    @property
    def std(self) -> float:
        return float(self.returns.std())

    def __str__(self) -> str:
        return f"{self.mean:.1f} +- {self.std:.1f} over {len(self.returns)} episodes ({self.steps} real steps)"


def random_policy_frames(env_id: str = "CarRacing-v3", at=(0, 50, 100, 150), seed: int = 0) -> dict[int, np.ndarray]:
    """The raw observations of one episode of RandomPolicy at the steps `at` (notebook 00's CarRacing frames)."""
    from .envs import make_env

    env = make_env(env_id)
    policy = RandomPolicy(env.action_space, seed=seed)
    obs, _ = env.reset(seed=seed)
    frames = {}
    for t in range(max(at) + 1):
        if t in at:
            frames[t] = obs
        obs, *_ = env.step(policy.act(obs[None])[0])
    env.close()
    return frames


def evaluate(env_id: str, policy: Policy | None, episodes: int, seed: int = 0, num_envs: int = 1,
             progress: bool = True, max_steps: int | None = None) -> EvalResult:
    """Run `episodes` full episodes of `policy` (None: random) in `num_envs` parallel copies of the real env
    (max_steps: cut each episode there, for quick tests; None: the game's own limit).

    Each copy plays a fixed share of the episodes, so short episodes are not over-represented.
    """
    import time

    if episodes < 1:
        raise SettingsError(f"episodes must be at least 1, got {episodes}.")
    num_envs = min(num_envs, episodes)
    quota = np.full(num_envs, episodes // num_envs)
    quota[: episodes % num_envs] += 1
    envs = make_vector_env(env_id, num_envs, max_steps=max_steps)
    policy = policy or RandomPolicy(envs.single_action_space, seed)
    returns: list[float] = []
    lengths: list[int] = []
    done_per_env = np.zeros(num_envs, dtype=int)
    running_return = np.zeros(num_envs)
    running_length = np.zeros(num_envs, dtype=int)
    steps = 0
    start = time.perf_counter()
    obs, _ = envs.reset(seed=seed)
    policy.reset(np.ones(num_envs, dtype=bool))
    bar = tqdm(total=episodes, desc=f"{env_id} episodes", disable=not progress)
    try:
        while (done_per_env < quota).any():
            obs, reward, terminated, truncated, _ = envs.step(policy.act(obs))
            steps += int((done_per_env < quota).sum())
            running_return += reward
            running_length += 1
            finished = terminated | truncated
            for i in np.flatnonzero(finished):
                if done_per_env[i] < quota[i]:
                    returns.append(float(running_return[i]))
                    lengths.append(int(running_length[i]))
                    done_per_env[i] += 1
                    bar.update(1)
            running_return[finished] = 0.0
            running_length[finished] = 0
            policy.reset(finished)
    finally:
        bar.close()
        envs.close()
    return EvalResult(np.array(returns), np.array(lengths), steps, time.perf_counter() - start)

