"""What one step costs: a real environment step against a step of the learned dream."""

from __future__ import annotations

import time

from .envs import make_env


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



def drive_frames_per_second(driver, steps: int = 200, keys: tuple[str, ...] = ("ArrowUp",), scale: int = 1,
                            threads: int | None = 1) -> float:
    """Frames a second of the drive-the-dream widget's work, without a browser: one step of the driver
    (wmcourse.drive: M's step and sample, V's decode; or the real game), then the picture encoded as the PNG the
    widget sends (wmcourse.widgets.png_bytes; at its own size, the browser enlarges it), on `threads` torch threads as the widget runs it (None: torch's
    own choice). A finished episode is reset (not counted)."""
    from .runtime import torch_threads

    with torch_threads(threads):
        return _drive_rate(driver, steps, keys, scale)


def _drive_rate(driver, steps: int, keys: tuple[str, ...], scale: int) -> float:
    from .widgets import png_bytes

    driver.reset()
    for _ in range(5):  # warm-up: first calls allocate
        png_bytes(driver.step(keys), scale)
    done, start = 0, time.perf_counter()
    while done < steps:
        if driver.done:
            paused = time.perf_counter()
            driver.reset()
            start += time.perf_counter() - paused
        png_bytes(driver.step(keys), scale)
        done += 1
    return steps / (time.perf_counter() - start)


def drive_rates(steps: int = 200, threads: int | None = 1) -> dict[str, float]:
    """drive_frames_per_second for the shipped CarRacing V and M (dream, then the real game) and the shipped
    CartPole World Model, as notebooks 06 and 07 drive them."""
    from . import cartpole_experiment, drive, shipped

    car = drive.CarDriver(shipped.load_shipped_vae(), shipped.load_shipped_mdnrnn(), shipped.pick_heldout_frames(8))
    rates = {"CarRacing dream (M steps, V decodes)": drive_frames_per_second(car, steps, threads=threads)}
    car.set_world("real")
    rates["real CarRacing (the game steps, V encodes and decodes)"] = drive_frames_per_second(car, steps,
                                                                                            threads=threads)
    car.close()
    model, _, _, data = cartpole_experiment.load_shipped("failure")
    pole = drive.CartPoleDriver(model, data.first_states[:16])
    rates["CartPole dream beside its real physics"] = drive_frames_per_second(pole, steps, ("ArrowLeft",),
                                                                              threads=threads)
    return rates
