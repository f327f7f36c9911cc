"""The run ledger of real environment steps (wmcourse.shipped.ledger) and the shipped CarRacing one."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from wmcourse import artefacts
from wmcourse.cli.main import main
from wmcourse.errors import CourseError, LedgerError
from wmcourse.shipped import catalogue as shipped
from wmcourse.shipped import ledger
from wmcourse.worldmodels import controller

ROOT = Path(__file__).resolve().parent.parent


def _entry(**changes) -> ledger.Entry:
    base = dict(setup="dream-only", stage="data", real_steps=1000, exact=True, wall_seconds=12.5,
                machine="test machine", command="python -m wmcourse collect --episodes 1", what="one real episode",
                result={"episodes": 1})
    return ledger.Entry(**{**base, **changes})


def test_add_writes_atomically_and_load_returns_the_same_entries(tmp_path):
    path = tmp_path / "sub" / "ledger.json"
    first = _entry()
    second = _entry(stage="evaluation", real_steps=2500, exact=False, wall_seconds=None,
                    command="python -m wmcourse eval-agent", result={"mean": 1.5, "reset_seeds": [7]})
    ledger.add(path, first)
    ledger.add(path, second)
    assert ledger.load(path) == [first, second]
    assert [e["stage"] for e in json.loads(path.read_text())["entries"]] == ["data", "evaluation"]
    assert not list(path.parent.glob("*.partial")), "the temporary file of the atomic write was left behind"


def test_the_same_setup_stage_and_command_is_refused(tmp_path):
    path = tmp_path / "ledger.json"
    ledger.add(path, _entry())
    before = path.read_bytes()
    with pytest.raises(LedgerError, match="already counts"):
        ledger.add(path, _entry(real_steps=5))  # other figures, same command: still the same steps
    assert path.read_bytes() == before
    ledger.add(path, _entry(setup="refined"))  # another setup is another count
    ledger.add(path, _entry(stage="selection"))
    assert len(ledger.load(path)) == 3


def test_the_same_evaluation_command_on_a_replaced_controller_file_is_a_new_count(tmp_path):
    path = tmp_path / "ledger.json"
    scored = _entry(stage="evaluation", command="eval-agent --controller c.npz", result={"controller_sha256": "a1"})
    ledger.add(path, scored)
    with pytest.raises(LedgerError, match="already counts"):
        ledger.add(path, _entry(stage="evaluation", command=scored.command, result={"controller_sha256": "a1"}))
    with pytest.raises(LedgerError, match="already counts"):  # no hash: it may be the same file
        ledger.check_new(path, scored.setup, "evaluation", scored.command)
    ledger.add(path, _entry(stage="evaluation", command=scored.command, result={"controller_sha256": "b2"}))
    assert len(ledger.load(path)) == 2


def test_validation_tracks_that_already_chose_for_a_setup_are_refused_for_its_next_choice(tmp_path):
    path = tmp_path / "ledger.json"
    ledger.add(path, _entry(stage="selection", result={"reset_seeds": list(range(6_000_000, 6_000_016))}))
    with pytest.raises(LedgerError, match="6000003 to 6000003.*--select-seed 6100000"):
        ledger.check_fresh_tracks(path, _entry().setup, [6_000_003])
    ledger.check_fresh_tracks(path, _entry().setup, list(range(6_100_000, 6_100_016)))  # fresh tracks
    ledger.check_fresh_tracks(path, "another setup", [6_000_003])  # another setup's choice is its own
    ledger.check_fresh_tracks(tmp_path / "none.json", _entry().setup, [6_000_003])  # no ledger yet


@pytest.mark.parametrize("changes, words", [
    (dict(stage="training"), "data, selection, refinement, evaluation"),
    (dict(real_steps=-1), "0 or more"),
    (dict(real_steps=1.5), "whole number"),
    (dict(setup=""), "name of a setup"),
    (dict(setup=3), "name of a setup"),
    (dict(wall_seconds=-3.0), "wall time"),
    (dict(command=" "), "command"),
])
def test_a_bad_entry_is_refused_with_what_was_expected(changes, words):
    with pytest.raises(LedgerError, match=words) as info:
        _entry(**changes)
    assert isinstance(info.value, CourseError) and isinstance(info.value, ValueError)


def test_a_file_that_is_not_a_ledger_is_named(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"rows": []}')
    with pytest.raises(LedgerError, match="not a run ledger"):
        ledger.load(path)
    with pytest.raises(CourseError, match="No run ledger"):
        ledger.load(tmp_path / "missing.json")


def test_steps_by_setup_and_stage_sums_each_setup_and_stage():
    entries = [_entry(setup="from-scratch", stage="refinement", real_steps=1000), _entry(real_steps=100),
               _entry(real_steps=50, command="b"), _entry(stage="selection", real_steps=7),
               _entry(setup="from-scratch", stage="evaluation", real_steps=9)]
    table = ledger.steps_by_setup_and_stage(entries)
    assert table == {"dream-only": {"data": 150, "selection": 7, "refinement": 0, "evaluation": 0, "total": 157},
                     "from-scratch": {"data": 0, "selection": 0, "refinement": 1000, "evaluation": 9, "total": 1009}}
    assert list(table) == ["dream-only", "from-scratch"]  # in the order of ledger.SETUPS
    assert ledger.exact_by_setup([*entries, replace(entries[1], exact=False)]) == {"dream-only": False,
                                                                                   "from-scratch": True}
    assert "<=" in ledger.format_table([replace(entries[0], exact=False)])


def test_machine_is_one_line_with_the_cores():
    text = ledger.machine()
    assert "\n" not in text and "cores" in text


def test_reset_seeds_are_one_per_environment_copy():
    assert ledger.reset_seeds(1000, 2, 20) == [1000, 1001]
    assert ledger.reset_seeds(5_000_000, 4, 3) == [5_000_000, 5_000_001, 5_000_002]  # evaluate: min(num_envs, episodes)


# --- eval-agent --ledger ------------------------------------------------------------------------------------

def test_eval_agent_refuses_a_counted_command_before_playing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = tmp_path / "ledger.json"
    argv = ["eval-agent", "--controller", "no/such.npz", "--episodes", "1", "--ledger", str(path), "--setup", "refined"]
    ledger.add(path, _entry(setup="refined", stage="evaluation", command="python -m wmcourse " + " ".join(argv)))
    assert main(argv) == 2
    assert "already counts" in capsys.readouterr().err  # not "No controller": the episodes were never started


def test_a_second_held_out_look_must_be_asked_for_before_it_is_known(tmp_path, capsys, monkeypatch):
    from wmcourse.experiments import carracing

    monkeypatch.chdir(ROOT)
    scores = {"mean": 1.0, "std": 0.0, "episodes": 1, "returns": [1.0], "real_steps": 7, "seconds": 0.1}
    monkeypatch.setattr(carracing, "eval_agent", lambda c, *a, **k: {"controller": c, **scores})
    path = tmp_path / "ledger.json"
    argv = ["eval-agent", "--controller", "data/controller_carracing_ensemble.npz", "--episodes", "1", "--ledger",
            str(path), "--setup", "dream-only-ensemble"]
    assert main([*argv, "--another-look"]) == 2  # nothing to look at again yet
    assert "not scored" in capsys.readouterr().err
    assert main(argv) == 0  # the first look
    ledger.add(path, _entry(setup="dream-only-ensemble", stage="evaluation", command="an earlier look",
                            result={"mean": 675.8, "std": 82.4}))
    other = ["eval-agent", "--controller", "data/controller_carracing_refined.npz", *argv[3:]]
    assert main(other) == 2  # another controller of the same setup on the same tracks: refused unless asked for
    assert "already scored setup 'dream-only-ensemble' (2 time(s), last 675.8 ± 82.4)" in capsys.readouterr().err
    assert main([*other, "--another-look"]) == 0
    assert [e.command for e in ledger.load(path)][-1].endswith("--another-look")
    assert main(["eval-agent", "--another-look"]) == 2
    assert "goes with --ledger" in capsys.readouterr().err


def test_eval_agent_ledger_needs_a_setup(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["eval-agent", "--ledger", str(tmp_path / "l.json")]) == 2
    assert "--ledger and --setup go together" in capsys.readouterr().err


# --- the shipped CarRacing ledger ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped_ledger() -> list[ledger.Entry]:
    path = artefacts.require(ledger.LEDGER_NAME, ledger.MAKE_LEDGER)  # checked against the manifest
    return ledger.load(path)


def test_the_shipped_ledger_is_in_the_catalogue():
    assert ledger.LEDGER_NAME in {entry.name for entry in shipped.CATALOGUE}


def test_the_shipped_evaluation_is_100_held_out_tracks_and_its_mean_is_its_returns_mean(shipped_ledger):
    (evaluation,) = [e for e in shipped_ledger if e.setup == ledger.DREAM_ONLY and e.stage == "evaluation"]
    r = evaluation.result
    assert r["episodes"] == len(r["returns"]) == 100
    assert r["reset_seeds"] == [5_000_000] and r["num_envs"] == 1
    assert r["mean"] == pytest.approx(np.mean(r["returns"]), abs=0.01)  # returns are rounded to 0.01
    assert r["std"] == pytest.approx(np.std(r["returns"]), abs=0.01)
    assert evaluation.exact and 100 <= evaluation.real_steps <= 100 * 1000
    assert "--seed 5000000" in evaluation.command and "--episodes 100" in evaluation.command


def test_no_evaluation_seed_was_used_for_selection(shipped_ledger):
    """The held-out tracks come from seeds that neither the selection episodes nor the range 1000-1019 used."""
    held_out = {s for e in shipped_ledger if e.stage == "evaluation" for s in e.result["reset_seeds"]}
    selection = {s for e in shipped_ledger if e.stage == "selection" for s in e.result["reset_seeds"]}
    assert held_out and selection
    assert not held_out & selection
    assert not held_out & set(range(1000, 1020))


def test_the_shipped_dream_only_setup_counts_every_stage(shipped_ledger):
    """Dream only: the data of V, M and both rounds is exact, the selection an upper bound, and the totals are
    those the manifest recorded."""
    counts = ledger.steps_by_setup_and_stage(shipped_ledger)[ledger.DREAM_ONLY]
    manifest = artefacts.load_manifest()
    rounds = sum(manifest[shipped.mdnrnn_name(r)]["figures"]["real_steps_collected"] for r in (1, 2))
    assert counts["data"] == 63_598 + manifest["carracing_heldout/shard_00000.npz"]["figures"]["frames"] + rounds
    assert counts["refinement"] == 0
    assert all(not e.exact for e in shipped_ledger if e.stage == "selection" and e.setup == ledger.DREAM_ONLY)
    assert all(e.exact for e in shipped_ledger if e.stage in ("data", "evaluation"))
    recorded = manifest[ledger.LEDGER_NAME]["figures"][ledger.DREAM_ONLY]
    assert {k: recorded[k] for k in counts} == counts


def test_the_ensemble_stands_on_the_one_m_setup_and_counts_its_own_rounds_validation_and_held_out_tracks(
        shipped_ledger):
    """Three Ms: every data and selection step of one M again, plus each episode data/carracing_round3.json
    collected, the 16 validation tracks of each candidate and one drive each; scored on the same held-out tracks."""
    counts = ledger.steps_by_setup_and_stage(shipped_ledger)
    one, three = counts[ledger.DREAM_ONLY], counts[ledger.ENSEMBLE]
    larger = shipped.load_larger_round()
    collected = (larger["data_real_steps"] + larger["first_data_real_steps"]
                 + sum(r["real_steps"] for r in larger["other_rounds"].values()))
    remade, later_searches = second_run(shipped_ledger)
    assert sum(e.real_steps for e in remade) == collected
    assert three["data"] == one["data"] + 2 * collected  # the first run's episodes, then the same again
    validated = sum(c["validation"]["real_steps"] + c["drive"]["steps"] for c in larger["candidates"])
    draws = shipped.load_search_seeds()["selection"]  # the draws' validation episodes and the yardstick's
    chose = [shipped.load_long_search()["selection"]["real_steps"],
             draws["real_steps"] + draws["reference"]["real_steps"]]
    assert [e.real_steps for e in later_searches] == chose
    assert three["selection"] == one["selection"] + validated + sum(chose) and three["refinement"] == 0
    looks = [e for e in shipped_ledger if e.setup == ledger.ENSEMBLE and e.stage == "evaluation"]
    for evaluation in looks:
        assert evaluation.result["reset_seeds"] == [5_000_000] and evaluation.result["episodes"] == 100
        assert evaluation.result["mean"] == pytest.approx(np.mean(evaluation.result["returns"]), abs=0.01)
    first, longer, kept_draw = looks
    assert "controller_carracing_ensemble.npz" in first.command
    for later, name in ((longer, shipped.LONG_CONTROLLER), (kept_draw, shipped.SEEDS_CONTROLLER)):
        assert name in later.command and "--another-look" in later.command
        assert later.result["controller_sha256"] == artefacts.sha256(artefacts.require(name, ""))


def second_run(entries: list) -> tuple[list, list]:
    """The three-Ms setup's entries from its second run: the episodes collected again to remake its Ms (data) and
    the choices of the searches in the remade Ms, the longer search's and the search over seeds' (selection)."""
    own = [e for e in entries if e.setup == ledger.ENSEMBLE]
    return ([e for e in own if e.stage == "data" and "# run a second time" in e.command],
            [e for e in own if e.stage == "selection" and any(
                name in e.command for name in ("carracing_long_search.py", "carracing_search_seeds.py"))])


def test_the_three_ms_refinement_counts_the_ensembles_steps_its_search_and_the_validation_that_kept_it(
        shipped_ledger):
    """Three Ms' dream, then real CMA-ES, a run in two parts: the three-Ms setup's data and selection again, every
    real CMA-ES generation once, the validation episodes of each part's choice of a search mean (the start and
    every third generation's, the second on fresh tracks), and the same held-out tracks, the last look scoring the
    shipped file; under 3 million real steps before those tracks."""
    counts = ledger.steps_by_setup_and_stage(shipped_ledger)
    three, refined = counts[ledger.ENSEMBLE], counts[ledger.REFINED_ENSEMBLE]
    details = shipped.load_refined_ensemble_controller()[2]
    history = details["history"]
    own = [e for e in shipped_ledger if e.setup == ledger.REFINED_ENSEMBLE]
    first_run = [e for e in own if ledger.run_of(e.command) == FIRST_REAL_RUN]
    parts = [e for e in first_run if e.stage == "refinement"]
    choices = [e for e in first_run if "chosen_generation" in e.result]
    wide = [e for e in own if ledger.run_of(e.command) == WIDE_REAL_RUN]
    remade, later_searches = second_run(shipped_ledger)  # the refinement stands on the first run only
    assert refined["data"] == three["data"] - sum(e.real_steps for e in remade)
    assert refined["selection"] == (three["selection"] - sum(e.real_steps for e in later_searches)
                                    + sum(e.real_steps for e in choices + wide if e.stage == "selection"))
    assert refined["refinement"] - sum(e.real_steps for e in wide if e.stage == "refinement") == (
        history[-1]["total_real_steps"]) == sum(h["real_steps"] for h in history)
    assert [e.result["first_generation"] for e in parts[1:]] == [p.result["generations"] + 1 for p in parts[:-1]]
    assert parts[-1].result["generations"] == len(history)
    for part, choice in zip(parts, choices):  # select_generation(every=3, since): the start, every third and the last
        rows, last = choice.result["generations"], part.result["generations"]
        since = rows[1]["generation"]
        assert [r["generation"] for r in rows] == [0, *(g for g in range(since, last + 1)
                                                         if (g - since) % 3 == 0 or g == last)]
        assert choice.result["chosen_generation"] == rows[int(np.argmax([r["mean"] for r in rows]))]["generation"]
    assert details["selection"]["chosen"] == choices[-1].result["chosen_generation"]
    first, second = (set(c.result["reset_seeds"]) for c in choices)
    assert not first & second  # the tracks that had chosen twice did not choose again
    start = next(c for c in shipped.load_larger_round()["candidates"] if c["name"] == "ensemble")["validation"]
    # the start is the three-Ms controller on its own 16 validation tracks: about the score it had there (two runs
    # differ in the last bits of their floats, which moves a car a little)
    assert choices[0].result["generations"][0]["mean"] == pytest.approx(start["mean"], abs=10)
    looks = [e for e in own if e.stage == "evaluation" and shipped.REFINED_ENSEMBLE_CONTROLLER in e.command]
    for look in looks:
        assert look.result["reset_seeds"] == [5_000_000] and look.result["episodes"] == 100
        assert look.result["mean"] == pytest.approx(np.mean(look.result["returns"]), abs=0.01)
    shipped_file = artefacts.require(shipped.REFINED_ENSEMBLE_CONTROLLER, "")
    assert looks[-1].result["controller_sha256"] == artefacts.sha256(shipped_file)  # the run's last look is what ships
    assert len({look.result["controller_sha256"] for look in looks}) == len(looks)
    assert refined["total"] - refined["evaluation"] < 3_000_000


FIRST_REAL_RUN, WIDE_REAL_RUN = "runs/cr_real_ens/refined.npz", "runs/cr_real_wide/refined.npz"


def test_the_wide_real_run_starts_from_the_kept_controller_and_chooses_on_fresh_tracks(shipped_ledger):
    """The three-Ms setup's second real CMA-ES run (8 tracks a candidate): every generation counted once, a choice
    among the start and every third generation on tracks no earlier choice drove, and a held-out look only when a
    generation other than the start won, which then is the setup's last."""
    own = [e for e in shipped_ledger if e.setup == ledger.REFINED_ENSEMBLE]
    run = shipped.load_refine_wide()
    (part,), (choice,) = ([e for e in own if ledger.run_of(e.command) == WIDE_REAL_RUN and e.stage == stage]
                          for stage in ("refinement", "selection"))
    assert part.result["start"] == f"data/{shipped.REFINED_ENSEMBLE_CONTROLLER}"
    assert part.real_steps == run["history"][-1]["total_real_steps"] == sum(h["real_steps"] for h in run["history"])
    rows = choice.result["generations"]
    assert [r["generation"] for r in rows] == [0, 3, 6, 9, 12] and len(run["history"]) == 12
    assert choice.result["chosen_generation"] == rows[int(np.argmax([r["mean"] for r in rows]))]["generation"]
    earlier = {s for e in own if e is not choice and e.stage == "selection" for s in e.result.get("reset_seeds", [])}
    assert len(choice.result["reset_seeds"]) == 32 and not earlier & set(choice.result["reset_seeds"])
    looks = [e for e in own if e.stage == "evaluation" and "controller_carracing_refined_wide.npz" in e.command]
    if choice.result["chosen_generation"] == 0:
        assert not looks  # the start won: the held-out tracks did not look again
    else:
        (look,) = looks
        assert look is [e for e in own if e.stage == "evaluation"][-1] and "--another-look" in look.command
        shipped_file = artefacts.require("controller_carracing_refined_wide.npz", "")
        assert look.result["controller_sha256"] == artefacts.sha256(shipped_file)


