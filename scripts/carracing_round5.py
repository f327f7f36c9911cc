"""One more round of the paper's iterative training on CarRacing, driven by the ensemble's controller (the best
controller evolved only in dreams, data/controller_carracing_ensemble.npz): new episodes of good driving, an M that
has seen them, and the ensemble's controller evolved further in the dreams of round 2's M and the new one, each
candidate scored by its worse member. Resumable: every step skips or resumes what it wrote in the run folder.

    collect    128 real episodes driven by the ensemble's controller (it reads round 2's M) with action noise 0.1,
               track seeds from 100 x the round number, 500 (rounds 1 to 4 used 100 to 400)
    encode     the new episodes encoded by the shipped V
    train      round 2's M trained further on the new episodes for 40 epochs (carracing_round3.fine_tune)
    evolve     CMA-ES from the ensemble's controller in the dreams of round 2's M and the new M, 64 candidates x 8
               dreams in each, 20 generations; the search never sees a real score
    validate   the new controller on the 16 validation tracks (carracing_round3.validate, seeds 6,000,000 on)
    ship       data/carracing_roundN.json: the data, the search, the validation score, and each M's dream of the
               controller the round started from and of the new one

The same round again with less noise and its own tracks: --round 6 --noise 0.03 --episodes 64 (every step).

    python scripts/carracing_round5.py collect|encode|train|evolve|validate|ship [--round N --noise P
                                       --episodes E] [--runs runs/cr_roundN]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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

EPOCHS = 40
SEARCH = recipe.Search(population=64, rollouts=8, generations=20)  # 8 dreams in each of two Ms
SHIPPED = {"vae_z32.pt": catalogue.VAE_NAME, "mdnrnn_round2.pt": catalogue.mdnrnn_name(2),
           "controller_ensemble.npz": catalogue.ENSEMBLE_CONTROLLER}
COMMAND = "python scripts/carracing_round5.py"


@dataclasses.dataclass(frozen=True)
class Round:
    """Which round (its name, its track seeds from 100 x number, its seeds), how many episodes, how much noise."""

    number: int = 5
    episodes: int = 128
    noise: float = 0.1

    @property
    def name(self) -> str:
        return f"round{self.number}"

    def flags(self) -> str:
        return "" if self == Round() else f" --round {self.number} --noise {self.noise:g} --episodes {self.episodes}"


def collect(runs: Path, r: Round) -> None:
    torch.set_num_threads(1)
    driver = agent.load_agent(runs / "controller_ensemble.npz", runs / "vae_z32.pt", runs / "mdnrnn_round2.pt")
    policy = agent.NoisyPolicy(driver, np.array([-1, 0, 0]), np.array([1, 1, 1]), r.noise, seed=r.number)
    config = carracing.CarRacingConfig()
    carracing._collect(runs / "rollouts", r.episodes, config.episodes_per_shard, config.num_envs, 100 * r.number,
                       config, policy)


def encode(runs: Path) -> None:
    from wmcourse.worldmodels import vae

    latents.encode_rollouts(vae.load_vae(runs / "vae_z32.pt"), runs / "rollouts", runs / "encoded")


def evolve(runs: Path, r: Round) -> None:
    torch.set_num_threads(2)
    start = controller.load_controller(runs / "controller_ensemble.npz")[0]
    carracing.evolve_in_ensemble([runs / "mdnrnn_round2.pt", runs / f"mdnrnn_{r.name}.pt"], runs / "encoded",
                                 runs / f"controller_{r.name}.npz", round3.CONFIG.tau, round3.CONFIG.dream_steps,
                                 SEARCH.settings(r.number), start=start, round=r.number, warm="ensemble")


def cross(runs: Path, r: Round) -> dict[str, dict[str, float]]:
    """The controller the round started from and the new one, each in fresh dreams of both Ms (from the round's
    first frames; carracing_round3.dream_scores): what each M believes of each."""
    torch.set_num_threads(2)
    starts = agent.start_latents(latents.load_encoded(runs / "encoded"))
    models = {f"round {n}": mdnrnn.load_mdnrnn(runs / f"mdnrnn_round{n}.pt") for n in (2, r.number)}
    return {name: {label: round(score, 1) for label, score in
                   round3.dream_scores(runs / f"controller_{name}.npz", models, starts).items()}
            for name in ("ensemble", r.name)}


def validate(runs: Path, r: Round) -> dict[str, dict]:
    return round3.validate(runs, [f"{r.name}={runs / f'controller_{r.name}.npz'}:{runs / 'mdnrnn_round2.pt'}"])


def ship(runs: Path, r: Round) -> None:
    """data/carracing_roundN.json: the round's data, the new M's last epoch, the search's last generation, the
    validation score and each M's dream of both controllers. The M and the controller stay in the run folder: the
    controller did worse than the one it started from on the validation tracks, and the script remakes both."""
    returns, lengths = rollouts.episode_returns(runs / "rollouts")
    played = validate(runs, r)[r.name]
    history = controller.load_controller(runs / f"controller_{r.name}.npz")[2]["history"]
    result = {"round": r.number, "episodes": r.episodes, "noise": r.noise, "epochs": EPOCHS,
              "search": dataclasses.asdict(SEARCH), "data_real_steps": int(lengths.sum()),
              "data_returns": {"mean": float(returns.mean()), "std": float(returns.std())},
              "m_last_epoch": mdnrnn.read_checkpoint(runs / f"mdnrnn_{r.name}.pt")["history"][-1],
              "dream_history": [{k: round(h[k], 1) for k in ("mean", "best")} for h in history],
              "validation": played, "validation_seed": round3.real_es.VALIDATION_SEED,
              "validation_tracks": round3.VALIDATION_TRACKS,
              "cross": {"dreams": round3.CROSS_DREAMS, "seed": round3.CROSS_SEED, "scores": cross(runs, r)},
              "machine": ledger.machine(),
              "commands": [f"{COMMAND} {step}{r.flags()}" for step in ("collect", "encode", "train", "evolve",
                                                                        "validate", "ship")]}
    out = artefacts.data_dir() / f"carracing_{r.name}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    artefacts.record(out, f"{COMMAND} ship{r.flags()}", r.number, {"validation_mean": round(played["mean"], 1)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["collect", "encode", "train", "evolve", "validate", "ship"])
    parser.add_argument("--round", type=int, default=Round.number, help="its number: names, seeds, track seeds")
    parser.add_argument("--noise", type=float, default=Round.noise, help="the action noise while collecting")
    parser.add_argument("--episodes", type=int, default=Round.episodes, help="how many real episodes to collect")
    parser.add_argument("--runs", type=Path, default=None, help="the run folder (default runs/cr_roundN)")
    args = parser.parse_args()
    r = Round(args.round, args.episodes, args.noise)
    if r.number <= 4:
        raise SystemExit("--round: rounds 1 to 4 are scripts/carracing_round3.py's; pick 5 or more")
    runs = args.runs or Path(f"runs/cr_{r.name}")
    round3.setup(runs, SHIPPED)
    if args.step == "collect":
        collect(runs, r)
    elif args.step == "encode":
        encode(runs)
    elif args.step == "train":
        round3.fine_tune(runs / "mdnrnn_round2.pt", runs / "encoded", runs / f"mdnrnn_{r.name}.pt", EPOCHS, r.number)
    elif args.step == "evolve":
        evolve(runs, r)
    elif args.step == "validate":
        validate(runs, r)
    else:
        ship(runs, r)


if __name__ == "__main__":
    main()
