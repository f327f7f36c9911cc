"""Write the first entries of the CarRacing run ledger (data/carracing_ledger.json): the "dream only" setup, the
shipped round-2 controller evolved only in the dream. Every real step its making spent, by stage:

    data        the 64 episodes V and M trained on, the 4 held-out episodes that scored V, and the 32
                episodes each iterative round collected (exact: the manifest's frame counts; one frame a step)
    selection   the real scores of the three controllers (20 episodes each, eval-agent) that picked round 2's
                as the shipped one, and each round's quick score (10 episodes): their step counts were not
                recorded, so each is an upper bound (1,000 steps an episode)
    evaluation  the 100 held-out tracks: the JSON that `python -m wmcourse eval-agent` printed (--evaluation)

    python scripts/carracing_ledger.py --evaluation EVAL_STDOUT --wall-seconds S [--user-seconds S] [--out PATH]

The figures are read from data/manifest.json; the ledger is recorded there too (when --out is in data/). The
evaluation was run as `HELDOUT_COMMAND > EVAL_STDOUT` under `time` (19 min on one core): its wall and user times.
A later evaluation adds its own entry: python -m wmcourse eval-agent ... --ledger data/carracing_ledger.json --setup S;
a real CMA-ES run its refinement: python -m wmcourse evolve-real ... --ledger data/carracing_ledger.json --setup S.
Steps two setups both stand on are restated for the second (the from-scratch controller reads the dream-only
setup's V and M):

    python scripts/carracing_ledger.py --restate dream-only from-scratch data

The controller evolved in three Ms' dreams (scripts/carracing_round3.py, its measurements in
data/carracing_round3.json) is its own setup, "dream-only-ensemble": it stands on the one-M setup's data and
selection (its first M is round 2's, and round 2's controller drove its new episodes), then adds every episode
that run collected, the validation tracks that chose it, one drive of each candidate, and its held-out tracks:

    python scripts/carracing_ledger.py --ensemble
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from pathlib import Path

from wmcourse import artefacts
from wmcourse.experiments.carracing import EVOLVE_COMMAND, REFERENCE_STEPS, TRAIN_COMMAND, CarRacingConfig
from wmcourse.shipped import catalogue, ledger

SETUP = ledger.DREAM_ONLY
EPISODE_STEPS = 1000  # CarRacing-v3 truncates an episode at 1,000 steps: the bound of an unrecorded episode
HELDOUT_COMMAND = ("python -m wmcourse eval-agent --controller data/controller_carracing_round2.npz "
                   "--vae data/vae_carracing_z32.pt --mdnrnn data/mdnrnn_carracing_round2.pt --episodes 100 "
                   "--num-envs 1 --seed 5000000")
HELDOUT_SEED = 5_000_000
NOT_RECORDED = "not recorded"


def data_entries(manifest: dict) -> list[ledger.Entry]:
    """The real episodes collected for V and M: the first 64 (V and M trained on them), the 4 held-out ones
    (they scored V), and each iterative round's 32 (M retrained on them)."""
    vae = manifest["vae_carracing_z32.pt"]["training_data"]
    shards = int(vae["rollouts"].split()[0])
    first = ledger.Entry(
        setup=SETUP, stage="data", real_steps=artefacts.frames_in(vae["rollouts"]), exact=True, wall_seconds=None,
        machine=NOT_RECORDED,
        command=f"{TRAIN_COMMAND}  (step: python -m wmcourse collect --episodes {shards * vae['episodes_per_shard']} "
                f"--policy {vae['policy']} --seed {vae['seed']})",
        what=f"The {shards * vae['episodes_per_shard']} real episodes V and M trained on ({vae['rollouts']}; "
             "one stored frame a step, so the count is exact).",
        result={"episodes": shards * vae["episodes_per_shard"], "policy": vae["policy"]})
    heldout = manifest["carracing_heldout/shard_00000.npz"]
    held = ledger.Entry(
        setup=SETUP, stage="data", real_steps=int(heldout["figures"]["frames"]), exact=True, wall_seconds=None,
        machine=NOT_RECORDED, command=f"{TRAIN_COMMAND}  (step: {heldout['command']})",
        what="The 4 held-out real episodes (data/carracing_heldout) that scored every V; they trained nothing but "
             "the same run collected them, so they count.",
        result={"episodes": 4})
    rounds = []
    for r in (1, 2):
        m = manifest[catalogue.mdnrnn_name(r)]
        rounds.append(ledger.Entry(
            setup=SETUP, stage="data", real_steps=int(m["figures"]["real_steps_collected"]), exact=True,
            wall_seconds=None, machine=NOT_RECORDED, command=m["command"],
            what=f"Round {r} of iterative training: {m['figures']['new_episodes']} real episodes driven by the "
                 f"previous controller with noise {m['figures']['noise']}; M retrained on all the data.",
            result={"episodes": m["figures"]["new_episodes"]}))
    return [first, held, *rounds]


