"""Round 3 of the paper's iterative training on CarRacing, from the shipped round-2 V, M and C, four times the
size of the earlier rounds; then the candidates compared on held-out validation tracks. Resumable: every step
skips or resumes what it wrote in the run folder.

    collect    128 real episodes driven by round 2's controller with action noise 0.1 (track seeds from 300)
    encode     the new episodes encoded by the shipped V
    train      M fine-tuned from round 2's weights on the new episodes for 40 epochs (a fresh Adam: the shipped
               M keeps no optimizer state). --dropout P: Dropout's Dream Land's M (MDNRNNConfig.dropout)
    evolve     a new controller evolved by CMA-ES in the new M's dream, 64 candidates x 16 dreams, 20
               generations; the search never sees a real score
    validate   each NAME=CONTROLLER:MDNRNN on the 16 validation tracks (seeds 6,000,000 on, one track a seed, as
               real_es.select_generation): apart from every training seed and from the reporting tracks

    python scripts/carracing_round3.py collect|encode|train|evolve [--dropout P] [--runs runs/cr_row1]
    python scripts/carracing_round3.py validate round2=R/controller_round2.npz:R/mdnrnn_round2.pt ...
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import torch

from wmcourse import artefacts
from wmcourse.experiments import carracing, recipe
from wmcourse.real.backend import LocalBackend
from wmcourse.worldmodels import controller, latents, mdnrnn, real_es
from wmcourse.worldmodels import train_mdnrnn as training

ROUND = 3
EPISODES = 128
EPOCHS = 40
VALIDATION_TRACKS = 16
CONFIG = dataclasses.replace(carracing.CarRacingConfig(),
                             round=dataclasses.replace(carracing.CarRacingConfig().round, episodes=EPISODES))
SEARCH = recipe.Search(population=64, rollouts=16, generations=20)
SHIPPED = {"vae_z32.pt": "vae_carracing_z32.pt", "mdnrnn_round2.pt": "mdnrnn_carracing_round2.pt",
           "controller_round2.npz": "controller_carracing_round2.npz"}


def suffix(dropout: float) -> str:
    return f"_dropout{dropout:g}" if dropout else ""


def m_path(runs: Path, dropout: float) -> Path:
    return runs / f"mdnrnn_round{ROUND}{suffix(dropout)}.pt"


def c_path(runs: Path, dropout: float) -> Path:
    return runs / f"controller_round{ROUND}{suffix(dropout)}.npz"


def setup(runs: Path) -> None:
    runs.mkdir(parents=True, exist_ok=True)
    for name, shipped in SHIPPED.items():
        if not (runs / name).exists():
            shutil.copy(artefacts.data_dir() / shipped, runs / name)


def train(runs: Path, dropout: float) -> None:
    now = carracing.paths(runs, ROUND)
    ckpt = m_path(runs, dropout).with_suffix(".ckpt.pt")
    config = dataclasses.replace(carracing.mdnrnn_config(CONFIG), dropout=dropout)
    if not ckpt.exists():  # round 2's weights and a fresh optimizer
        model = mdnrnn.MDNRNN(config).eval()
        model.load_state_dict(mdnrnn.read_checkpoint(runs / "mdnrnn_round2.pt")["model"])
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
        mdnrnn.save_mdnrnn(model, ckpt, optimizer=opt.state_dict(), history=[], seed=ROUND,
                           index_generator=torch.Generator().manual_seed(ROUND).get_state(),
                           noise_generator=torch.Generator().manual_seed(ROUND + 1).get_state())
    torch.set_num_threads(2)
    model, history = training.train_mdnrnn(latents.load_encoded(now["all_encoded"]), config, ckpt, epochs=EPOCHS,
                                           seed=ROUND, device="cpu")
    mdnrnn.save_mdnrnn(model, m_path(runs, dropout), history=history)


def evolve(runs: Path, dropout: float) -> None:
    torch.set_num_threads(2)
    carracing.evolve_controller(m_path(runs, dropout), carracing.paths(runs, ROUND)["all_encoded"],
                                c_path(runs, dropout), CONFIG.tau, CONFIG.dream_steps, SEARCH.settings(ROUND),
                                round=ROUND, dropout=dropout)


def validate(runs: Path, named: list[str]) -> dict[str, dict]:
    """Each NAME=CONTROLLER:MDNRNN on the validation tracks; every episode a line of runs/validation.jsonl."""
    torch.set_num_threads(1)
    log = runs / "validation.jsonl"
    seeds = [real_es.VALIDATION_SEED + i for i in range(VALIDATION_TRACKS)]
    done: dict[tuple[str, int], tuple[float, int]] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            try:
                row = json.loads(line)
                done[row["name"], row["episode"]] = (row["return"], row["steps"])
            except (json.JSONDecodeError, KeyError):
                continue  # a line cut short by a crash: that episode runs again
    results = {}
    for item in named:
        name, files = item.split("=")
        controller_file, mdnrnn_file = files.split(":")
        params, config, _ = controller.load_controller(controller_file)

        def write(_: int, e: int, total: float, steps: int, name: str = name) -> None:
            with log.open("a") as f:
                f.write(json.dumps({"name": name, "episode": e, "seed": seeds[e], "return": total,
                                    "steps": steps}) + "\n")

        scores = real_es.score_population(np.asarray(params)[None], seeds, str(runs / "vae_z32.pt"), mdnrnn_file,
                                          config, LocalBackend(2), finished={(0, e): v for (n, e), v in done.items()
                                                                             if n == name},
                                          on_episode=write)
        returns = scores.returns[0]
        results[name] = {"mean": float(returns.mean()), "std": float(returns.std()),
                         "real_steps": int(scores.steps.sum()), "returns": returns.round(2).tolist()}
        print(f"{name}: {returns.mean():.1f} ± {returns.std():.1f} on {len(seeds)} validation tracks "
              f"({scores.steps.sum():,} real steps)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["collect", "encode", "train", "evolve", "validate"])
    parser.add_argument("named", nargs="*", help="validate: NAME=CONTROLLER:MDNRNN ...")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--runs", type=Path, default=Path("runs/cr_row1"))
    args = parser.parse_args()
    setup(args.runs)
    task = carracing._Rounds(args.runs, CONFIG)
    if args.step == "collect":
        task.collect(ROUND)
    elif args.step == "encode":
        task.encode(ROUND)
    elif args.step == "train":
        train(args.runs, args.dropout)
    elif args.step == "evolve":
        evolve(args.runs, args.dropout)
    else:
        validate(args.runs, args.named)


if __name__ == "__main__":
    main()
