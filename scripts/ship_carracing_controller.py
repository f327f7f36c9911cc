"""Copy the controllers made by scripts/evolve_carracing_controller.sh (and, when it has run, the round of
iterative training by scripts/iterate_carracing.py), their real evaluations and the tau sweep into data/, and
record them in the manifest with the command and the measured figures.

    python scripts/ship_carracing_controller.py [RUNS_DIR]      (default runs/CarRacing-v3)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from wmcourse import agent, artefacts, controller, mdnrnn, shipped, tau_sweep

COMMAND = "bash scripts/evolve_carracing_controller.sh"
REFERENCE_SEED, REFERENCE_STEPS = 1000, 300


def ship_controller(runs: Path, iteration: int) -> None:
    """One controller, its real evaluation, and two references a test replays with the shipped files: one real
    drive and a few seeded dreams."""
    data, tag = artefacts.data_dir(), "" if iteration == 0 else f"_iter{iteration}"
    step = "python -m wmcourse evolve" if iteration == 0 else f"python scripts/iterate_carracing.py {runs} {iteration}"
    if iteration:
        m = mdnrnn.load_mdnrnn(runs / f"mdnrnn{tag}.pt")
        m_target = mdnrnn.save_mdnrnn(m, data / f"mdnrnn_carracing{tag}.pt")
        report = json.loads((runs / f"iteration{tag}.json").read_text())
        artefacts.record(m_target, f"{COMMAND}  (step: {step})", seed=iteration,
                         figures={k: report[k] for k in ("new_episodes", "noise", "real_steps_collected")})
    params, config, details = controller.load_controller(runs / f"controller{tag}.npz")
    real = json.loads((runs / f"controller{tag}_eval.json").read_text())
    last = details["history"][-1]
    target = data / shipped.controller_name(iteration)
    shutil.copy(runs / f"controller{tag}.npz", target)
    artefacts.record(target, f"{COMMAND}  (step: {step})", seed=iteration,
                     figures={"generations": last["generation"], "dream_mean_last_generation": round(last["mean"], 1),
                              "dream_best_last_generation": round(last["best"], 1),
                              "real_mean": round(real["mean"], 1), "real_std": round(real["std"], 1),
                              "real_episodes": real["episodes"]},
                     measured_on="real CarRacing-v3, track seeds 1000 and up (python -m wmcourse eval-agent)")
    m = shipped.load_shipped_mdnrnn(iteration=iteration)
    wm = agent.WorldModelAgent(shipped.load_shipped_vae(), m, params, config)
    real["reference_drive"] = {"seed": REFERENCE_SEED, "steps": REFERENCE_STEPS,
                               "return": float(agent.drive_real(wm, REFERENCE_SEED, REFERENCE_STEPS)["rewards"].sum())}
    starts = agent.start_latents(shipped.load_shipped_heldout_encoded())
    real["reference_dreams"] = {"dreams": 8, "steps": REFERENCE_STEPS, "tau": details["tau"], "seed": 1, "returns": [
        round(float(r), 3) for r in tau_sweep.dream_score(m, starts, params, config, details["tau"], 8,
                                                           REFERENCE_STEPS, seed=1)]}
    evaluation = data / shipped.controller_name(iteration, "_eval.json")
    evaluation.write_text(json.dumps(real, indent=1) + "\n")
    artefacts.record(evaluation, f"{COMMAND}  (step: python -m wmcourse eval-agent --episodes {real['episodes']})",
                     seed=1000, figures={"mean": round(real["mean"], 1), "std": round(real["std"], 1)})


def main(runs: Path) -> None:
    ship_controller(runs, 0)
    iteration = 1
    while (runs / f"controller_iter{iteration}_eval.json").exists():
        ship_controller(runs, iteration)
        iteration += 1
    sweep = runs / "tau_sweep.json"
    if sweep.exists():
        shipped = artefacts.data_dir() / tau_sweep.TAU_SWEEP_NAME
        shutil.copy(sweep, shipped)
        rows = json.loads(sweep.read_text())["rows"]
        artefacts.record(shipped, f"{COMMAND}  (step: python -m wmcourse tau-sweep ...)", seed=0,
                         figures={f"tau {r['tau']:g}": f"dream {r['dream_mean']:.1f}, real {r['real_mean']:.1f}"
                                  for r in rows})
    print("\n".join(artefacts.verify()) or f"data/ recorded: {len(artefacts.load_manifest())} artefacts")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/CarRacing-v3"))
