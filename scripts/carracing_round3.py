"""Round 3 of the iterative training the paper proposes, on CarRacing, from the shipped round-2 V, M and C, four
times the size of the earlier rounds; then the candidates compared on held-out validation tracks. Resumable: every step
skips or resumes what it wrote in the run folder.

    collect    128 real episodes driven by round 2's controller with action noise 0.1 (track seeds from 300).
               --round 1, --round 2: rounds 1 and 2's 32 episodes again, driven by the shipped round-0 and round-1
               controllers (their own episodes were not kept); --round 4: 64 episodes driven by round 3's
               controller (the plain variant, made by `train` and `evolve`), the one that fails in reality
    encode     the new episodes encoded by the shipped V (--round as for collect)
    train      M fine-tuned from round 2's weights on the new episodes for 40 epochs (a fresh Adam: the shipped
               M keeps no optimizer state). --dropout P: Dropout's Dream Land's M (MDNRNNConfig.dropout).
               --all-data: on the new episodes and the 64 first ones together (collected again, the same
               episodes: `python -m wmcourse collect --env CarRacing-v3 --episodes 64 --episodes-per-shard 16
               --num-envs 2 --policy mix --seed 0 --out RUNS/rollouts`, then the step encode-first).
               --every-round: on every round's episodes (the first 64, rounds 1 to 4) for 20 epochs
    evolve     a new controller evolved by CMA-ES in the new M's dream, 64 candidates x 16 dreams, 20
               generations; the search never sees a real score. --in-round2-m: in round 2's own M instead;
               --warm-start: the search starts at round 2's controller instead of zeros
    validate   each NAME=CONTROLLER:MDNRNN on the 16 validation tracks (seeds 6,000,000 on, one track a seed, as
               real_es.select_generation): apart from every training seed and from the reporting tracks
    cross      round 2's, round 3's, every round's and the ensemble's controller in 64 fresh dreams of round 2's,
               round 3's and every round's M
    ship       the measurements (data, each M's held-out loss, each dream's last generation, each validation
               score) into data/carracing_round3.json, recorded in data/manifest.json

    python scripts/carracing_round3.py collect|encode [--round R] [--runs runs/cr_row1]
    python scripts/carracing_round3.py train|evolve [--dropout P] [--all-data | --every-round] [--in-round2-m]
                                       [--warm-start]
    python scripts/carracing_round3.py validate round2=R/controller_round2.npz:R/mdnrnn_round2.pt ...
    python scripts/carracing_round3.py ship
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
EVERY_ROUND_EPOCHS = 20
ROUND_EPISODES = {1: 32, 2: 32, ROUND: EPISODES, 4: 64}  # rounds 1 and 2 as they were run; round 4 from round 3's C
VALIDATION_TRACKS = 16
CONFIG = dataclasses.replace(carracing.CarRacingConfig(),
                             round=dataclasses.replace(carracing.CarRacingConfig().round, episodes=EPISODES))
SEARCH = recipe.Search(population=64, rollouts=16, generations=20)
ENSEMBLE_SEARCH = recipe.Search(population=64, rollouts=8, generations=20)  # 8 dreams in each of three Ms
SHIPPED = {"vae_z32.pt": "vae_carracing_z32.pt", "mdnrnn_round2.pt": "mdnrnn_carracing_round2.pt",
           "controller_round2.npz": "controller_carracing_round2.npz",
           "mdnrnn.pt": "mdnrnn_carracing.pt", "controller.npz": "controller_carracing.npz",  # rounds 0 and 1: they
           "mdnrnn_round1.pt": "mdnrnn_carracing_round1.pt",                                # drive rounds 1 and 2
           "controller_round1.npz": "controller_carracing_round1.npz"}


@dataclasses.dataclass(frozen=True)
class Variant:
    """How one new controller was made: its M (round 3's, trained with dropout p, on the round's episodes or on
    the first 64 too; or round 2's own M) and where its search started (zeros, or round 2's controller)."""

    dropout: float = 0.0
    all_data: bool = False
    in_round2_m: bool = False  # the search in round 2's own dream: no new M is trained
    warm: bool = False         # CMA-ES's first mean is round 2's controller instead of zeros
    every_round: bool = False  # M on every round's episodes: the first 64, rounds 1 and 2 again, 3, and 4
    ensemble: bool = False     # with every_round: C searched in three Ms' dreams (ENSEMBLE), scored by the worst

    def suffix(self) -> str:
        return ("_all" if self.all_data else "") + (f"_dropout{self.dropout:g}" if self.dropout else "")

    def m_flags(self) -> str:
        return ((f" --dropout {self.dropout:g}" if self.dropout else "") + (" --all-data" if self.all_data else "")
                + (" --every-round" if self.every_round else ""))

    def flags(self) -> str:
        return (self.m_flags() + (" --in-round2-m" if self.in_round2_m else "")
                + (" --ensemble" if self.ensemble else "") + (" --warm-start" if self.warm else ""))


def m_path(runs: Path, v: Variant) -> Path:
    """The M a controller drives with (an ensemble's: its first member, round 2's)."""
    if v.in_round2_m or v.ensemble:
        return runs / "mdnrnn_round2.pt"
    return runs / (f"mdnrnn_every_round{v.suffix()}.pt" if v.every_round else f"mdnrnn_round{ROUND}{v.suffix()}.pt")


def c_path(runs: Path, v: Variant) -> Path:
    name = (f"controller_ensemble{v.suffix()}" if v.ensemble else f"controller_every_round{v.suffix()}"
            if v.every_round else f"controller_round{ROUND}{v.suffix()}")
    return runs / (name + ("_in_round2_m" if v.in_round2_m else "") + ("_warm" if v.warm else "") + ".npz")


def data_folder(runs: Path, v: Variant) -> Path:
    """The encoded episodes M trains on and the dreams start from: the round's; or the first 64 and the round's;
    or every round's (the first 64, rounds 1 and 2 collected again, round 3 and round 4)."""
    if not (v.all_data or v.every_round):
        return carracing.paths(runs, ROUND)["all_encoded"]
    rounds = (0, 1, 2, 3, 4) if v.every_round else (0, ROUND)
    folder = runs / ("encoded_every_round" if v.every_round else f"encoded_first_and_round{ROUND}")
    folder.mkdir(exist_ok=True)
    for source in [carracing.paths(runs, r)["encoded"] for r in rounds]:
        if not any(source.glob("*.npz")):
            raise SystemExit(f"{source} holds no encoded episodes: run the steps that make it first")
        for f in sorted(source.glob("*.npz")):
            if not (folder / f"{source.name}_{f.name}").exists():
                shutil.copy(f, folder / f"{source.name}_{f.name}")
    return folder


