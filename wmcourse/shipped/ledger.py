"""A run ledger of real environment steps: every real step an experiment spent, by setup and by stage.

A World Model's claim is sample efficiency, so a score means little without the real steps behind it. The
ledger is a JSON file ({"entries": [...]}) with one entry per batch of real steps: which setup of the
comparison it belongs to (CarRacing's: "dream-only" for the round-2 controller evolved in one M's dream,
"dream-only-ensemble" for the controller evolved in three Ms' dreams, "refined" for dream then real CMA-ES,
"refined-ensemble" for the three Ms' controller then real CMA-ES, "from-scratch" for real CMA-ES from scratch;
SETUPS), its stage, the count (exact, or an upper bound where the run did not record it), the wall time, the
machine, the command and what the steps bought. Stages:

    data         episodes collected to train V and M
    selection    real episodes whose scores picked a controller (a round, a temperature, a checkpoint)
    refinement   real episodes that changed a controller's weights (CMA-ES scored in reality)
    evaluation   the final score on held-out tracks

Entries are only ever appended (atomically: a killed run leaves the previous file), and the same (setup,
stage, command) is refused twice, so rerunning a command cannot count its steps again.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..checkpoint import atomic_write_text
from ..errors import LedgerError, MissingArtefactError

STAGES = ("data", "selection", "refinement", "evaluation")
DREAM_ONLY, ENSEMBLE, REFINED, FROM_SCRATCH = "dream-only", "dream-only-ensemble", "refined", "from-scratch"
REFINED_ENSEMBLE = "refined-ensemble"
SETUPS = {DREAM_ONLY: "dream only, one M", ENSEMBLE: "dream only, three Ms",  # CarRacing's setups and their labels
          REFINED: "dream, then real CMA-ES", REFINED_ENSEMBLE: "three Ms' dream, then real CMA-ES",
          FROM_SCRATCH: "real CMA-ES from scratch"}
LEDGER_NAME = "carracing_ledger.json"  # the CarRacing ledger, in data/
MAKE_LEDGER = "python scripts/carracing_ledger.py"  # with the held-out run's stdout and times: see its docstring


@dataclass(frozen=True)
class Entry:
    """One batch of real environment steps: its setup, stage, count and how it was spent."""

    setup: str  # the setup of the comparison it counts for (CarRacing's: one of SETUPS)
    stage: str  # one of STAGES
    real_steps: int
    exact: bool  # False: real_steps is an upper bound (the run did not record the exact count)
    wall_seconds: float | None  # None where the run did not record it
    machine: str
    command: str
    what: str  # a sentence: what these steps were, and why they count here
    result: dict[str, Any] = field(default_factory=dict)  # e.g. mean, std, episodes, reset_seeds

    def __post_init__(self) -> None:
        _check(self)


def _check(entry: Entry) -> None:
    """Raise LedgerError naming what was expected when an entry is not valid."""
    if entry.stage not in STAGES:
        raise LedgerError(f"Unknown ledger stage {entry.stage!r}: expected one of {', '.join(STAGES)}.")
    if not isinstance(entry.setup, str) or not entry.setup.strip():
        raise LedgerError(f"A ledger entry's setup is the name of a setup (for example {DREAM_ONLY!r}), got "
                          f"{entry.setup!r}.")
    if isinstance(entry.real_steps, bool) or not isinstance(entry.real_steps, int):
        raise LedgerError(f"A ledger entry's real_steps is a whole number, got {entry.real_steps!r}.")
    if entry.real_steps < 0:
        raise LedgerError(f"A ledger entry counts 0 or more real steps, got {entry.real_steps}.")
    if entry.wall_seconds is not None and not entry.wall_seconds >= 0:
        raise LedgerError("A ledger entry's wall time is 0 s or more (or None when unknown), got "
                          f"{entry.wall_seconds}.")
    if not entry.command.strip() or not entry.what.strip():
        raise LedgerError("A ledger entry names the command that spent the steps and what they were; one is empty.")


def machine() -> str:
    """This machine in one line, e.g. "Intel(R) Xeon(R) CPU @ 2.20GHz, 2 cores, 23 GiB, Linux": what a wall
    time needs beside it to mean anything."""
    parts = [_cpu_model(), f"{os.cpu_count() or 1} cores"]
    memory = _memory_gib()
    if memory is not None:
        parts.append(f"{memory:.0f} GiB")
    parts.append(platform.system() or platform.platform())
    return ", ".join(parts)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _memory_gib() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):  # not POSIX
        return None


def reset_seeds(seed: int, num_envs: int, episodes: int) -> list[int]:
    """The seeds an evaluation's environments are reset with (`evaluate.evaluate` runs min(num_envs, episodes)
    copies; copy i is reset once with seed + i).

    Only each copy's first track comes from its seed: the next ones come from the copy's random stream, so
    `--seed 1000 --num-envs 2` drives the tracks of the streams of seeds 1000 and 1001, not seeds 1000-1019."""
    return list(range(seed, seed + min(num_envs, episodes)))


def evaluation_entry(setup: str, scores: dict[str, Any], seed: int, num_envs: int, command: str,
                     wall_seconds: float | None, what: str | None = None, env_id: str = "CarRacing-v3",
                     **details: Any) -> Entry:
    """The "evaluation" entry of a real score: `scores` as `carracing_experiment.eval_agent` returns it (mean, std,
    episodes, returns, real_steps), played by `num_envs` environments reset from `seed` on this machine.
    `details` join the result (e.g. user_cpu_seconds); `what` defaults to a sentence naming the reset seeds."""
    seeds = reset_seeds(seed, num_envs, scores["episodes"])
    what = what or (f"{scores['controller']} scored on {scores['episodes']} real {env_id} episodes: "
                    f"the first tracks of {len(seeds)} environment(s) reset with seed(s) {', '.join(map(str, seeds))}.")
    return Entry(setup=setup, stage="evaluation", real_steps=scores["real_steps"], exact=True,
                 wall_seconds=wall_seconds, machine=machine(), command=command, what=what,
                 result={"mean": scores["mean"], "std": scores["std"], "episodes": scores["episodes"],
                         "reset_seeds": seeds, "num_envs": len(seeds), **details, "returns": scores["returns"]})


def refinement_entry(setup: str, history: list[dict[str, Any]], start: str, command: str,
                     counted: int = 0) -> Entry:
    """The "refinement" entry of a CMA-ES run scored in the real environment (`real_es.evolve_real`'s history:
    one dict a generation with its real steps and seconds); its wall time is its generations' own. A run resumed
    after an earlier entry counted its first `counted` generations counts only the ones after them."""
    if not 0 <= counted < len(history):
        raise LedgerError(f"A refinement entry needs a generation not counted yet: the run has {len(history)} "
                          f"finished generation(s) and {counted} are counted; run more --generations.")
    new = history[counted:]
    before = history[counted - 1]["total_real_steps"] if counted else 0
    which = f"generations {counted + 1} to {len(history)}" if counted else f"{len(history)} generations"
    return Entry(setup=setup, stage="refinement", real_steps=history[-1]["total_real_steps"] - before, exact=True,
                 wall_seconds=round(sum(h["seconds"] for h in new), 1), machine=machine(), command=command,
                 what=f"CMA-ES in the real environment from {start}: {which}, every candidate scored on real tracks; "
                      "these steps changed the controller's weights.",
                 result={"generations": len(history), "first_generation": counted + 1,
                         "last_population_mean": round(history[-1]["mean"], 1), "start": start})


def counted_generations(path: str | Path, setup: str, start: str, history: list[dict[str, Any]]) -> int:
    """How many generations of this real CMA-ES run from `start` (its `history`) the refinement entries of `setup`
    in the ledger at `path` already count (0 when none, or no ledger yet): a resumed run counts only the
    generations after them. An entry from `start` that does not fit the history (more generations, or other step
    counts) is another run: LedgerError, since one setup counts one run."""
    earlier = [e for e in _stage(path, setup, "refinement") if e.result.get("start") == start]
    if not earlier:
        return 0
    counted = max(e.result.get("generations", 0) for e in earlier)
    steps = sum(e.real_steps for e in earlier)
    if counted > len(history) or history[counted - 1]["total_real_steps"] != steps:
        raise LedgerError(f"Setup {setup!r} already counts {counted} generations ({steps:,} real steps) of a run from "
                          f"{start}, which this run of {len(history)} generations does not continue: count it for "
                          "another --setup, or in another --ledger.")
    return counted


def selection_entry(setup: str, selection: dict[str, Any], run: str, command: str) -> Entry:
    """The "selection" entry of a choice among a real CMA-ES run's search means (`real_es.select_generation`):
    real steps that chose which weights to keep, without changing any."""
    seeds, rows = selection["seeds"], selection["generations"]
    return Entry(setup=setup, stage="selection", real_steps=selection["real_steps"], exact=True,
                 wall_seconds=selection["seconds"], machine=machine(), command=command,
                 what=f"{len(rows)} search means of the real CMA-ES run {run} (its start and the means after "
                      f"generations {', '.join(str(r['generation']) for r in rows[1:])}) each drove {len(seeds)} "
                      f"validation tracks (seeds {seeds[0]} to {seeds[-1]}); "
                      f"generation {selection['chosen']} was kept. These steps chose a controller; they did not "
                      "change its weights.",
                 result={"chosen_generation": selection["chosen"], "validation_seeds": [seeds[0], seeds[-1]],
                         "reset_seeds": list(seeds),  # one track a seed (real_es.score_population)
                         "generations": [{k: round(v, 1) if k != "generation" else v for k, v in row.items()}
                                         for row in rows]})


def restated(entries: list[Entry], from_setup: str, to_setup: str, stages: tuple[str, ...]) -> list[Entry]:
    """`from_setup`'s entries of `stages`, counted again for `to_setup`: for steps two setups both stand on (the
    from-scratch controller reads the same V and M as the dream-only one, so the data that trained them is its
    data too)."""
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise LedgerError(f"Unknown ledger stage(s) {', '.join(sorted(unknown))}: expected some of "
                          f"{', '.join(STAGES)}.")
    chosen = [replace(e, setup=to_setup) for e in entries if e.setup == from_setup and e.stage in stages]
    if not chosen:
        raise LedgerError(f"Setup {from_setup!r} has no {'/'.join(stages)} entries to restate for {to_setup!r}.")
    return chosen


# --- reading and writing --------------------------------------------------------------------------------

def _read(path: Path) -> list[Entry]:
    """The entries of the ledger at `path` ([] when there is no file yet)."""
    if not path.exists():
        return []
    try:
        found = json.loads(path.read_text())["entries"]
        why = None if isinstance(found, list) else 'its "entries" is not a list'
        entries = [] if why else [Entry(**_named_setup(entry)) for entry in found]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        why = str(exc)
    if why:
        raise LedgerError(f"{path} is not a run ledger ({why}): expected JSON {{\"entries\": [...]}} written by "
                          f"wmcourse.shipped.ledger.add; restore it with `git checkout -- {path}` "
                          "or pass another path.")
    return entries


def _named_setup(entry: dict) -> dict:
    """An entry as written; one from a ledger that numbered CarRacing's setups 1-3 ("row") gets its setup's name."""
    if "row" not in entry:
        return entry
    entry = dict(entry)
    entry["setup"] = {1: DREAM_ONLY, 2: REFINED, 3: FROM_SCRATCH}.get(entry.pop("row"), "unknown")
    return entry


def _stage(path: str | Path, setup: str, stage: str) -> list[Entry]:
    """The entries of `setup` and `stage` in the ledger at `path`, in the order they were added ([] with no file)."""
    return [e for e in _read(Path(path)) if e.setup == setup and e.stage == stage]


def load(path: str | Path) -> list[Entry]:
    """The entries of a ledger, in the order they were added."""
    path = Path(path)
    if not path.exists():
        raise MissingArtefactError(f"No run ledger at {path}. The CarRacing one is made with:\n    {MAKE_LEDGER}")
    return _read(path)


def check_new(path: str | Path, setup: str, stage: str, command: str, controller_sha256: str | None = None) -> None:
    """Raise LedgerError when the ledger already has an entry for (setup, stage, command): call it before a
    long run, so a command rerun by mistake stops before it spends the steps, not after. An evaluation that
    names the sha256 of the controller file it scores differs from one that scored another file under the same
    name (a setup whose kept controller was replaced); an old entry without a hash counts as the same."""
    for old in _read(Path(path)):
        scored = old.result.get("controller_sha256")
        if (old.setup, old.stage, old.command) == (setup, stage, command) and (
                scored is None or controller_sha256 is None or scored == controller_sha256):
            raise LedgerError(f"{path} already counts the {stage} steps of setup {setup!r} for `{command}`: "
                              "counting them twice would overstate the budget; pass another --ledger or --setup.")


def check_fresh_tracks(path: str | Path, setup: str, seeds: list[int]) -> None:
    """Raise LedgerError when validation tracks `seeds` (one track a seed) already chose a controller for `setup`:
    an earlier selection entry of the setup reset an environment with one of them. The best of several noisy
    scores on the same tracks runs high, and choosing on them again would choose on that luck; fresh tracks do not
    share it. Call it before a choice spends its steps."""
    used = sorted({s for old in _stage(path, setup, "selection") for s in old.result.get("reset_seeds", [])})
    again = sorted(set(used) & set(seeds))
    if again:
        fresh = (max(used) // 100_000 + 1) * 100_000
        raise LedgerError(f"{path}: tracks {again[0]} to {again[-1]} already chose a controller for setup {setup!r}; "
                          f"a second choice on them would choose on their luck. Choose on fresh tracks (for example "
                          f"--select-seed {fresh}).")


def check_look(path: str | Path, setup: str, another_look: bool) -> None:
    """Raise LedgerError unless a held-out evaluation of `setup` is deliberate: the first look needs nothing; once
    the held-out tracks have scored the setup, a new score replaces the earlier one (a setup reports its last look,
    whichever is higher), so it must be asked for (`another_look`) before it is known, not picked after."""
    looks = _stage(path, setup, "evaluation")
    if looks and not another_look:
        last = looks[-1].result
        raise LedgerError(f"{path}: the held-out tracks already scored setup {setup!r} ({len(looks)} time(s), last "
                          f"{last.get('mean', float('nan')):.1f} ± {last.get('std', float('nan')):.1f}). A new score "
                          "would replace that one, higher or lower: a setup reports its last look. If that is the "
                          "plan, decided before you look, pass --another-look.")
    if another_look and not looks:
        raise LedgerError(f"{path}: --another-look, but the held-out tracks have not scored setup {setup!r} yet: "
                          "leave it out for a first look.")


def add(path: str | Path, entry: Entry) -> list[Entry]:
    """Append `entry` to the ledger at `path` (created if missing), atomically; returns all entries."""
    path = Path(path)
    check_new(path, entry.setup, entry.stage, entry.command, entry.result.get("controller_sha256"))
    entries = [*_read(path), entry]
    atomic_write_text(path, json.dumps({"entries": [asdict(e) for e in entries]}, indent=1) + "\n")
    return entries


# --- totals ---------------------------------------------------------------------------------------------

def _setups(entries: list[Entry]) -> list[str]:
    """The setups of `entries`: SETUPS' order first, then others as they come."""
    named = {e.setup for e in entries}
    return [s for s in SETUPS if s in named] + list(dict.fromkeys(e.setup for e in entries if e.setup not in SETUPS))


