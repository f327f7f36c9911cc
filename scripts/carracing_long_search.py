"""The three-Ms search in the dream, run longer: the CMA-ES run that made the 'dream only, three Ms' controller
(scripts/carracing_round3.py evolve --every-round --ensemble, 20 generations, its step size still growing when it
stopped) extended to more generations, and the generation to keep chosen on fresh real validation tracks. The search
never sees a real score. Resumable: every step skips or resumes what it wrote in the run folder.

    evolve     the same run (population 64, 8 dreams in each of the three Ms, each candidate scored by its worst
               member, the same seed) extended from its 20-generation checkpoint to --generations (default 100),
               the search mean after every generation kept in RUNS/long/means (generation 20's is the controller
               round 3 made). Needs the three Ms and every round's encoded episodes: carracing_round3.py's steps
    select     the search means after generations 20, 40, ... and the last on 16 fresh validation tracks (seeds
               6,200,000 to 6,200,015, never driven before), the best mean kept (real_es.choose_on_validation_tracks)
    ship       data/controller_carracing_ensemble_long.npz (the kept mean) and data/carracing_long_search.json (the
               search, generation by generation; the validation scores), recorded in data/manifest.json
    ledger     the real steps in data/carracing_ledger.json, setup dream-only-ensemble: every episode collected
               again to remake the three Ms (data; --log: the remaking chain's log, its `wall` lines give the wall
               times) and the validation tracks of select (selection)

The rule, fixed before the run: if generation 20 (the shipped controller's search mean) wins the choice, the
held-out tracks do not look again. Otherwise the winner is scored once on them (eval-agent --another-look, setup
dream-only-ensemble), and that score replaces 675.8 as the setup's score, higher or lower: a setup reports its last
look. The ledger counts the re-collected episodes that remade the three Ms as data and this choice as selection.

    python scripts/carracing_long_search.py evolve [--generations G] [--runs runs/cr_row1]
    python scripts/carracing_long_search.py select|ship [--every K] [--runs runs/cr_row1]
    python scripts/carracing_long_search.py ledger [--log REMAKE_LOG] [--runs runs/cr_row1]
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
from wmcourse.experiments import carracing  # noqa: E402
from wmcourse.real.backend import LocalBackend  # noqa: E402
from wmcourse.shipped import ledger  # noqa: E402
from wmcourse.worldmodels import controller, real_es  # noqa: E402

FIRST = round3.ENSEMBLE_SEARCH.generations  # the generations round 3's search ran
GENERATIONS = 100
EVERY = 20  # the candidates: the search mean after every EVERY-th generation from FIRST on, and the last
VALIDATION_SEED = 6_200_000  # 16 tracks no earlier choice drove (6,000,000 on and 6,100,000 on have chosen)
TRACKS = 16
MAX_STEPS = 1000  # a whole CarRacing episode
OUT = "controller_carracing_ensemble_long.npz"
RESULT = "carracing_long_search.json"
COMMAND = "python scripts/carracing_long_search.py"
ENSEMBLE = round3.Variant(every_round=True, ensemble=True)


def folder(runs: Path) -> Path:
    return runs / "long"


def evolve(runs: Path, generations: int) -> None:
    """Round 3's ensemble search extended to `generations`, from a copy of its checkpoint (its own file is kept)."""
    if generations <= FIRST:
        raise SystemExit(f"--generations is the length of the extended run: more than round 3's {FIRST}, got "
                         f"{generations}")
    made = round3.c_path(runs, ENSEMBLE)
    if not Path(f"{made}.es.pkl").exists():
        raise SystemExit(f"{made}.es.pkl is missing: run `python scripts/carracing_round3.py evolve --every-round "
                         "--ensemble` (and the steps before it) first")
    out, means = folder(runs) / "controller.npz", folder(runs) / "means"
    means.mkdir(parents=True, exist_ok=True)
    if not Path(f"{out}.es.pkl").exists():
        shutil.copy(f"{made}.es.pkl", f"{out}.es.pkl")
        np.save(means / f"mean_{FIRST:05d}.npy", controller.load_controller(made)[0].astype(np.float64))
    torch.set_num_threads(2)
    settings = dataclasses.replace(round3.ENSEMBLE_SEARCH.settings(round3.ROUND), generations=generations)
    carracing.evolve_in_ensemble(round3.ensemble(runs), round3.data_folder(runs, ENSEMBLE), out, round3.CONFIG.tau,
                                 round3.CONFIG.dream_steps, settings, means_dir=means, round=round3.ROUND,
                                 extended_from=str(made), **dataclasses.asdict(ENSEMBLE))


