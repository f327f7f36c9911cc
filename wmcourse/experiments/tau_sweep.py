"""The temperature sweep: one controller evolved in the dream at each tau, scored in the dream and in reality.

The paper's VizDoom table (wmcourse.paper.VIZDOOM_TAU_TABLE) asks: does a noisier dream (tau > 1) give a
controller that holds up better in the real game? Each row here is

    tau -> evolve C with CMA-ES in M's dream at temperature tau
        -> dream score: C's mean return over many fresh dreams at the same tau
        -> real score:  C driving with V and M in the real environment, mean over real episodes

Each row is a stage of the experiments runner, written as it finishes, so a sweep that stops resumes at
the next tau; the row itself is the World Models recipe (recipe.evolve_and_score).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..real import evaluate
from ..worldmodels import agent, latents, mdnrnn, vae
from . import recipe
from .runner import Run, Stage, section


@dataclass(frozen=True)
class TauSweepConfig:
    taus: tuple[float, ...] = (0.5, 1.0, 1.15, 1.3)
    search: recipe.Search = section(recipe.Search(population=32, rollouts=8, generations=40))
    dream_episodes: int = 256   # dreams that score the final controller
    real_episodes: int = 20     # real episodes that score it
    max_steps: int = 1000
    real_max_steps: int | None = None  # cut each real episode there (quick tests); None: the game's 1,000
    num_envs: int = 2
    seed: int = 0               # CMA-ES's and its dreams'
    dream_seed: int = 1         # the scoring dreams'
    eval_seed: int = 1000       # the real tracks': the same for every tau and the random policy


def run_tau_sweep(vae_path: str | Path, mdnrnn_path: str | Path, encoded: str | Path, out: str | Path,
                  config: TauSweepConfig = TauSweepConfig()) -> dict:
    """Evolve, dream-score and real-score one controller per tau, and score a random policy on the same real
    tracks; write {"rows": [...], "random": {...}, ...} to `out` (JSON)."""
    out, c = Path(out), config
    work = out.with_suffix("")  # controllers and CMA-ES checkpoints live beside the table
    work.mkdir(parents=True, exist_ok=True)
    model = recipe.MDNRNNModel("CarRacing-v3", mdnrnn.load_mdnrnn(mdnrnn_path),
                               agent.start_latents(latents.load_encoded(encoded)), vae.load_vae(vae_path))
    scoring = recipe.Scoring(c.dream_episodes, c.dream_seed, c.real_episodes, c.eval_seed, c.num_envs,
                             c.real_max_steps)

    def row(tau: float) -> dict:
        start = time.perf_counter()
        scored = recipe.evolve_and_score(model, tau, c.max_steps, c.search.settings(c.seed), scoring,
                                         save=work / f"controller_tau{tau:g}.npz", mdnrnn=str(mdnrnn_path))
        print(f"tau {tau:g}: dream {scored.dreams.mean():.1f} +- {scored.dreams.std():.1f}, real "
              f"{scored.real.mean:.1f} +- {scored.real.std:.1f}")
        return {**scored.row(), "seconds": round(time.perf_counter() - start, 1)}

    def random_policy() -> dict:  # the bar every row must clear, on the same tracks
        real = evaluate.evaluate("CarRacing-v3", None, c.real_episodes, seed=c.eval_seed, num_envs=c.num_envs,
                                 max_steps=c.real_max_steps)
        print(f"random policy: real {real.mean:.1f} +- {real.std:.1f}")
        return recipe.real_row(real)

    stages = [*(Stage(f"tau {tau:g}", lambda tau=tau: row(tau), keep=lambda state, r: state["rows"].append(r),
                      finished=lambda state, tau=tau: any(r["tau"] == tau for r in state.get("rows", [])))
                for tau in c.taus),
              Stage("random-policy", random_policy, keep=lambda state, r: state.update(random=r),
                    finished=lambda state: state.get("random") is not None)]
    run = Run(out, c, TauSweepConfig(), stages)
    run.state.update({"env": "CarRacing-v3", "mdnrnn": str(mdnrnn_path), "vae": str(vae_path),
                      "rows": run.state.get("rows", []), "random": run.state.get("random")})
    return run.run(stages)


# --- the shipped sweep (notebooks 03 and 06) ------------------------------------------------------------

TAU_SWEEP_NAME = "tau_sweep.json"
TAU_SWEEP_COMMAND = ("python -m wmcourse tau-sweep --vae data/vae_carracing_z32.pt --mdnrnn data/mdnrnn_carracing.pt "
                     "--encoded data/carracing_heldout_encoded.npz --out data/tau_sweep.json")
TAU_SWEEP_KEYS = ("tau", "dream_mean", "dream_std", "real_mean", "real_std")


def load_tau_sweep(folder: str | Path | None = None) -> dict | None:
    """The measured tau sweep in data/tau_sweep.json, or None while it has not been made.

    Format: {"env": ..., "rows": [{"tau", "dream_mean", "dream_std", "real_mean", "real_std", ...}, ...], ...}.
    """
    from ..artefacts import data_dir, require
    from ..errors import ShapeError

    folder = Path(folder or data_dir())
    if not (folder / TAU_SWEEP_NAME).exists():
        return None
    path = require(TAU_SWEEP_NAME, TAU_SWEEP_COMMAND, folder)  # checked against the manifest before it is read
    sweep = json.loads(path.read_text())
    rows = sweep.get("rows") if isinstance(sweep, dict) else None
    if not rows or any(not all(k in row for k in TAU_SWEEP_KEYS) for row in rows):
        raise ShapeError(f"{path} is not a tau sweep: expected {{'rows': [{{{', '.join(TAU_SWEEP_KEYS)}}}, ...]}}. "
                         f"Remake it with:\n    {TAU_SWEEP_COMMAND}")
    sweep["rows"] = sorted(rows, key=lambda row: row["tau"])
    return sweep


def random_band(sweep: dict) -> tuple[float, float] | None:
    """(mean, std) of the random policy on the sweep's real tracks, for plots.tau_table_plot's band; None for a
    sweep made before the random policy was part of it."""
    random = sweep.get("random")
    return (round(random["real_mean"], 1), round(random["real_std"], 1)) if random else None