def steps_by_setup_and_stage(entries: list[Entry]) -> dict[str, dict[str, int]]:
    """{setup: {stage: real steps, ..., "total": real steps}}: stages with no entry are 0, setups in order."""
    table = {setup: {**dict.fromkeys(STAGES, 0), "total": 0} for setup in _setups(entries)}
    for e in entries:
        table[e.setup][e.stage] += e.real_steps
        table[e.setup]["total"] += e.real_steps
    return table


def exact_by_setup(entries: list[Entry]) -> dict[str, bool]:
    """Whether each setup's total is exact (False: some entry of it is an upper bound)."""
    return {setup: all(e.exact for e in entries if e.setup == setup) for setup in _setups(entries)}


def steps_before_refinement(entries: list[Entry], setup: str) -> int:
    """The real steps a setup spent before its controller met real CMA-ES: its data and selection stages, except a
    choice among that run's own search means (`selection_entry`), which came after it."""
    return sum(e.real_steps for e in entries if e.setup == setup and (
        e.stage == "data" or (e.stage == "selection" and "chosen_generation" not in e.result)))


@dataclass(frozen=True)
class StepCurve:
    """A setup's real score against the real steps it had spent by then (data, selection, refinement; never
    the evaluation's), ending in its final controller's score on the held-out tracks."""

    setup: str
    label: str
    steps: list[int]
    scores: list[float]
    held_out: tuple[int, float, float]  # (real steps spent, mean, std) of the held-out evaluation


