"""The three-Ms search in the dream over several search seeds: one run of the recipe is one draw (its first run's
controller scored 675.8 on the held-out tracks, a second run's 409.4), so the recipe is run with more draws and the
draw to keep is chosen on fresh real validation tracks, as Take Cover keeps a round. The search never sees a real
score. Resumable: every step skips or resumes what it wrote in the run folder.

    evolve     one search of the recipe (population 64, 8 dreams in each of the three Ms, each candidate scored by
               its worst member, 20 generations) in the three Ms made again by carracing_round3.py (the Ms the
               longer search dreamed in), with search seed --seed (one of SEEDS): RUNS/seeds/controller_seedS.npz
    select     the draws' search means after 20 generations on 16 fresh validation tracks (seeds 6,400,000 to
               6,400,015, never driven before): seed 3's (the longer search's generation 20, scripts/
               carracing_long_search.py) and every seed of SEEDS; the best kept (real_es.choose_on_validation_tracks).
               The shipped first three-Ms controller drives the same tracks beside them, as a reference, not a
               candidate
    ship       data/controller_carracing_ensemble_seeds.npz (the kept draw) and data/carracing_search_seeds.json
               (each draw's search, its validation score, the reference), recorded in data/manifest.json
    ledger     the validation episodes in data/carracing_ledger.json, setup dream-only-ensemble (selection)
    cross      after select, no real steps: every draw's search mean scored in one shared set of dreams (64 in each
               of the three Ms, seed 11, as carracing_round3.py's cross check), beside its validation score, and
               how many pairs of draws the worst of three orders as the validation tracks do: RUNS/seeds/cross.json

The rule, fixed before the run: the kept draw is scored once on the 100 held-out tracks (eval-agent --another-look,
setup dream-only-ensemble), and that score replaces 409.4 as the setup's score, higher or lower: a setup reports its
last look. The candidates are the draws of this recipe in these Ms, and only those: the two controllers the
held-out tracks have scored are not among them.

    python scripts/carracing_search_seeds.py evolve --seed S [--runs runs/cr_row1]
    python scripts/carracing_search_seeds.py select|ship|ledger|cross [--runs runs/cr_row1]
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
import carracing_long_search as long_search  # noqa: E402
import carracing_round3 as round3  # noqa: E402

from wmcourse import artefacts  # noqa: E402
from wmcourse.experiments import carracing  # noqa: E402
from wmcourse.real.backend import LocalBackend  # noqa: E402
from wmcourse.shipped import ledger  # noqa: E402
from wmcourse.worldmodels import controller, real_es  # noqa: E402

FIRST_SEED = round3.ROUND  # the seed both earlier runs searched with
SEEDS = (100, 200, 300, 400, 500)  # member k of a search dreams from seed + k: no two searches share a dream seed
VALIDATION_SEED = 6_400_000  # 16 tracks no earlier choice drove (6,000,000 to 6,300,031 have)
TRACKS = 16
OUT = "controller_carracing_ensemble_seeds.npz"
RESULT = "carracing_search_seeds.json"
COMMAND = "python scripts/carracing_search_seeds.py"


def folder(runs: Path) -> Path:
    return runs / "seeds"


def draw_path(runs: Path, seed: int) -> Path:
    return folder(runs) / f"controller_seed{seed}.npz"


def evolve(runs: Path, seed: int) -> None:
    """One draw of the recipe: round 3's ensemble search, search seed `seed`, in the remade three Ms."""
    if seed not in SEEDS:
        raise SystemExit(f"--seed is one of {', '.join(map(str, SEEDS))} (seed {FIRST_SEED}'s draw is the longer "
                         f"search's generation {long_search.FIRST}), got {seed}")
    folder(runs).mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    carracing.evolve_in_ensemble(round3.ensemble(runs), round3.data_folder(runs, long_search.ENSEMBLE),
                                 draw_path(runs, seed), round3.CONFIG.tau, round3.CONFIG.dream_steps,
                                 round3.ENSEMBLE_SEARCH.settings(seed), round=round3.ROUND, search_seed=seed,
                                 **dataclasses.asdict(long_search.ENSEMBLE))