def encode_first(runs: Path) -> None:
    from wmcourse.worldmodels import vae

    latents.encode_rollouts(vae.load_vae(runs / "vae_z32.pt"), runs / "rollouts", runs / "encoded")


def setup(runs: Path, copies: dict[str, str] = SHIPPED) -> None:
    """The run folder, with a copy of each shipped file of `copies` (its name in the folder: its name in data/)."""
    runs.mkdir(parents=True, exist_ok=True)
    for name, shipped in copies.items():
        if not (runs / name).exists():
            shutil.copy(artefacts.data_dir() / shipped, runs / name)


def train(runs: Path, v: Variant) -> None:
    """M fine-tuned from round 2's weights with a fresh Adam (EPOCHS epochs; EVERY_ROUND_EPOCHS on every round's
    episodes, about 2.5 times as many)."""
    if v.in_round2_m:
        raise SystemExit("--in-round2-m evolves in round 2's own M: there is no M to train")
    fine_tune(runs / "mdnrnn_round2.pt", data_folder(runs, v), m_path(runs, v),
              EVERY_ROUND_EPOCHS if v.every_round else EPOCHS, ROUND, v.dropout)


def fine_tune(start: Path, encoded: Path, out: Path, epochs: int, seed: int, dropout: float = 0.0) -> None:
    """The M at `start` trained further on the episodes of `encoded` for `epochs` epochs with a fresh Adam (a
    shipped M keeps no optimizer state) and dropout p; resumable from out's checkpoint (.ckpt.pt), saved at `out`."""
    ckpt = out.with_suffix(".ckpt.pt")
    config = dataclasses.replace(carracing.mdnrnn_config(CONFIG), dropout=dropout)
    if not ckpt.exists():  # the start's weights and a fresh optimizer
        model = mdnrnn.MDNRNN(config).eval()
        model.load_state_dict(mdnrnn.read_checkpoint(start)["model"])
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
        mdnrnn.save_mdnrnn(model, ckpt, optimizer=opt.state_dict(), history=[], seed=seed,
                           index_generator=torch.Generator().manual_seed(seed).get_state(),
                           noise_generator=torch.Generator().manual_seed(seed + 1).get_state())
    torch.set_num_threads(2)
    model, history = training.train_mdnrnn(latents.load_encoded(encoded), config, ckpt, epochs=epochs, seed=seed,
                                           device="cpu")
    mdnrnn.save_mdnrnn(model, out, history=history)