def held_out_point(entries: list[Entry], setup: str) -> tuple[int, float, float]:
    """(the real steps `setup` spent before its evaluation, the evaluation's mean, its std). A setup whose kept
    controller was replaced and scored again ends in its last evaluation; the earlier ones bought no weights."""
    evaluations = [e for e in entries if e.setup == setup and e.stage == "evaluation"]
    if not evaluations:
        raise LedgerError(f"Setup {setup!r} has 0 evaluation entries; a curve ends in its held-out score: run "
                          "`python -m wmcourse eval-agent ... --ledger ... --setup ...` first.")
    counts = steps_by_setup_and_stage(entries)[setup]
    return (counts["total"] - counts["evaluation"], evaluations[-1].result["mean"], evaluations[-1].result["std"])


def run_of(command: str) -> str | None:
    """The output a real CMA-ES command names (`--out PATH`): one run, however many times it was resumed."""
    words = command.split()
    return words[words.index("--out") + 1] if "--out" in words[:-1] else None


def refinement_curve(entries: list[Entry], setup: str, histories: list[list[dict[str, Any]]],
                     label: str) -> StepCurve:
    """A setup's real CMA-ES runs as one curve, run after run (a later run starts from an earlier one's kept
    controller): each generation's population mean at the setup's steps before refinement, plus the steps of the
    runs before it and of its own run so far (each history as `real_es.evolve_real` returns it), plus any choice
    among its run's means made before that generation (a run resumed after a selection). A run is the output its
    commands name (`run_of`), in the order the ledger first counts it."""
    runs = list(dict.fromkeys(run_of(e.command) for e in entries if e.setup == setup and e.stage == "refinement"))
    if len(runs) != len(histories):
        raise LedgerError(f"setup {setup!r} has {len(runs)} real CMA-ES runs in the ledger and {len(histories)} "
                          "histories were given: give one history a run, in the ledger's order.")
    steps, scores, before = [], [], steps_before_refinement(entries, setup)
    for run, history in zip(runs, histories):
        choices = [(max(row["generation"] for row in e.result["generations"]), e.real_steps) for e in entries
                   if e.setup == setup and e.stage == "selection" and "chosen_generation" in e.result
                   and run_of(e.command) == run]
        steps += [before + h["total_real_steps"] + sum(n for g, n in choices if g < h["generation"]) for h in history]
        scores += [h["mean"] for h in history]
        before += history[-1]["total_real_steps"] + sum(n for _, n in choices)
    return StepCurve(setup, label, steps, scores, held_out_point(entries, setup))


def format_table(entries: list[Entry]) -> str:
    """The real steps by setup and stage as text; an upper bound is marked "<=". """
    table, exact = steps_by_setup_and_stage(entries), exact_by_setup(entries)
    bounds = {(e.setup, e.stage) for e in entries if not e.exact}
    width = max([len("setup"), *(len(s) for s in table)])
    lines = [f"{'setup':<{width}s} " + "  ".join(f"{s:>12s}" for s in (*STAGES, "total"))]
    for setup, counts in table.items():
        cells = [("<=" if (setup, s) in bounds else "") + f"{counts[s]:,}" for s in STAGES]
        cells.append(("" if exact[setup] else "<=") + f"{counts['total']:,}")
        lines.append(f"{setup:<{width}s} " + "  ".join(f"{c:>12s}" for c in cells))
    return "\n".join(lines)