def draws(runs: Path) -> dict[int, np.ndarray]:
    """{search seed: its search mean after the recipe's generations}, seed FIRST_SEED's from the longer search."""
    means = real_es.generation_means(long_search.folder(runs) / "means")
    if long_search.FIRST not in means:
        raise SystemExit(f"{long_search.folder(runs) / 'means'} holds no search means: run "
                         "`python scripts/carracing_long_search.py evolve` first")
    found = {FIRST_SEED: means[long_search.FIRST]}
    for seed in SEEDS:
        path = draw_path(runs, seed)
        if not path.exists():
            raise SystemExit(f"{path} is missing: run `{COMMAND} evolve --seed {seed}` first")
        params, _, meta = controller.load_controller(path)
        if len(meta["history"]) != round3.ENSEMBLE_SEARCH.generations:
            raise SystemExit(f"{path} ran {len(meta['history'])} generations, not the recipe's "
                             f"{round3.ENSEMBLE_SEARCH.generations}: run `{COMMAND} evolve --seed {seed}` again")
        found[seed] = params
    return found


def select(runs: Path) -> dict:
    """The draws on the validation tracks, the best kept; the shipped three-Ms controller on the same tracks."""
    book = artefacts.data_dir() / ledger.LEDGER_NAME
    if not (folder(runs) / real_es.VALIDATION_NAME).exists():  # a resumed choice drove these tracks itself
        ledger.check_fresh_tracks(book, ledger.ENSEMBLE, list(range(VALIDATION_SEED, VALIDATION_SEED + TRACKS)))
    config = controller.load_controller(artefacts.data_dir() / round3.ENSEMBLE_OUT)[1]
    score = dict(vae=runs / "vae_z32.pt", mdnrnn=runs / "mdnrnn_round2.pt", config=config, tracks=TRACKS,
                 backend=LocalBackend(2), max_steps=long_search.MAX_STEPS, validation_seed=VALIDATION_SEED)
    chosen = real_es.choose_on_validation_tracks(draws(runs), log_path=folder(runs) / real_es.VALIDATION_NAME,
                                                 **score)
    shipped = {0: controller.load_controller(artefacts.data_dir() / round3.ENSEMBLE_OUT)[0]}
    reference = real_es.choose_on_validation_tracks(shipped, log_path=folder(runs) / "reference.jsonl", **score)
    for row in chosen["generations"]:  # a draw's row: "generation" holds its search seed
        print(f"seed {row['generation']}: {row['mean']:.1f} ± {row['std']:.1f} on {TRACKS} validation tracks")
    ref = reference["generations"][0]
    print(f"the shipped three-Ms controller: {ref['mean']:.1f} ± {ref['std']:.1f}; kept seed {chosen['chosen']}")
    result = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in chosen.items()}
    result["reference"] = {k: v for k, v in reference.items() if k in ("generations", "real_steps", "seconds")}
    (folder(runs) / "selection.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def cross(runs: Path) -> dict:
    """The draws' search means in shared dreams (no real steps), beside their validation scores."""
    from wmcourse.worldmodels import agent, latents, mdnrnn

    torch.set_num_threads(2)
    chosen = json.loads((folder(runs) / "selection.json").read_text())
    real = {r["generation"]: r["mean"] for r in chosen["generations"]}
    starts = agent.start_latents(latents.load_encoded(round3.data_folder(runs, round3.Variant(every_round=True))))
    models = {label: mdnrnn.load_mdnrnn(round3.m_path(runs, v)) for label, v in round3.CROSS_MS.items()}
    config = controller.load_controller(draw_path(runs, SEEDS[0]))[1]
    table = {}
    for seed, params in draws(runs).items():
        scores = round3.params_dream_scores(params, config, models, starts)
        table[str(seed)] = scores | {"worst": min(scores.values()), "validation": real[seed]}
        print(f"seed {seed}: " + ", ".join(f"{k} {v:.1f}" for k, v in table[str(seed)].items()), flush=True)
    rows = list(table.values())
    agree = sum((a["worst"] - b["worst"]) * (a["validation"] - b["validation"]) > 0
                for i, a in enumerate(rows) for b in rows[:i])
    print(f"the worst of three in shared dreams orders {agree} of {len(rows) * (len(rows) - 1) // 2} pairs of draws "
          "as the validation tracks do")
    (folder(runs) / "cross.json").write_text(json.dumps(table, indent=1) + "\n")
    return table


def ship(runs: Path) -> None:
    chosen = json.loads((folder(runs) / "selection.json").read_text())
    seed = chosen["chosen"]
    made = long_search.folder(runs) / "controller.npz" if seed == FIRST_SEED else draw_path(runs, seed)
    _, config, meta = controller.load_controller(made)
    history = meta["history"][:round3.ENSEMBLE_SEARCH.generations]
    shipped, params = artefacts.data_dir() / OUT, np.asarray(chosen["params"], np.float32)
    evolved = (f"{long_search.COMMAND} evolve" if seed == FIRST_SEED else f"{COMMAND} evolve --seed {seed}")
    # a rerun keeps the shipped file as it is: a held-out evaluation names it by its sha256
    if not shipped.exists() or not np.array_equal(controller.load_controller(shipped)[0], params):
        controller.save_controller(shipped, params, config, history=history, search_seed=seed,
                                   **{k: v for k, v in meta.items() if k not in ("history", "search_seed")})
        artefacts.record(shipped, evolved, round3.ROUND,
                         {"search_seed": seed, "validation_mean": round(
                             next(r["mean"] for r in chosen["generations"] if r["generation"] == seed), 1)},
                         mdnrnn="data/mdnrnn_carracing_round2.pt", vae="data/vae_carracing_z32.pt")
    searches = {FIRST_SEED: search_history(long_search.folder(runs) / "controller.npz")}
    searches |= {s: search_history(draw_path(runs, s)) for s in SEEDS}
    result = {"seeds": [FIRST_SEED, *SEEDS], "generations": round3.ENSEMBLE_SEARCH.generations,
              "searches": {str(s): h for s, h in searches.items()},
              "validation_seed": VALIDATION_SEED, "validation_tracks": TRACKS,
              "selection": {k: v for k, v in chosen.items() if k != "params"},
              "machine": ledger.machine(),
              "commands": [*(f"{COMMAND} evolve --seed {s}" for s in SEEDS), f"{COMMAND} select", f"{COMMAND} ship",
                           f"{COMMAND} ledger"]}
    out = artefacts.data_dir() / RESULT
    out.write_text(json.dumps(result, indent=1) + "\n")
    artefacts.record(out, f"{COMMAND} ship", round3.ROUND, {"kept_seed": seed})


def search_history(path: Path) -> list[dict]:
    """A draw's search, generation by generation, up to the recipe's last generation."""
    return controller.load_controller(path)[2]["history"][:round3.ENSEMBLE_SEARCH.generations]


def count(runs: Path) -> ledger.Entry:
    """The ledger entry of the validation episodes: the draws' and the reference's (selection)."""
    chosen = json.loads((folder(runs) / "selection.json").read_text())
    seeds, rows = chosen["seeds"], chosen["generations"]
    reference = chosen["reference"]
    return ledger.Entry(
        setup=ledger.ENSEMBLE, stage="selection", real_steps=chosen["real_steps"] + reference["real_steps"],
        exact=True, wall_seconds=round(chosen["seconds"] + reference["seconds"], 1), machine=ledger.machine(),
        command=f"{COMMAND} select",
        what=f"The three-Ms search's means after {round3.ENSEMBLE_SEARCH.generations} generations, one for each of "
             f"{len(rows)} search seeds, each drove {len(seeds)} fresh validation tracks (seeds {seeds[0]} to "
             f"{seeds[-1]}), and the shipped three-Ms controller drove them too, as a reference; seed "
             f"{chosen['chosen']}'s was kept. These steps chose a controller; they did not change its weights.",
        result={"chosen_generation": chosen["chosen"], "reset_seeds": list(seeds),
                "generations": [{k: round(v, 1) if k != "generation" else v for k, v in r.items()} for r in rows],
                "reference": [{k: round(v, 1) if k != "generation" else v for k, v in r.items()}
                              for r in reference["generations"]]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["evolve", "select", "ship", "ledger", "cross"])
    parser.add_argument("--seed", type=int, default=None, help="evolve: the search seed, one of SEEDS")
    parser.add_argument("--runs", type=Path, default=Path("runs/cr_row1"))
    args = parser.parse_args()
    if (args.step == "evolve") != (args.seed is not None):
        raise SystemExit("--seed goes with the step evolve, and only with it")
    round3.setup(args.runs)
    if args.step == "evolve":
        evolve(args.runs, args.seed)
    elif args.step == "select":
        select(args.runs)
    elif args.step == "ship":
        ship(args.runs)
    elif args.step == "cross":
        cross(args.runs)
    else:
        entry = count(args.runs)
        ledger.add(artefacts.data_dir() / ledger.LEDGER_NAME, entry)
        print(f"counted {entry.real_steps:,} real {entry.stage} steps: {entry.command}")


if __name__ == "__main__":
    main()
