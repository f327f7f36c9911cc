"""One more round of the paper's iterative training on CarRacing, driven by the ensemble's controller (the best
controller evolved only in dreams, data/controller_carracing_ensemble.npz): new episodes of good driving, an M that
has seen them, and the ensemble's controller evolved further in the dreams of round 2's M and the new one, each
candidate scored by its worse member. Resumable: every step skips or resumes what it wrote in the run folder.

    collect    128 real episodes driven by the ensemble's controller (it reads round 2's M) with action noise 0.1,
               track seeds from 500 (rounds 1 to 4 used 100 to 400)
    encode     the new episodes encoded by the shipped V
    train      round 2's M trained further on the new episodes for 40 epochs (carracing_round3.fine_tune)
    evolve     CMA-ES from the ensemble's controller in the dreams of round 2's M and the new M, 64 candidates x 8
               dreams in each, 20 generations; the search never sees a real score
    validate   the new controller on the 16 validation tracks (carracing_round3.validate, seeds 6,000,000 on)
    ship       data/carracing_round5.json: the data, the search, the validation score, and each M's dream of the
               controller the round started from and of the new one

    python scripts/carracing_round5.py collect|encode|train|evolve|validate|ship [--runs runs/cr_round5]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
import carracing_round3 as round3  # noqa: E402

from wmcourse import artefacts  # noqa: E402
from wmcourse.experiments import carracing, recipe  # noqa: E402
from wmcourse.real import rollouts  # noqa: E402
from wmcourse.shipped import catalogue, ledger  # noqa: E402
from wmcourse.worldmodels import agent, controller, latents, mdnrnn  # noqa: E402

ROUND = 5
EPISODES = 128
NOISE = 0.1
EPOCHS = 40
SEARCH = recipe.Search(population=64, rollouts=8, generations=20)  # 8 dreams in each of two Ms
SHIPPED = {"vae_z32.pt": catalogue.VAE_NAME, "mdnrnn_round2.pt": catalogue.mdnrnn_name(2),
           "controller_ensemble.npz": catalogue.ENSEMBLE_CONTROLLER}
COMMAND = "python scripts/carracing_round5.py"
OUT = "carracing_round5.json"


def setup(runs: Path) -> None:
    runs.mkdir(parents=True, exist_ok=True)
    for name, shipped in SHIPPED.items():
        if not (runs / name).exists():
            shutil.copy(artefacts.data_dir() / shipped, runs / name)


def collect(runs: Path) -> None:
    torch.set_num_threads(1)
    driver = agent.load_agent(runs / "controller_ensemble.npz", runs / "vae_z32.pt", runs / "mdnrnn_round2.pt")
    policy = agent.NoisyPolicy(driver, np.array([-1, 0, 0]), np.array([1, 1, 1]), NOISE, seed=ROUND)
    config = carracing.CarRacingConfig()
    carracing._collect(runs / "rollouts", EPISODES, config.episodes_per_shard, config.num_envs, 100 * ROUND, config,
                       policy)


def encode(runs: Path) -> None:
    from wmcourse.worldmodels import vae

    latents.encode_rollouts(vae.load_vae(runs / "vae_z32.pt"), runs / "rollouts", runs / "encoded")


def evolve(runs: Path) -> None:
    torch.set_num_threads(2)
    start = controller.load_controller(runs / "controller_ensemble.npz")[0]
    carracing.evolve_in_ensemble([runs / "mdnrnn_round2.pt", runs / "mdnrnn_round5.pt"], runs / "encoded",
                                 runs / "controller_round5.npz", round3.CONFIG.tau, round3.CONFIG.dream_steps,
                                 SEARCH.settings(ROUND), start=start, round=ROUND, warm="ensemble")


CROSS_DREAMS, CROSS_SEED = 64, 11  # as carracing_round3.cross


def cross(runs: Path) -> dict[str, dict[str, float]]:
    """The controller the round started from and the new one, each in 64 fresh dreams of both Ms (from the round's
    first frames): what each M believes of each."""
    from wmcourse.worldmodels import dream

    torch.set_num_threads(2)
    starts = agent.start_latents(latents.load_encoded(runs / "encoded"))
    models = {f"round {r}": mdnrnn.load_mdnrnn(runs / f"mdnrnn_round{r}.pt") for r in (2, ROUND)}
    table = {}
    for name in ("ensemble", "round5"):
        params, config, _ = controller.load_controller(runs / f"controller_{name}.npz")
        table[name] = {label: round(float(dream.dream_score(m, starts, params, config, round3.CONFIG.tau, CROSS_DREAMS,
                                                               round3.CONFIG.dream_steps, seed=CROSS_SEED).mean()), 1)
                       for label, m in models.items()}
    return table


def ship(runs: Path) -> None:
    """data/carracing_round5.json: the round's data, the new M's last epoch, the search's last generation, the
    validation score and each M's dream of both controllers. The M and the controller stay in the run folder: the
    controller did worse than the one it started from on the validation tracks, and the script remakes both."""
    returns, lengths = rollouts.episode_returns(runs / "rollouts")
    played = round3.validate(runs, [f"round5={runs / 'controller_round5.npz'}:{runs / 'mdnrnn_round2.pt'}"])
    history = controller.load_controller(runs / "controller_round5.npz")[2]["history"]
    result = {"round": ROUND, "episodes": EPISODES, "noise": NOISE, "epochs": EPOCHS,
              "search": dataclasses.asdict(SEARCH), "data_real_steps": int(lengths.sum()),
              "data_returns": {"mean": float(returns.mean()), "std": float(returns.std())},
              "m_last_epoch": mdnrnn.read_checkpoint(runs / "mdnrnn_round5.pt")["history"][-1],
              "dream_history": [{k: round(h[k], 1) for k in ("mean", "best")} for h in history],
              "validation": played["round5"], "validation_seed": round3.real_es.VALIDATION_SEED,
              "validation_tracks": round3.VALIDATION_TRACKS,
              "cross": {"dreams": CROSS_DREAMS, "seed": CROSS_SEED, "scores": cross(runs)},
              "machine": ledger.machine(),
              "commands": [f"{COMMAND} {step}" for step in ("collect", "encode", "train", "evolve", "validate",
                                                             "ship")]}
    out = artefacts.data_dir() / OUT
    out.write_text(json.dumps(result, indent=1) + "\n")
    artefacts.record(out, f"{COMMAND} ship", ROUND, {"validation_mean": round(played["round5"]["mean"], 1)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["collect", "encode", "train", "evolve", "validate", "ship"])
    parser.add_argument("--runs", type=Path, default=Path("runs/cr_round5"))
    args = parser.parse_args()
    runs = args.runs
    setup(runs)
    if args.step == "collect":
        collect(runs)
    elif args.step == "encode":
        encode(runs)
    elif args.step == "train":
        round3.fine_tune(runs / "mdnrnn_round2.pt", runs / "encoded", runs / "mdnrnn_round5.pt", EPOCHS, ROUND)
    elif args.step == "evolve":
        evolve(runs)
    elif args.step == "validate":
        round3.validate(runs, [f"round5={runs / 'controller_round5.npz'}:{runs / 'mdnrnn_round2.pt'}"])
    else:
        ship(runs)


if __name__ == "__main__":
    main()