def candidates(runs: Path, every: int) -> dict[int, np.ndarray]:
    """{generation: search mean} for generation FIRST, every `every`-th after it and the last."""
    means = real_es.generation_means(folder(runs) / "means")
    if FIRST not in means:
        raise SystemExit(f"{folder(runs) / 'means'} holds no search means: run the step evolve first")
    return real_es.every_kth(means, every, since=FIRST)


def select(runs: Path, every: int) -> dict:
    means = candidates(runs, every)
    config = controller.load_controller(folder(runs) / "controller.npz")[1]
    chosen = real_es.choose_on_validation_tracks(means, runs / "vae_z32.pt",
                                                 runs / "mdnrnn_round2.pt", config,
                                                 folder(runs) / real_es.VALIDATION_NAME, TRACKS, LocalBackend(2),
                                                 MAX_STEPS, VALIDATION_SEED)
    for row in chosen["generations"]:
        print(f"generation {row['generation']}: {row['mean']:.1f} ± {row['std']:.1f} on {TRACKS} validation tracks")
    print(f"kept generation {chosen['chosen']} ({chosen['real_steps']:,} real steps, {chosen['seconds']:.0f} s)")
    (folder(runs) / "selection.json").write_text(json.dumps({k: (v.tolist() if isinstance(v, np.ndarray) else v)
                                                             for k, v in chosen.items()}, indent=1) + "\n")
    return chosen


def ship(runs: Path, every: int) -> None:
    chosen = json.loads((folder(runs) / "selection.json").read_text())
    _, config, meta = controller.load_controller(folder(runs) / "controller.npz")
    history = meta["history"]
    shipped, params = artefacts.data_dir() / OUT, np.asarray(chosen["params"], np.float32)
    # a rerun keeps the shipped file as it is: a held-out evaluation names it by its sha256
    if not shipped.exists() or not np.array_equal(controller.load_controller(shipped)[0], params):
        controller.save_controller(shipped, params, config, history=history[:chosen["chosen"]],
                                   **{k: v for k, v in meta.items() if k != "history"})
        artefacts.record(shipped, f"{COMMAND} evolve --generations {len(history)}", round3.ROUND,
                         {"generation": chosen["chosen"], "validation_mean": round(
                             next(r["mean"] for r in chosen["generations"] if r["generation"] == chosen["chosen"]), 1)},
                         mdnrnn="data/mdnrnn_carracing_round2.pt", vae="data/vae_carracing_z32.pt")
    made = controller.load_controller(artefacts.data_dir() / round3.ENSEMBLE_OUT)[0]
    remade = real_es.generation_means(folder(runs) / "means")[FIRST].astype(np.float32)
    remake = [c for c in round3.commands(["ensemble"]) if not c.startswith(f"{round3.COMMAND} validate")
              and c not in (f"{round3.COMMAND} cross", f"{round3.COMMAND} ship")]
    result = {"first": FIRST, "generations": len(history), "every": every, "history": history,
              "first_vs_shipped_max_abs": float(np.abs(remade - made).max()),  # 0: the remake made the same controller
              "validation_seed": VALIDATION_SEED, "validation_tracks": TRACKS,
              "selection": {k: v for k, v in chosen.items() if k != "params"},
              "machine": ledger.machine(),
              "commands": [*remake, f"{COMMAND} evolve --generations {len(history)}", f"{COMMAND} select",
                           f"{COMMAND} ship", f"{COMMAND} ledger --log runs/remake.log"]}
    out = artefacts.data_dir() / RESULT
    out.write_text(json.dumps(result, indent=1) + "\n")
    artefacts.record(out, f"{COMMAND} ship", round3.ROUND, {"kept_generation": chosen["chosen"]})