def ensemble(runs: Path) -> list[Path]:
    """The Ms of the ensemble: round 2's (the one the controller drives with), round 3's and every round's."""
    return [runs / "mdnrnn_round2.pt", m_path(runs, Variant()), m_path(runs, Variant(every_round=True))]


def evolve(runs: Path, v: Variant) -> None:
    torch.set_num_threads(2)
    start = controller.load_controller(runs / "controller_round2.npz")[0] if v.warm else None
    if v.ensemble:
        carracing.evolve_in_ensemble(ensemble(runs), data_folder(runs, v), c_path(runs, v), CONFIG.tau,
                                     CONFIG.dream_steps, ENSEMBLE_SEARCH.settings(ROUND), start=start, round=ROUND,
                                     **dataclasses.asdict(v))
        return
    carracing.evolve_controller(m_path(runs, v), data_folder(runs, v), c_path(runs, v), CONFIG.tau,
                                CONFIG.dream_steps, SEARCH.settings(ROUND), start=start, round=ROUND,
                                **dataclasses.asdict(v))


def validate(runs: Path, named: list[str]) -> dict[str, dict]:
    """Each NAME=CONTROLLER:MDNRNN on the validation tracks; every episode a line of runs/validation.jsonl."""
    torch.set_num_threads(1)
    log = runs / "validation.jsonl"
    seeds = [real_es.VALIDATION_SEED + i for i in range(VALIDATION_TRACKS)]
    done = real_es.read_episode_log(log, key="name")
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


OUT = "carracing_round3.json"
ENSEMBLE_OUT = "controller_carracing_ensemble.npz"  # the ensemble's controller, shipped beside the round's numbers
HELDOUT_LOG = "ensemble_heldout.log"  # the stdout of HELDOUT_COMMAND, in the run folder
HELDOUT_COMMAND = (f"python -m wmcourse eval-agent --controller data/{ENSEMBLE_OUT} --vae data/vae_carracing_z32.pt "
                   "--mdnrnn data/mdnrnn_carracing_round2.pt --episodes 100 --num-envs 1 --seed 5000000")
COMMAND = "python scripts/carracing_round3.py"
R = "runs/cr_row1"