def test_an_evaluation_entry_counts_the_steps_and_names_the_reset_seeds():
    scores = {"controller": "c.npz", "mean": 500.0, "std": 10.0, "episodes": 3, "returns": [490.0, 500.0, 510.0],
              "real_steps": 2_950}
    entry = ledger.evaluation_entry("refined", scores, 1000, 2, "python -m wmcourse eval-agent ...", 12.5,
                                    user_cpu_seconds=11.0)
    assert (entry.setup, entry.stage, entry.real_steps, entry.exact, entry.wall_seconds) == (
        "refined", "evaluation", 2_950, True, 12.5)
    assert entry.result["reset_seeds"] == [1000, 1001] and entry.result["num_envs"] == 2
    assert entry.result["user_cpu_seconds"] == 11.0 and entry.result["returns"] == scores["returns"]
    assert "seed(s) 1000, 1001" in entry.what and "CarRacing-v3" in entry.what


def test_a_refinement_entry_counts_every_generation_and_their_summed_time():
    history = [{"generation": 1, "mean": 100.0, "real_steps": 24_000, "total_real_steps": 24_000, "seconds": 200.0},
               {"generation": 2, "mean": 250.04, "real_steps": 23_500, "total_real_steps": 47_500, "seconds": 210.5}]
    entry = ledger.refinement_entry("from-scratch", history, "zeros shaped like c.npz",
                                    "python -m wmcourse evolve-real ...")
    assert (entry.setup, entry.stage, entry.real_steps, entry.exact, entry.wall_seconds) == (
        "from-scratch", "refinement", 47_500, True, 410.5)
    assert entry.result == {"generations": 2, "first_generation": 1, "last_population_mean": 250.0,
                            "start": "zeros shaped like c.npz"}
    with pytest.raises(LedgerError, match="not counted yet"):
        ledger.refinement_entry("from-scratch", [], "c.npz", "python -m wmcourse evolve-real ...")