REMADE = {  # the episodes collected again to remake the three Ms: folder in the run folder, the step that made it
    "rollouts_round3": f"{round3.COMMAND} collect",
    "rollouts": "python -m wmcourse collect --env CarRacing-v3 --episodes 64 --episodes-per-shard 16 --num-envs 2 "
                "--policy mix --seed 0 --out runs/cr_row1/rollouts",
    **{f"rollouts_round{r}": f"{round3.COMMAND} collect --round {r}" for r in (1, 2, 4)}}


AGAIN = "# run a second time, with the same seeds, to remake the three Ms"  # a key apart from the first run's


def wall_times(log: Path | None) -> dict[str, float]:
    """{command: wall seconds} from the `CMD : wall S s user U s` lines /usr/bin/time wrote in a chain's log."""
    found = {}
    for line in (log.read_text().splitlines() if log else []):
        command, sep, rest = line.rpartition(" : wall ")
        program, _, arguments = command.partition(" ")
        if sep:  # the interpreter by any path is `python`, as the commands are written
            found[f"python {arguments}" if program.endswith("/python") else command] = float(rest.split()[0])
    return found


def count(runs: Path, log: Path | None) -> list[ledger.Entry]:
    """The ledger entries of the remade Ms' episodes (data) and of this choice's validation tracks (selection)."""
    from wmcourse.real import rollouts

    walls, machine = wall_times(log), ledger.machine()
    entries = []
    for name, command in REMADE.items():
        if not any((runs / name).glob(rollouts.SHARD_PATTERN)):
            raise SystemExit(f"{runs / name} holds no episodes: run carracing_round3.py's steps first")
        returns, _ = rollouts.episode_returns(runs / name)
        entries.append(ledger.Entry(
            setup=ledger.ENSEMBLE, stage="data", real_steps=rollouts.count_frames(runs / name), exact=True,
            wall_seconds=walls.get(command), machine=machine, command=f"{command}  {AGAIN}",
            what=f"{len(returns)} episodes collected a second time, with the same seeds and drivers, to remake the "
                 "three Ms (the first copies were not kept); the longer search dreams in these Ms.",
            result={"episodes": len(returns), "mean": round(float(returns.mean()), 1), "again": True}))
    chosen = json.loads((folder(runs) / "selection.json").read_text())
    seeds, rows = chosen["seeds"], chosen["generations"]
    entries.append(ledger.Entry(
        setup=ledger.ENSEMBLE, stage="selection", real_steps=chosen["real_steps"], exact=True,
        wall_seconds=chosen["seconds"], machine=machine, command=f"{COMMAND} select",
        what=f"The longer dream search's means after generations {', '.join(str(r['generation']) for r in rows)} "
             f"each drove {len(seeds)} fresh validation tracks (seeds {seeds[0]} to {seeds[-1]}); generation "
             f"{chosen['chosen']} was kept. These steps chose a controller; they did not change its weights.",
        result={"chosen_generation": chosen["chosen"], "reset_seeds": list(seeds),
                "generations": [{k: round(v, 1) if k != "generation" else v for k, v in r.items()} for r in rows]}))
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["evolve", "select", "ship", "ledger"])
    parser.add_argument("--log", type=Path, default=None, help="ledger: the log of the chain that remade the Ms")
    parser.add_argument("--generations", type=int, default=GENERATIONS)
    parser.add_argument("--every", type=int, default=EVERY)
    parser.add_argument("--runs", type=Path, default=Path("runs/cr_row1"))
    args = parser.parse_args()
    round3.setup(args.runs)
    if args.step == "evolve":
        evolve(args.runs, args.generations)
    elif args.step == "select":
        select(args.runs, args.every)
    elif args.step == "ledger":
        book = artefacts.data_dir() / ledger.LEDGER_NAME
        for entry in count(args.runs, args.log):
            ledger.add(book, entry)
            print(f"counted {entry.real_steps:,} real {entry.stage} steps: {entry.command}")
    else:
        ship(args.runs, args.every)


if __name__ == "__main__":
    main()