def commands(names: list[str]) -> list[str]:
    """Every step that made the candidates `names`, in order (from the folder that holds runs/)."""
    new = [CANDIDATES[n] for n in names if CANDIDATES[n] is not None]
    every = any(v.every_round for v in new)
    steps = [f"{COMMAND} collect", f"{COMMAND} encode"]
    if any(v.all_data or v.every_round for v in new):
        steps += [f"python -m wmcourse collect --env CarRacing-v3 --episodes 64 --episodes-per-shard 16 --num-envs 2 "
                  f"--policy mix --seed 0 --out {R}/rollouts", f"{COMMAND} encode-first"]
    if every:  # round 4 is driven by round 3's controller: that one is made first
        new = [Variant(), *[v for v in new if v != Variant()]]
    for v in new:
        if v.every_round and f"{COMMAND} collect --round 4" not in steps:
            steps += [f"{COMMAND} {step} --round {r}" for r in (1, 2, 4) for step in ("collect", "encode")]
        train = f"{COMMAND} train{v.m_flags()}"
        steps += ([] if v.in_round2_m or train in steps else [train]) + [f"{COMMAND} evolve{v.flags()}"]
    named = " ".join(f"{n}={c}:{m}" for n in names for c, m in [files(Path(R), n)])
    return [*steps, f"{COMMAND} validate {named}", f"{COMMAND} cross", f"{COMMAND} ship"]


CANDIDATES = {  # name: how it was made; "round2" is the shipped round-2 controller and its M
    "round2": None, "round3": Variant(), "round3_dropout": Variant(dropout=0.05), "round3_all": Variant(all_data=True),
    "round3_in_round2_m": Variant(in_round2_m=True), "every_round": Variant(every_round=True),
    "ensemble": Variant(every_round=True, ensemble=True)}
DRIVE_SEED = real_es.VALIDATION_SEED  # the first validation track: one real drive per controller, to see it drive


def files(runs: Path, name: str) -> tuple[Path, Path]:
    if CANDIDATES[name] is None:
        return runs / "controller_round2.npz", runs / "mdnrnn_round2.pt"
    return c_path(runs, CANDIDATES[name]), m_path(runs, CANDIDATES[name])


CROSS_DREAMS, CROSS_SEED = 64, 11
CROSS_MS = {"round 2": Variant(in_round2_m=True), "round 3": Variant(), "every round": Variant(every_round=True)}
CROSS_CONTROLLERS = ("round2", "round3", "every_round", "ensemble")


def dream_scores(controller_file: Path, models: dict, starts: torch.Tensor) -> dict[str, float]:
    """The controller's mean score in CROSS_DREAMS fresh dreams (seed CROSS_SEED) of each M of `models`."""
    params, config, _ = controller.load_controller(controller_file)
    return params_dream_scores(params, config, models, starts)


def params_dream_scores(params: np.ndarray, config: controller.ControllerConfig, models: dict,
                        starts: torch.Tensor) -> dict[str, float]:
    """The controller `params`' mean score in CROSS_DREAMS fresh dreams (seed CROSS_SEED) of each M of `models`."""
    from wmcourse.worldmodels import dream

    return {label: float(dream.dream_score(m, starts, params, config, CONFIG.tau, CROSS_DREAMS, CONFIG.dream_steps,
                                           seed=CROSS_SEED).mean())
            for label, m in models.items()}


def cross(runs: Path) -> dict:
    """Each controller of CROSS_CONTROLLERS scored in fresh dreams of each M of CROSS_MS (CROSS_DREAMS dreams from
    every round's first frames, seed CROSS_SEED): whether an M agrees with the others about a controller it did
    not make. Written to cross.json in the run folder after each controller (a rerun skips those done)."""
    from wmcourse.worldmodels import agent

    torch.set_num_threads(2)
    out = runs / "cross.json"
    table = json.loads(out.read_text()) if out.exists() else {}
    starts = agent.start_latents(latents.load_encoded(data_folder(runs, Variant(every_round=True))))
    models = {label: mdnrnn.load_mdnrnn(m_path(runs, v)) for label, v in CROSS_MS.items()}
    for name in [n for n in CROSS_CONTROLLERS if n not in table]:
        table[name] = dream_scores(files(runs, name)[0], models, starts)
        print(name, {k: round(v, 1) for k, v in table[name].items()}, flush=True)
        out.write_text(json.dumps(table, indent=1) + "\n")
    return table