def test_a_resumed_run_counts_only_the_generations_no_entry_counted(tmp_path):
    path = tmp_path / "ledger.json"
    history = [{"generation": g, "mean": 10.0 * g, "real_steps": 100 * g, "total_real_steps": 50 * g * (g + 1),
                "seconds": float(g)} for g in (1, 2, 3)]
    assert ledger.counted_generations(path, "refined", "c.npz", history) == 0  # no ledger yet
    first = ledger.refinement_entry("refined", history[:1], "c.npz", "evolve-real --generations 1")
    ledger.add(path, first)
    assert ledger.counted_generations(path, "refined", "c.npz", history) == 1
    assert ledger.counted_generations(path, "refined", "other.npz", history) == 0  # another run's start
    other = [{**h, "total_real_steps": h["total_real_steps"] + 1} for h in history]  # another run, same start
    with pytest.raises(LedgerError, match="does not continue"):
        ledger.counted_generations(path, "refined", "c.npz", other)
    rest = ledger.refinement_entry("refined", history, "c.npz", "evolve-real --generations 3", counted=1)
    assert (first.real_steps, rest.real_steps, rest.wall_seconds) == (100, 200 + 300, 5.0)
    assert first.real_steps + rest.real_steps == history[-1]["total_real_steps"]  # each generation counted once
    assert rest.result["first_generation"] == 2 and "generations 2 to 3" in rest.what
    ledger.add(path, rest)
    assert ledger.counted_generations(path, "refined", "c.npz", history) == 3
    with pytest.raises(LedgerError, match="does not continue"):  # shorter than what is counted
        ledger.counted_generations(path, "refined", "c.npz", history[:2])
    with pytest.raises(LedgerError, match="3 are counted"):
        ledger.refinement_entry("refined", history, "c.npz", "evolve-real", counted=3)