def selection_entries(manifest: dict) -> list[ledger.Entry]:
    """The real episodes whose scores were looked at while making the controller; their steps were not
    recorded, so each entry is an upper bound of 1,000 steps an episode."""
    config = CarRacingConfig()
    scored = {r: manifest[catalogue.controller_name(r)]["figures"] for r in catalogue.ROUNDS}
    episodes = sum(f["real_episodes"] for f in scored.values())
    seeds = ledger.reset_seeds(config.eval_seed, config.num_envs, config.eval_episodes)
    final = ledger.Entry(
        setup=SETUP, stage="selection", real_steps=episodes * EPISODE_STEPS, exact=False, wall_seconds=None,
        machine=NOT_RECORDED, command=f"{EVOLVE_COMMAND}  (step: python -m wmcourse eval-agent --episodes "
                                      f"{config.eval_episodes} --seed {config.eval_seed})",
        what=f"Each round's controller (rounds 0, 1, 2) scored on {config.eval_episodes} real episodes; these scores "
             "made round 2's the shipped one. Steps not recorded: an upper bound of 1,000 an episode. Tracks: the "
             f"first ones of {len(seeds)} environments reset with seeds {seeds[0]} and {seeds[-1]} (not seeds "
             "1000-1019: only an environment's first track comes from its seed). Not counted: the "
             f"{REFERENCE_STEPS}-step reference drive (seed 1000) that shipping replays for a test, and the tau "
             "sweep's real episodes, which scored controllers that no round started from.",
        result={"episodes": episodes, "reset_seeds": seeds, "num_envs": len(seeds),
                "means": [f["real_mean"] for f in scored.values()], "stds": [f["real_std"] for f in scored.values()]})
    quick = ledger.Entry(
        setup=SETUP, stage="selection", real_steps=config.rounds * config.round.eval_episodes * EPISODE_STEPS,
        exact=False,
        wall_seconds=None, machine=NOT_RECORDED,
        command=f"{EVOLVE_COMMAND}  (step: python scripts/carracing_round.py runs/CarRacing-v3 N, its quick score)",
        what=f"Each iterative round's own quick real score ({config.round.eval_episodes} episodes, the same first "
             "tracks, written to quick_roundN.json), assuming the pipeline's default settings (the manifest "
             "records none other). Steps not recorded: an upper bound of 1,000 an episode.",
        result={"episodes": config.rounds * config.round.eval_episodes, "reset_seeds": seeds, "num_envs": len(seeds)})
    return [final, quick]


def evaluation_entry(stdout: Path, wall_seconds: float, user_seconds: float | None) -> ledger.Entry:
    """The 100 held-out tracks, from what `eval-agent` printed: its summary line (with the real steps, which
    its JSON lacked before it recorded them) and its JSON line."""
    lines = stdout.read_text().splitlines()
    scores = json.loads(lines[-1])
    steps = scores.get("real_steps") or int(re.search(r"\((\d+) real steps\)", stdout.read_text()).group(1))
    return ledger.evaluation_entry(
        SETUP, {**scores, "real_steps": steps}, HELDOUT_SEED, 1, HELDOUT_COMMAND, wall_seconds,
        what=f"The shipped round-2 controller on {scores['episodes']} held-out real tracks: the first "
             f"{scores['episodes']} tracks of one environment reset with seed {HELDOUT_SEED} (its next tracks come "
             "from that seed's random stream), far from the collection, selection and real CMA-ES seeds.",
        user_cpu_seconds=user_seconds)


