"""The temperature sweep: one controller evolved in the dream at each tau, scored in the dream and in reality.

The paper's VizDoom table (wmcourse.paper.VIZDOOM_TAU_TABLE) asks: does a noisier dream (tau > 1) give a
controller that holds up better in the real game? Each row here is

    tau -> evolve C with CMA-ES in M's dream at temperature tau
        -> dream score: C's mean return over many fresh dreams at the same tau
        -> real score:  C driving with V and M in the real environment, mean over real episodes

Rows are written as they finish, so a sweep that stops resumes at the next tau.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..checkpoint import atomic_write_text
from ..real import evaluate
from ..worldmodels import agent, controller, dream, evolve, latents, mdnrnn, vae
from ..worldmodels.dream import dream_score  # noqa: F401  (notebooks 06 and 05 call tau_sweep.dream_score; one function, in dream.py)


@dataclass(frozen=True)
class TauSweepConfig:
    taus: tuple[float, ...] = (0.5, 1.0, 1.15, 1.3)
    generations: int = 40
    population: int = 32
    rollouts: int = 8           # dreams per candidate while evolving
    dream_episodes: int = 256   # dreams that score the final controller
    real_episodes: int = 20     # real episodes that score it
    max_steps: int = 1000
    num_envs: int = 2
    seed: int = 0


def run_tau_sweep(vae_path: str | Path, mdnrnn_path: str | Path, encoded: str | Path, out: str | Path,
                  config: TauSweepConfig = TauSweepConfig()) -> dict:
    """Evolve, dream-score and real-score one controller per tau, and score a random policy on the same real
    tracks; write {"rows": [...], "random": {...}, ...} to `out` (JSON)."""
    out = Path(out)
    work = out.with_suffix("")  # controllers and CMA-ES checkpoints live beside the table
    work.mkdir(parents=True, exist_ok=True)
    sweep = json.loads(out.read_text()) if out.exists() else {}
    if sweep and sweep.get("config") != json.loads(json.dumps(asdict(config))):
        raise ValueError(f"{out} was made with other settings ({sweep.get('config')}): delete it or use another --out.")
    sweep = {"env": "CarRacing-v3", "config": asdict(config), "mdnrnn": str(mdnrnn_path), "vae": str(vae_path),
             "rows": sweep.get("rows", []), "random": sweep.get("random")}
    model, v = mdnrnn.load_mdnrnn(mdnrnn_path), vae.load_vae(vae_path)
    starts = agent.start_latents(latents.load_encoded(encoded))
    done = {row["tau"] for row in sweep["rows"]}
    for tau in config.taus:
        if tau in done:
            continue
        start = time.perf_counter()
        settings = evolve.EvolveConfig(population=config.population, rollouts=config.rollouts,
                                       generations=config.generations, seed=config.seed)
        world, c = dream.controller_dream(model, starts, tau, config.max_steps, seed=settings.seed)
        result = evolve.evolve_in_dream(world, c, settings, checkpoint=work / f"controller_tau{tau:g}.npz.es.pkl")
        controller.save_controller(work / f"controller_tau{tau:g}.npz", result.best_params, c,
                                   history=result.history, tau=tau, mdnrnn=str(mdnrnn_path))
        in_dream = dream_score(model, starts, result.best_params, c, tau, config.dream_episodes, config.max_steps)
        wm = agent.WorldModelAgent(v, model, result.best_params, c)
        real = evaluate.evaluate("CarRacing-v3", wm, config.real_episodes, seed=1000, num_envs=config.num_envs)
        sweep["rows"].append({"tau": tau, "dream_mean": float(in_dream.mean()), "dream_std": float(in_dream.std()),
                              "real_mean": real.mean, "real_std": real.std, "real_returns": real.returns.round(1).tolist(),
                              "seconds": round(time.perf_counter() - start, 1)})
        print(f"tau {tau:g}: dream {in_dream.mean():.1f} +- {in_dream.std():.1f}, real {real.mean:.1f} +- {real.std:.1f}")
        atomic_write_text(out, json.dumps(sweep, indent=1) + "\n")
    if sweep["random"] is None:  # the bar every row must clear, on the same tracks
        real = evaluate.evaluate("CarRacing-v3", None, config.real_episodes, seed=1000, num_envs=config.num_envs)
        sweep["random"] = {"real_mean": real.mean, "real_std": real.std, "real_returns": real.returns.round(1).tolist()}
        print(f"random policy: real {real.mean:.1f} +- {real.std:.1f}")
        atomic_write_text(out, json.dumps(sweep, indent=1) + "\n")
    return sweep


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