def test_restated_entries_count_the_same_steps_for_another_setup():
    entries = [_entry(), _entry(stage="selection", real_steps=500, command="select"),
               _entry(setup="refined", real_steps=7)]
    again = ledger.restated(entries, "dream-only", "from-scratch", ("data",))
    assert again == [replace(entries[0], setup="from-scratch")]
    assert ledger.steps_by_setup_and_stage([*entries, *again])["from-scratch"]["total"] == 1000
    assert ledger.steps_before_refinement(entries, "dream-only") == 1500
    chosen_after = _entry(stage="selection", real_steps=70, command="pick", result={"chosen_generation": 3})
    assert ledger.steps_before_refinement([*entries, chosen_after], "dream-only") == 1500  # it came after the run
    with pytest.raises(LedgerError, match="no data entries"):
        ledger.restated(entries, "nosuch", "from-scratch", ("data",))
    with pytest.raises(LedgerError, match="Unknown ledger stage"):
        ledger.restated(entries, "dream-only", "from-scratch", ("training",))


def test_a_ledger_that_numbered_its_setups_is_read_with_their_names(tmp_path):
    path = tmp_path / "old.json"
    old = {k: v for k, v in dataclasses.asdict(_entry()).items() if k != "setup"}
    path.write_text(json.dumps({"entries": [{**old, "row": 1}, {**old, "row": 3, "command": "c"}]}))
    assert [e.setup for e in ledger.load(path)] == ["dream-only", "from-scratch"]


