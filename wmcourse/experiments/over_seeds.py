"""Results over seeds: one number per seed, summarised by its mean and its spread across seeds.

A single run of a reinforcement-learning experiment is one draw from a distribution: another random seed
can overturn it. So every shipped result here is run with several seeds and reported as

    mean across seeds +- std across seeds   (population std: the spread of these seeds, not a standard error)
    min .. max across seeds, and every seed's own value

`spread` summarises one number; `curve_spread` summarises learning curves measured at the same x values.
"""

from __future__ import annotations

import numpy as np

from ..errors import SettingsError


def spread(values: list[float], seeds: list[int]) -> dict:
    """{"per_seed": {seed: value}, "mean", "std", "min", "max", "n"} of one number measured once per seed."""
    if len(values) != len(seeds) or not values:
        raise SettingsError(f"Need one value per seed, got {len(values)} values for seeds {seeds}.")
    v = np.asarray(values, dtype=float)
    return {"per_seed": {str(s): float(x) for s, x in zip(seeds, v)}, "mean": float(v.mean()),
            "std": float(v.std()), "min": float(v.min()), "max": float(v.max()), "n": len(v)}


def curve_spread(curves: list[list[dict]], seeds: list[int], y: str = "mean") -> dict:
    """Learning curves (one list of {"steps": ..., y: ...} points per seed, measured at the same real steps in
    each; every learning curve in the course puts its real steps under "steps") ->
    {"steps": [...], "per_seed": {seed: [...]}, "mean": [...], "std": [...], "min": [...], "max": [...]}."""
    if len(curves) != len(seeds) or not curves:
        raise SettingsError(f"Need one curve per seed, got {len(curves)} curves for seeds {seeds}.")
    xs = [[p["steps"] for p in c] for c in curves]
    if any(row != xs[0] for row in xs):
        raise SettingsError(f"The curves are measured at different 'steps' values: {xs}.")
    ys = np.asarray([[p[y] for p in c] for c in curves], dtype=float)
    return {"steps": xs[0], "per_seed": {str(s): row.tolist() for s, row in zip(seeds, ys)},
            "mean": ys.mean(axis=0).tolist(), "std": ys.std(axis=0).tolist(),
            "min": ys.min(axis=0).tolist(), "max": ys.max(axis=0).tolist()}


def format_spread(s: dict, digits: int = 1) -> str:
    """'mean ± std (min–max)' of a spread."""
    return f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"