def ship(runs: Path) -> None:
    """data/carracing_round3.json: the round's data, and for round 2's controller and each new one that was
    validated: its M's held-out loss, its dream's last generation, its score on the validation tracks (the
    validation log's episodes) and one real drive on the first validation track (its mean action, and the reward
    its M predicted along the drive against the reward the game paid)."""
    from wmcourse.real import rollouts
    from wmcourse.shipped import ledger
    from wmcourse.worldmodels import agent

    torch.set_num_threads(2)
    scores: dict[str, dict[int, tuple[float, int]]] = {}
    for (name, episode), played in real_es.read_episode_log(runs / "validation.jsonl", key="name").items():
        scores.setdefault(name, {})[episode] = played
    def one_drive(c_file: Path, m_file: Path) -> dict:
        drive = agent.drive_real(agent.load_agent(c_file, runs / "vae_z32.pt", m_file), DRIVE_SEED)
        return {"seed": DRIVE_SEED, "steps": len(drive["rewards"]),
                "mean_action": drive["actions"].mean(axis=0).round(3).tolist(),
                "real_return": round(float(drive["rewards"].sum()), 1),
                "predicted_return": round(float(drive["predicted_rewards"].sum()), 1)}

    unknown = sorted(set(scores) - set(CANDIDATES))
    if unknown:  # their validation steps would be missing from the ledger
        raise SystemExit(f"the validation log holds {', '.join(unknown)}, which CANDIDATES does not name: add them")
    drives = json.loads((runs / "drives.json").read_text()) if (runs / "drives.json").exists() else {}  # a rerun
    candidates = []
    for name in [n for n in CANDIDATES if n in scores]:
        episodes = scores[name]
        if sorted(episodes) != list(range(VALIDATION_TRACKS)):
            raise SystemExit(f"{name} has {len(episodes)} of {VALIDATION_TRACKS} validation episodes: run validate")
        valid = np.array([episodes[e][0] for e in range(VALIDATION_TRACKS)])
        c_file, m_file = files(runs, name)
        history = mdnrnn.read_checkpoint(m_file).get("history") or [{}]
        search = controller.load_controller(c_file)[2].get("history") or [{}]
        drives[name] = drives.get(name) or one_drive(c_file, m_file)
        candidates.append({
            "name": name, **dataclasses.asdict(CANDIDATES[name] or Variant()),
            "held_out_z_nll": history[-1].get("held_out_z_nll"),
            "dream_last_generation": {k: search[-1].get(k) for k in ("generation", "mean", "best")},
            "validation": {"mean": float(valid.mean()), "std": float(valid.std()), "returns": valid.round(2).tolist(),
                           "real_steps": int(sum(episodes[e][1] for e in range(VALIDATION_TRACKS)))},
            "drive": drives[name]})
        print(name, candidates[-1]["validation"]["mean"], candidates[-1]["drive"])
        (runs / "drives.json").write_text(json.dumps(drives, indent=1) + "\n")
    def episodes(folder: Path) -> dict:
        returns, _ = rollouts.episode_returns(folder)
        actions = np.concatenate([e.action for e in rollouts.load_episodes(folder)])
        return {"episodes": len(returns), "real_steps": int(rollouts.count_frames(folder)),
                "returns": {"mean": float(returns.mean()), "std": float(returns.std())},
                "mean_action": actions.mean(axis=0).round(3).tolist()}

    this_round = episodes(runs / f"rollouts_round{ROUND}")
    result = {"round": ROUND, "episodes": EPISODES, "noise": CONFIG.round.noise, "epochs": EPOCHS,
              "every_round_epochs": EVERY_ROUND_EPOCHS,
              "search": dataclasses.asdict(SEARCH), "validation_seed": real_es.VALIDATION_SEED,
              "validation_tracks": VALIDATION_TRACKS,
              "data_real_steps": this_round["real_steps"], "data_returns": this_round["returns"],
              "data_mean_action": this_round["mean_action"],
              "first_data_real_steps": int(rollouts.count_frames(runs / "rollouts"))
              if any((runs / "rollouts").glob("shard_*.npz")) else None,
              "other_rounds": {r: episodes(runs / f"rollouts_round{r}") for r in (1, 2, 4)
                               if any((runs / f"rollouts_round{r}").glob("shard_*.npz"))},
              "cross": {"dreams": CROSS_DREAMS, "seed": CROSS_SEED,
                        "scores": json.loads((runs / "cross.json").read_text())},
              "machine": ledger.machine(), "commands": commands([c["name"] for c in candidates]),
              "candidates": candidates}
    if (runs / HELDOUT_LOG).exists():  # the ensemble's controller on the 100 held-out tracks, once, after validation
        printed = [line for line in (runs / HELDOUT_LOG).read_text().splitlines() if line.startswith("{")]
        evaluation = json.loads(printed[-1])
        result["ensemble_heldout"] = {k: evaluation[k] for k in ("mean", "std", "episodes", "returns", "real_steps",
                                                             "seconds")} | {"seed": 5_000_000,
                                                                             "command": HELDOUT_COMMAND}
    scores_by_name = {c["name"]: c["validation"]["mean"] for c in candidates}
    if "ensemble" in scores_by_name:
        shipped = artefacts.data_dir() / ENSEMBLE_OUT
        shutil.copy(files(runs, "ensemble")[0], shipped)
        artefacts.record(shipped, f"{COMMAND} evolve --every-round --ensemble", ROUND,
                         {"validation_mean": round(scores_by_name["ensemble"], 1)},
                         mdnrnn="data/mdnrnn_carracing_round2.pt", vae="data/vae_carracing_z32.pt")
    out = artefacts.data_dir() / OUT
    out.write_text(json.dumps(result, indent=1) + "\n")
    artefacts.record(out, f"{COMMAND} ship", ROUND, {c["name"]: round(c["validation"]["mean"], 1) for c in candidates})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["collect", "encode", "encode-first", "train", "evolve", "validate", "cross",
                                                      "ship"])
    parser.add_argument("named", nargs="*", help="validate: NAME=CONTROLLER:MDNRNN ...")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--all-data", action="store_true")
    parser.add_argument("--in-round2-m", action="store_true", help="evolve in round 2's own M (no new M)")
    parser.add_argument("--warm-start", action="store_true", help="CMA-ES starts at round 2's controller")
    parser.add_argument("--ensemble", action="store_true",
                        help="with --every-round: evolve in the dreams of round 2's, round 3's and every round's M")
    parser.add_argument("--every-round", action="store_true", help="M on every round's episodes (rounds 0 to 4)")
    parser.add_argument("--round", type=int, default=ROUND, choices=sorted(ROUND_EPISODES),
                        help="collect, encode: which round's episodes (1, 2: again; 4: driven by round 3's C)")
    parser.add_argument("--runs", type=Path, default=Path("runs/cr_row1"))
    args = parser.parse_args()
    setup(args.runs)
    task = carracing._Rounds(args.runs, dataclasses.replace(
        CONFIG, round=dataclasses.replace(CONFIG.round, episodes=ROUND_EPISODES[args.round])))
    if args.ensemble and not args.every_round:
        raise SystemExit("--ensemble needs --every-round: its third member is the M on every round's episodes")
    variant = Variant(args.dropout, args.all_data, args.in_round2_m, args.warm_start, args.every_round, args.ensemble)
    if args.step == "collect":
        task.collect(args.round)
    elif args.step == "encode":
        task.encode(args.round)
    elif args.step == "encode-first":
        encode_first(args.runs)
    elif args.step == "train":
        train(args.runs, variant)
    elif args.step == "evolve":
        evolve(args.runs, variant)
    elif args.step == "cross":
        cross(args.runs)
    elif args.step == "validate":
        validate(args.runs, args.named)
    else:
        ship(args.runs)


if __name__ == "__main__":
    main()