def test_evolve_real_counts_its_refinement_steps_once(tiny_world_model, tmp_path, capsys):
    vae, mdnrnn, config = tiny_world_model
    start = controller.save_controller(tmp_path / "start.npz", np.zeros(config.n_params), config)
    path = tmp_path / "ledger.json"
    argv = ["evolve-real", "--controller", str(start), "--vae", str(vae), "--mdnrnn", str(mdnrnn), "--out",
            str(tmp_path / "c.npz"), "--generations", "2", "--population", "2", "--rollouts", "1", "--max-steps", "5",
            "--ledger", str(path), "--setup", "from-scratch"]
    assert main(argv) == 0
    (entry,) = ledger.load(path)
    assert (entry.setup, entry.stage, entry.real_steps, entry.exact) == ("from-scratch", "refinement", 2 * 2 * 5, True)
    assert entry.result["generations"] == 2 and entry.command == "python -m wmcourse " + " ".join(argv)
    assert main(argv) == 2  # the same command again would count its steps twice
    assert "already counts" in capsys.readouterr().err and len(ledger.load(path)) == 1
    longer = list(argv)
    longer[argv.index("--generations") + 1] = "3"  # the run resumed for one more generation
    assert main(longer) == 0
    first, resumed = ledger.load(path)
    assert resumed.real_steps == 2 * 1 * 5 and resumed.result["first_generation"] == 3  # generations 1-2 once


