"""What one step costs: a real environment step against a step of the learned dream."""

from __future__ import annotations

import time

from ..real.envs import make_env

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}  # cpu: this process's CPU seconds, all threads


def real_steps_per_second(env_id: str, steps: int = 500, seed: int = 0, clock: str = "wall",
                          as_shipped: bool = False) -> float:
    """Steps per second of one real environment under random actions (resets included, as in training), by the
    wall clock or by this process's CPU time (CLOCKS: on a shared machine, what the steps cost rather than how
    much of the machine they got). as_shipped: CarRacing as gymnasium draws it, not the course's quicker drawing of
    the same frames (wmcourse.real.quick_road)."""
    env = make_env(env_id, as_shipped=as_shipped)
    env.action_space.seed(seed)
    env.reset(seed=seed)
    warmup = min(20, steps)  # the first CarRacing steps build the track: not counted
    tick = CLOCKS[clock]
    for i in range(warmup + steps):
        if i == warmup:
            start = tick()
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    seconds = tick() - start
    env.close()
    return steps / seconds


def format_rate(steps_per_second: float, clock: str = "wall") -> str:
    """'1,234 steps/s (0.81 ms a step)', or per CPU second: '1,234 steps/CPU-s (0.81 CPU-ms a step)'."""
    unit = "" if clock == "wall" else "CPU-"
    return f"{steps_per_second:,.0f} steps/{unit}s ({1000.0 / steps_per_second:.3g} {unit}ms a step)"