LARGER_ROUND = "python scripts/carracing_round3.py"


def ensemble_entries(larger: dict, entries: list[ledger.Entry]) -> list[ledger.Entry]:
    """The ensemble controller's real steps, from data/carracing_round3.json (`larger`): the one-M setup's data and
    selection counted again, each round that run collected, the validation and drives of every candidate (they
    chose the ensemble among them), and its 100 held-out tracks."""
    setup, machine = ledger.ENSEMBLE, larger["machine"]

    def data(steps: int, command: str, what: str, **result) -> ledger.Entry:
        return ledger.Entry(setup=setup, stage="data", real_steps=int(steps), exact=True, wall_seconds=None,
                            machine=machine, command=command, what=what, result=result)

    first = next(c for c in larger["commands"] if "--policy mix" in c)
    new = [data(larger["data_real_steps"], f"{LARGER_ROUND} collect",
                f"Round {larger['round']}: {larger['episodes']} real episodes driven by round 2's controller with "
                f"action noise {larger['noise']}; round {larger['round']}'s M trained on them.",
                episodes=larger["episodes"], mean=round(larger["data_returns"]["mean"], 1)),
           data(larger["first_data_real_steps"], first,
                "The first 64 episodes collected again with the same seeds (the originals were not kept), for the M "
                "trained on every round's episodes.", episodes=64, again=True)]
    for r, other in sorted(larger["other_rounds"].items()):
        driver = "round 3's controller, the one that fails in reality" if r == "4" else \
            f"round {int(r) - 1}'s shipped controller (the round's own episodes were not kept)"
        new.append(data(other["real_steps"], f"{LARGER_ROUND} collect --round {r}",
                        f"Round {r}: {other['episodes']} real episodes driven by {driver}, for the M trained on every "
                        "round's episodes.", episodes=other["episodes"], mean=round(other["returns"]["mean"], 1),
                        again=r != "4"))
    candidates = larger["candidates"]
    validate = next(c for c in larger["commands"] if c.startswith(f"{LARGER_ROUND} validate"))
    seeds = (larger["validation_seed"], larger["validation_seed"] + larger["validation_tracks"] - 1)
    new.append(ledger.Entry(
        setup=setup, stage="selection", real_steps=sum(c["validation"]["real_steps"] for c in candidates), exact=True,
        wall_seconds=None, machine=machine, command=validate,
        what=f"{len(candidates)} candidate controllers each drove the {larger['validation_tracks']} validation tracks "
             f"(seeds {seeds[0]} to {seeds[1]}); these scores chose the ensemble's controller.",
        result={"episodes": len(candidates) * larger["validation_tracks"],
                "reset_seeds": list(range(seeds[0], seeds[1] + 1)),  # one track a seed (real_es.score_population)
                "means": {c["name"]: round(c["validation"]["mean"], 1) for c in candidates}}))
    new.append(ledger.Entry(
        setup=setup, stage="selection", real_steps=sum(c["drive"]["steps"] for c in candidates), exact=True,
        wall_seconds=None, machine=machine, command=f"{LARGER_ROUND} ship",
        what=f"One real drive of each of the {len(candidates)} candidates on the first validation track, to watch "
             "how it drives; counted as selection, since what they showed was seen before the choice.",
        result={"episodes": len(candidates), "reset_seeds": [larger["validation_seed"]]}))
    heldout = larger["ensemble_heldout"]
    evaluation = ledger.evaluation_entry(
        setup, {**heldout, "controller": f"data/{catalogue.ENSEMBLE_CONTROLLER}"}, heldout["seed"], 1,
        heldout["command"], heldout["seconds"],
        what=f"The ensemble's controller on {heldout['episodes']} held-out real tracks: the first "
             f"{heldout['episodes']} tracks of one environment reset with seed {heldout['seed']}, the same tracks as "
             "every setup's.")
    return [*ledger.restated(entries, ledger.DREAM_ONLY, setup, ("data", "selection")), *new,
            dataclasses.replace(evaluation, machine=f"{machine} (shared with other jobs: its wall time is long)")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaluation", type=Path, help="the stdout of the held-out eval-agent run")
    parser.add_argument("--wall-seconds", type=float, help="its wall time")
    parser.add_argument("--user-seconds", type=float, default=None, help="its user CPU time")
    parser.add_argument("--restate", nargs="+", metavar=("FROM_SETUP TO_SETUP", "STAGE"),
                        help="instead: count FROM_SETUP's entries of these stages again for TO_SETUP")
    parser.add_argument("--ensemble", action="store_true",
                        help="instead: add the ensemble controller's entries (from data/carracing_round3.json)")
    parser.add_argument("--record", action="store_true",
                        help="instead: only record the ledger in the manifest (after eval-agent or evolve-real "
                             "--ledger added to it)")
    parser.add_argument("--out", type=Path, default=artefacts.data_dir() / ledger.LEDGER_NAME,
                        help="the ledger (it must not hold these entries yet: an entry is never counted twice)")
    args = parser.parse_args()
    new: list[ledger.Entry] = []  # --record adds nothing
    command = ""
    details: dict[str, str] = {}
    if args.restate:
        if len(args.restate) < 3:
            parser.error("--restate takes FROM_SETUP TO_SETUP STAGE..., for example "
                         "--restate dream-only from-scratch data")
        new = ledger.restated(ledger.load(args.out), args.restate[0], args.restate[1], tuple(args.restate[2:]))
        command = "python scripts/carracing_ledger.py --restate " + " ".join(args.restate)
    elif args.ensemble:
        new = ensemble_entries(catalogue.load_larger_round(), ledger.load(args.out))
        command = "python scripts/carracing_ledger.py --ensemble"
    elif args.record:
        pass
    elif args.evaluation is None or args.wall_seconds is None:
        parser.error("pass --evaluation and --wall-seconds (the first entries), or --restate")
    else:
        manifest = artefacts.load_manifest()
        new = [*data_entries(manifest), *selection_entries(manifest),
               evaluation_entry(args.evaluation, args.wall_seconds, args.user_seconds)]
        command = (f"python scripts/carracing_ledger.py --evaluation {args.evaluation} --wall-seconds "
                   f"{args.wall_seconds:g}" + (f" --user-seconds {args.user_seconds:g}" if args.user_seconds else ""))
        details["evaluation_command"] = f"{HELDOUT_COMMAND} > {args.evaluation}  (timed with `time`)"
    for entry in new:
        ledger.add(args.out, entry)
    entries = ledger.load(args.out)
    print(ledger.format_table(entries))
    if args.out.resolve().is_relative_to(artefacts.data_dir().resolve()):
        record_in_manifest(args.out, entries, command, **details)
        print(f"recorded {args.out} in the manifest")


def record_in_manifest(path: Path, entries: list[ledger.Entry], command: str, **details: str) -> None:
    """Record the ledger's hash and totals by setup and stage. The manifest keeps the command that began it and
    its notes (`details` join them); every later entry names its own command in the ledger."""
    old = artefacts.load_manifest().get(path.name, {})
    counts, exact = ledger.steps_by_setup_and_stage(entries), ledger.exact_by_setup(entries)
    kept = {k: v for k, v in old.items() if k not in ("sha256", "bytes", "command", "seed", "date", "figures")}
    kept.update(details, later_entries="each names its own command (eval-agent --ledger, evolve-real --ledger, "
                                       "--restate)")
    artefacts.record(path, old.get("command", command), seed=None,
                     figures={setup: {**c, "exact": exact[setup]} for setup, c in counts.items()}, **kept)


if __name__ == "__main__":
    main()