def test_a_refinement_curve_starts_after_the_setups_data_and_selection_and_ends_in_its_evaluation():
    refined = "refined"
    entries = [_entry(setup=refined, real_steps=1000),
               _entry(setup=refined, stage="selection", real_steps=300, command="select"),
               _entry(setup=refined, stage="refinement", real_steps=50, command="refine"),
               _entry(setup=refined, stage="evaluation", real_steps=9999, command="eval",
                      result={"mean": 80.0, "std": 5.0})]
    history = [{"mean": 10.0, "total_real_steps": 20}, {"mean": 30.0, "total_real_steps": 50}]
    curve = ledger.refinement_curve(entries, refined, [history], "dream, then real CMA-ES")
    assert curve.steps == [1320, 1350] and curve.scores == [10.0, 30.0]
    assert curve.held_out == (1350, 80.0, 5.0)  # the evaluation's own steps bought nothing: not on the x axis
    with pytest.raises(LedgerError, match="0 evaluation entries"):
        ledger.held_out_point(entries[:3], refined)
    rescored = _entry(setup=refined, stage="evaluation", real_steps=9000, command="eval again",
                      result={"mean": 90.0, "std": 4.0})
    assert ledger.held_out_point([*entries, rescored], refined) == (1350, 90.0, 4.0)  # the last look, same steps
    chosen = _entry(setup=refined, stage="selection", real_steps=400, command="pick",
                    result={"chosen_generation": 1, "generations": [{"generation": 0}, {"generation": 1}]})
    resumed = [{"generation": 1, "mean": 10.0, "total_real_steps": 20}, {"generation": 2, "mean": 30.0,
                                                                          "total_real_steps": 50}]
    curve = ledger.refinement_curve([*entries, chosen], refined, [resumed], "resumed after a choice")
    assert curve.steps == [1320, 1350 + 400]  # generation 2 came after the choice among generations 0 and 1
    # a second run from the kept controller: its own generations and choice, after all of the first run's steps
    later = [_entry(setup=refined, stage="refinement", real_steps=60, command="evolve-real --out b.npz"),
             _entry(setup=refined, stage="selection", real_steps=500, command="evolve-real --out b.npz",
                    result={"chosen_generation": 0, "generations": [{"generation": 0}, {"generation": 2}]})]
    second = [{"generation": 1, "mean": 40.0, "total_real_steps": 30}, {"generation": 2, "mean": 50.0,
                                                                         "total_real_steps": 60}]
    curve = ledger.refinement_curve([*entries, chosen, *later], refined, [resumed, second], "two runs")
    assert curve.steps == [1320, 1750, 1780, 1810] and curve.scores == [10.0, 30.0, 40.0, 50.0]  # its choice: after
    with pytest.raises(LedgerError, match="2 real CMA-ES runs in the ledger and 1 histories"):
        ledger.refinement_curve([*entries, chosen, *later], refined, [resumed], "one history for two runs")


