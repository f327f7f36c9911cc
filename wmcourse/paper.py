"""Numbers reported by the paper (Ha & Schmidhuber 2018), for comparison. None of them is measured here.

Every notebook that shows one of these labels it as the paper's; the course's own measurements come from
artefacts in data/ (see wmcourse.artefacts).
"""

from __future__ import annotations

# VizDoom Take Cover, controller trained only inside the dream, then scored in the dream and in the real game:
# tau -> (dream mean, dream std, real mean, real std). Above 750 counts as solved; a random policy scores 210 +- 108.
VIZDOOM_TAU_TABLE: dict[float, tuple[float, float, float, float]] = {
    0.10: (2086, 140, 193, 58),
    0.50: (2060, 277, 196, 50),
    1.00: (1145, 690, 868, 511),
    1.15: (918, 546, 1092, 556),
    1.30: (732, 269, 753, 139),
}
VIZDOOM_RANDOM = (210, 108)
VIZDOOM_SOLVED = 750

# CarRacing, mean +- std over 100 random tracks; every controller here was trained in the REAL environment.
CARRACING_TABLE: dict[str, tuple[float, float]] = {
    "DQN": (343, 18),
    "A3C (continuous)": (591, 45),
    "A3C (discrete)": (652, 10),
    "V only (z)": (632, 251),
    "V only, hidden layer": (788, 141),
    "full World Model (z, h)": (906, 21),
}
CARRACING_SOLVED = 900

MDNRNN_PARAMETERS_CARRACING = 422_368
VAE_PARAMETERS_CARRACING = 4_348_547


def tau_rows(table: dict[float, tuple[float, float, float, float]] = VIZDOOM_TAU_TABLE) -> list[dict[str, float]]:
    """A tau table as rows {tau, dream_mean, dream_std, real_mean, real_std}: the format of data/tau_sweep.json."""
    keys = ("dream_mean", "dream_std", "real_mean", "real_std")
    return [{"tau": tau, **dict(zip(keys, values))} for tau, values in sorted(table.items())]
