"""What one step costs: a real environment step against a step of the learned dream."""

from __future__ import annotations

import time

from ..real.envs import make_env


def real_steps_per_second(env_id: str, steps: int = 500, seed: int = 0) -> float:
    """Steps per second of one real environment under random actions (resets included, as in training)."""
    env = make_env(env_id)
    env.action_space.seed(seed)
    env.reset(seed=seed)
    warmup = min(20, steps)  # the first CarRacing steps build the track: not counted
    for i in range(warmup + steps):
        if i == warmup:
            start = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    seconds = time.perf_counter() - start
    env.close()
    return steps / seconds


def format_rate(steps_per_second: float) -> str:
    """'1,234 steps/s (0.81 ms a step)'."""
    return f"{steps_per_second:,.0f} steps/s ({1000.0 / steps_per_second:.3g} ms a step)"