def test_the_control_stands_on_the_dream_only_data_and_spends_the_refined_budget(shipped_ledger):
    counts = ledger.steps_by_setup_and_stage(shipped_ledger)
    scratch, dream_only, refined = counts[ledger.FROM_SCRATCH], counts[ledger.DREAM_ONLY], counts[ledger.REFINED]
    assert scratch["data"] == dream_only["data"] and scratch["selection"] == 0
    one_generation = 12 * 2 * 1000  # population 12 x 2 tracks x at most 1,000 steps
    assert abs(scratch["refinement"] - refined["refinement"]) < one_generation
    recorded = artefacts.load_manifest()[ledger.LEDGER_NAME]["figures"]
    assert all({k: recorded[setup][k] for k in c} == c for setup, c in counts.items())
    assert list(counts) == list(ledger.SETUPS)


def test_the_shipped_curves_end_where_the_ledger_says(shipped_ledger):
    counts = ledger.steps_by_setup_and_stage(shipped_ledger)
    for curve in shipped.carracing_step_curves():
        steps, mean, _ = curve.held_out
        assert steps == counts[curve.setup]["total"] - counts[curve.setup]["evaluation"]
        assert curve.steps == sorted(curve.steps) and curve.steps[-1] <= steps
    assert [c.setup for c in shipped.carracing_step_curves()] == list(ledger.SETUPS)


def test_a_shipped_controllers_own_held_out_look_is_found_by_its_hash(shipped_ledger):
    look = shipped.held_out_look(shipped.LONG_CONTROLLER)
    (entry,) = [e for e in shipped_ledger if shipped.LONG_CONTROLLER in e.command and e.stage == "evaluation"]
    assert look == entry.result and len(look["returns"]) == 100
    assert look["controller_sha256"] == artefacts.sha256(artefacts.require(shipped.LONG_CONTROLLER, ""))
    with pytest.raises(CourseError, match="no held-out evaluation of controller_carracing.npz"):
        shipped.held_out_look(shipped.CONTROLLER_NAME)  # round 0's controller: 20 episodes, never held out
