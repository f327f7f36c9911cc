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

# The CarRacing controller's CMA-ES run, as the paper's appendix reports it: population 64, each candidate the mean
# of 16 rollouts in the REAL environment; "After 1800 generations, an agent was able to achieve an average score of
# 900.46 over 1024 random rollouts". (A figure of about 890 after about 200 generations circulates for later runs of
# the original code; no publication reports it, so the course does not use it.)
CARRACING_CMA_GENERATIONS = 1800
CARRACING_CMA_POPULATION = 64
CARRACING_CMA_ROLLOUTS = 16
CARRACING_CMA_SCORE = (900.46, 1024)  # (mean score, rollouts it was measured on)
CARRACING_MAX_STEPS = 1000  # an episode lasts at most 1000 steps

MDNRNN_PARAMETERS_CARRACING = 422_368
VAE_PARAMETERS_CARRACING = 4_348_547


def carracing_cma_real_steps() -> int:
    """Real CarRacing steps the appendix's run used to score its candidates, at most:

        generations x population x rollouts x steps = 1800 x 64 x 16 x 1000 = 1,843,200,000

    (an upper bound: an episode can end before 1000 steps; the re-scoring of the best on 1,024 rollouts every
    25 generations comes on top)."""
    return CARRACING_CMA_GENERATIONS * CARRACING_CMA_POPULATION * CARRACING_CMA_ROLLOUTS * CARRACING_MAX_STEPS


def tau_rows(table: dict[float, tuple[float, float, float, float]] = VIZDOOM_TAU_TABLE) -> list[dict[str, float]]:
    """A tau table as rows {tau, dream_mean, dream_std, real_mean, real_std}: the format of data/tau_sweep.json."""
    keys = ("dream_mean", "dream_std", "real_mean", "real_std")
    return [{"tau": tau, **dict(zip(keys, values))} for tau, values in sorted(table.items())]
