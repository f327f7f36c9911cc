"""One round of the paper's iterative training on CarRacing: collect real episodes with the controller evolved
in the dream (plus exploration noise), encode them, train M on old and new data together, evolve a new
controller in the new dream, and score it in reality. Every step is skipped when its output exists.

    python scripts/iterate_carracing.py [RUNS_DIR] [ROUND]     (default runs/CarRacing-v3, round 1)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from wmcourse import agent, controller, dream, evaluate, evolve, mdnrnn, rollouts, vae

EPISODES, NOISE, EPOCHS, GENERATIONS, POPULATION, ROLLOUTS, REAL_EPISODES = 32, 0.1, 30, 20, 64, 8, 10


def main(runs: Path, round_: int) -> None:
    torch.set_num_threads(1)
    previous = "" if round_ == 1 else f"_iter{round_ - 1}"
    here = f"_iter{round_}"
    v = vae.load_vae(runs / "vae_z32.pt")
    m_old = mdnrnn.load_mdnrnn(runs / f"mdnrnn{previous}.pt")
    params, config, _ = controller.load_controller(runs / f"controller{previous}.npz")

    new_rollouts = runs / f"rollouts{here}"
    policy = agent.NoisyPolicy(agent.WorldModelAgent(v, m_old, params, config), np.array([-1, 0, 0]),
                               np.array([1, 1, 1]), NOISE, seed=round_)
    rollouts.collect("CarRacing-v3", EPISODES, new_rollouts, num_envs=2, policy=policy, seed=100 * round_,
                     episodes_per_shard=16)

    merged = runs / f"encoded_all{here}"
    merged.mkdir(exist_ok=True)
    vae.encode_rollouts(v, new_rollouts, runs / f"encoded{here}")
    for folder in [runs / "encoded", *(runs / f"encoded_iter{r}" for r in range(1, round_ + 1))]:
        for f in sorted(folder.glob("*.npz")):
            target = merged / f"{folder.name}_{f.name}"
            if not target.exists():
                shutil.copy(f, target)

    m_path = runs / f"mdnrnn{here}.pt"
    if not m_path.exists():  # continue from the previous M's checkpoint (weights and optimizer) on all the data
        shutil.copy(runs / f"mdnrnn{previous}.pt", m_path)
    done_epochs = len(torch.load(m_path, map_location="cpu", weights_only=True)["history"])
    target_epochs = done_epochs if m_path.with_suffix(".done").exists() else done_epochs + EPOCHS
    m_new, _ = mdnrnn.train_mdnrnn(mdnrnn.load_encoded(merged), m_old.config, m_path, epochs=target_epochs)
    m_path.with_suffix(".done").touch()

    starts = agent.start_latents(mdnrnn.load_encoded(merged))
    settings = evolve.EvolveConfig(population=POPULATION, rollouts=ROLLOUTS, generations=GENERATIONS, seed=round_)
    c_path = runs / f"controller{here}.npz"
    world, c_config = dream.controller_dream(m_new, starts, seed=settings.seed)
    result = evolve.evolve_in_dream(world, c_config, settings, checkpoint=str(c_path) + ".es.pkl")
    controller.save_controller(c_path, result.best_params, c_config, history=result.history, tau=1.0,
                               mdnrnn=str(m_path), round=round_)
    real = evaluate.evaluate("CarRacing-v3", agent.WorldModelAgent(v, m_new, result.best_params, c_config),
                             REAL_EPISODES, seed=1000, num_envs=2)
    report = {"round": round_, "new_episodes": EPISODES, "noise": NOISE, "real_steps_collected":
              rollouts.count_frames(new_rollouts), "dream_mean_last_generation": result.history[-1]["mean"],
              "real_mean": real.mean, "real_std": real.std, "real_episodes": REAL_EPISODES,
              "real_returns": real.returns.round(2).tolist()}
    (runs / f"iteration{here}.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/CarRacing-v3"), int(sys.argv[2]) if len(sys.argv) > 2 else 1)
