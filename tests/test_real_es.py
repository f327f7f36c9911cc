"""CMA-ES in the real environment: episodes scored by their own seeds, every finished one kept, runs resumed."""

import dataclasses
import json
import pickle

import numpy as np
import pytest

from wmcourse.cli.main import main
from wmcourse.errors import CourseError
from wmcourse.real.backend import LocalBackend
from wmcourse.worldmodels import controller, real_es

TINY = real_es.RealESConfig(population=4, rollouts=2, sigma_init=1.0, generations=2, max_steps=20, seed=3)


class StopAfter:
    """A backend that is interrupted (as by Ctrl-C or a lost machine) after `n` episodes."""

    def __init__(self, n: int):
        self.n = n

    def map(self, function, items, cpus=1):
        for count, result in enumerate(LocalBackend().map(function, items)):
            if count == self.n:
                raise KeyboardInterrupt
            yield result


class Counting:
    """LocalBackend that counts the items it was given."""

    def __init__(self):
        self.items = []

    def map(self, function, items, cpus=1):
        self.items.append(len(items))
        yield from LocalBackend().map(function, items)


@pytest.fixture(scope="module")
def uninterrupted(tiny_world_model, tmp_path_factory):
    vae, mdnrnn, config = tiny_world_model
    start = np.zeros(config.n_params)
    return real_es.evolve_real(start, config, vae, mdnrnn, tmp_path_factory.mktemp("whole"), TINY, progress=False)


def _without_timing(history):
    return [{k: v for k, v in h.items() if k not in ("seconds", "real_steps_per_s")} for h in history]


def test_candidates_are_scored_on_the_same_tracks(tiny_world_model):
    vae, mdnrnn, config = tiny_world_model
    candidates = np.random.default_rng(0).standard_normal((3, config.n_params))
    seeds = real_es.track_seeds(0, 0, 2)
    assert seeds == real_es.track_seeds(0, 0, 2) != real_es.track_seeds(0, 1, 2)
    seen = []
    result = real_es.score_population(candidates, seeds, vae, mdnrnn, config, max_steps=20,
                                      finished={(0, 0): (123.0, 7)}, on_episode=lambda *row: seen.append(row))
    assert result.returns.shape == result.steps.shape == (3, 2)
    assert result.returns[0, 0] == 123.0 and result.steps[0, 0] == 7  # a finished episode is not played again
    assert sorted(row[:2] for row in seen) == [(0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert (result.steps[1:] == 20).all()
    again = real_es.play_episode(real_es.EpisodeWork(str(vae), str(mdnrnn), candidates[2].astype(np.float32), config,
                                                     seeds[1], 20))
    assert again == (result.returns[2, 1], 20)  # an episode is a function of its work item alone
    assert len(set(result.returns[1:].ravel().round(6))) > 1, "the candidates all scored alike: nothing was compared"


def test_wrong_candidates_are_refused(tiny_world_model):
    vae, mdnrnn, config = tiny_world_model
    with pytest.raises(CourseError, match=f"population, {config.n_params}"):
        real_es.score_population(np.zeros((2, 5)), [0], vae, mdnrnn, config)


def test_an_interrupted_run_resumes_mid_generation_and_loses_no_episode(tiny_world_model, uninterrupted, tmp_path):
    vae, mdnrnn, config = tiny_world_model
    start = np.zeros(config.n_params)
    with pytest.raises(KeyboardInterrupt):
        real_es.evolve_real(start, config, vae, mdnrnn, tmp_path, TINY, StopAfter(3), progress=False)
    scores = [json.loads(line) for line in (tmp_path / "gen_00000.scores.jsonl").read_text().splitlines()]
    assert len(scores) == 3
    counting = Counting()
    mean, history = real_es.evolve_real(start, config, vae, mdnrnn, tmp_path, TINY, counting, progress=False)
    assert counting.items == [TINY.population * TINY.rollouts - 3, TINY.population * TINY.rollouts]
    np.testing.assert_array_equal(mean, uninterrupted[0])
    assert _without_timing(history) == _without_timing(uninterrupted[1])
    assert history[-1]["total_real_steps"] == 2 * TINY.population * TINY.rollouts * TINY.max_steps
    # finished generations leave only their search means
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mean_00001.npy", "mean_00002.npy", "state.pkl"]


def test_a_run_with_other_settings_is_refused(tiny_world_model, tmp_path):
    vae, mdnrnn, config = tiny_world_model
    one = real_es.RealESConfig(population=2, rollouts=1, generations=0, max_steps=5)
    real_es.evolve_real(np.zeros(config.n_params), config, vae, mdnrnn, tmp_path, one, progress=False)
    with pytest.raises(CourseError, match="population"):
        real_es.evolve_real(np.zeros(config.n_params), config, vae, mdnrnn, tmp_path,
                            real_es.RealESConfig(population=3, rollouts=1, generations=0), progress=False)


def test_evolve_real_command_writes_the_controller_and_every_real_step(tiny_world_model, tmp_path, capsys):
    vae, mdnrnn, config = tiny_world_model
    start = controller.save_controller(tmp_path / "start.npz", np.zeros(config.n_params), config)
    out = tmp_path / "refined.npz"
    assert main(["evolve-real", "--controller", str(start), "--vae", str(vae), "--mdnrnn", str(mdnrnn), "--out",
                 str(out), "--generations", "1", "--population", "2", "--rollouts", "2", "--max-steps", "10"]) == 0
    results = json.loads(out.with_suffix(".json").read_text())
    assert results["total_real_steps"] == results["history"][0]["real_steps"] == 2 * 2 * 10
    params, loaded, details = controller.load_controller(out)
    assert loaded == config and params.shape == (config.n_params,) and details["history"] == results["history"]
    printed = capsys.readouterr().out
    assert "40 real steps in" in printed and "real steps per CPU-second (local backend, 1 worker(s))" in printed


def test_from_scratch_takes_only_the_controllers_shape(tiny_world_model, tmp_path):
    vae, mdnrnn, config = tiny_world_model
    start = controller.save_controller(tmp_path / "start.npz", np.ones(config.n_params), config)
    out = tmp_path / "control.npz"
    assert main(["evolve-real", "--controller", str(start), "--from-scratch", "--vae", str(vae),
                 "--mdnrnn", str(mdnrnn), "--out", str(out), "--generations", "1", "--population", "2",
                 "--rollouts", "1", "--max-steps", "5"]) == 0
    state = pickle.loads((tmp_path / "control.real_es" / "state.pkl").read_bytes())
    assert state["identity"]["start"] == [0.0] * config.n_params  # the search began at zeros, not at the ones
    assert json.loads(out.with_suffix(".json").read_text())["start"] == f"zeros shaped like {start}"


def test_select_keeps_the_validation_winner_and_the_ledger_counts_its_steps(tiny_world_model, tmp_path, capsys):
    from wmcourse.shipped import ledger

    vae, mdnrnn, config = tiny_world_model
    start = controller.save_controller(tmp_path / "start.npz", np.ones(config.n_params), config)
    out, book = tmp_path / "kept.npz", tmp_path / "ledger.json"
    command = ["evolve-real", "--controller", str(start), "--vae", str(vae), "--mdnrnn", str(mdnrnn), "--out",
               str(out), "--generations", "1", "--population", "2", "--rollouts", "1", "--max-steps", "5",
               "--select", "2", "--ledger", str(book), "--setup", "refined"]
    assert main(command) == 0
    params, _, details = controller.load_controller(out)
    chosen = details["selection"]["chosen"]
    assert [row["generation"] for row in details["selection"]["generations"]] == [0, 1]
    kept = np.ones(config.n_params) if chosen == 0 else real_es.generation_means(tmp_path / "kept.real_es")[1]
    np.testing.assert_allclose(params, kept, atol=1e-6)
    assert "<- kept" in capsys.readouterr().out
    entries = {e.stage: e for e in ledger.load(book)}
    assert entries["selection"].real_steps == details["selection"]["real_steps"] == 2 * 2 * 5
    assert entries["refinement"].real_steps == 2 * 1 * 5
    assert main(command) == 2  # counted already: refused before any episode is played
    # going on to generation 2 and choosing again on the tracks that already chose is refused before it plays
    longer = [*command, "--select-since", "1"]
    longer[longer.index("--generations") + 1] = "2"
    assert main(longer) == 2
    assert "fresh tracks" in capsys.readouterr().err
    assert len(ledger.load(book)) == 2 and len(real_es.generation_means(tmp_path / "kept.real_es")) == 1


def test_every_generations_search_mean_is_kept(uninterrupted, tiny_world_model, tmp_path):
    vae, mdnrnn, config = tiny_world_model
    mean, history = real_es.evolve_real(np.zeros(config.n_params), config, vae, mdnrnn, tmp_path, TINY,
                                        progress=False)
    means = real_es.generation_means(tmp_path)
    assert sorted(means) == [1, 2] == [h["generation"] for h in history]
    np.testing.assert_allclose(means[2], mean)
    assert not np.allclose(means[1], means[2])  # the search moved between generations


def test_select_generation_keeps_the_best_mean_on_validation_tracks_and_resumes(tiny_world_model, tmp_path):
    """The start and each kept search mean drive the same validation tracks, apart from the search's; the best mean
    return is kept; an interrupted choice plays only what is missing; the ledger counts its steps as selection."""
    from wmcourse.shipped import ledger

    vae, mdnrnn, config = tiny_world_model
    real_es.evolve_real(np.zeros(config.n_params), config, vae, mdnrnn, tmp_path, TINY, progress=False)
    with pytest.raises(KeyboardInterrupt):
        real_es.select_generation(tmp_path, config, tracks=2, backend=StopAfter(3), max_steps=20)
    counting = Counting()
    chosen = real_es.select_generation(tmp_path, config, tracks=2, backend=counting, max_steps=20)
    assert counting.items == [3 * 2 - 3]  # the start and two means on two tracks, three already played
    assert [row["generation"] for row in chosen["generations"]] == [0, 1, 2]
    means = [row["mean"] for row in chosen["generations"]]
    assert chosen["chosen"] == int(np.argmax(means))
    kept = {0: np.zeros(config.n_params), **real_es.generation_means(tmp_path)}[chosen["chosen"]]
    np.testing.assert_allclose(chosen["params"], kept, atol=1e-6)
    assert chosen["seeds"] == [real_es.VALIDATION_SEED, real_es.VALIDATION_SEED + 1]
    search = {s for g in range(TINY.generations) for s in real_es.track_seeds(TINY.seed, g, TINY.rollouts)}
    assert not search & set(chosen["seeds"])
    # the same choice again plays nothing: every score comes from the log
    again = real_es.select_generation(tmp_path, config, tracks=2, backend=Counting(), max_steps=20)
    assert again["generations"] == chosen["generations"] and again["real_steps"] == chosen["real_steps"]
    replay = real_es.score_population(chosen["params"][None], chosen["seeds"], vae, mdnrnn, config, max_steps=20)
    assert chosen["generations"][chosen["chosen"]]["mean"] == pytest.approx(replay.scores[0])
    entry = ledger.selection_entry(ledger.REFINED, chosen, "runs/x.real_es", "python -m wmcourse ...")
    assert entry.stage == "selection" and entry.real_steps == chosen["real_steps"] > 0
    assert entry.result["reset_seeds"] == chosen["seeds"]  # the tracks it drove, which no evaluation may reuse
    with pytest.raises(CourseError, match="parameters"):
        real_es.select_generation(tmp_path, controller.ControllerConfig(input_size=3, action_size=3), tracks=2)
    with pytest.raises(CourseError, match="no real CMA-ES run"):
        real_es.select_generation(tmp_path / "nothing", config)


def test_select_every_kth_generation_validates_the_start_those_means_and_the_last(tiny_world_model, tmp_path):
    vae, mdnrnn, config = tiny_world_model
    settings = dataclasses.replace(TINY, generations=3)
    real_es.evolve_real(np.zeros(config.n_params), config, vae, mdnrnn, tmp_path, settings, progress=False)
    counting = Counting()
    chosen = real_es.select_generation(tmp_path, config, tracks=2, backend=counting, max_steps=20, every=2)
    assert [row["generation"] for row in chosen["generations"]] == [0, 2, 3]  # generation 1 is skipped
    assert counting.items == [3 * 2]
    everything = real_es.select_generation(tmp_path, config, tracks=2, backend=Counting(), max_steps=20)
    assert [row["generation"] for row in everything["generations"]] == [0, 1, 2, 3]
    same = {row["generation"]: row["mean"] for row in everything["generations"]}
    assert all(same[row["generation"]] == row["mean"] for row in chosen["generations"])  # reused from the log
    with pytest.raises(CourseError, match="at least 1"):
        real_es.select_generation(tmp_path, config, tracks=2, every=0)
    later = real_es.select_generation(tmp_path, config, tracks=2, backend=Counting(), max_steps=20, every=2, since=1)
    assert [row["generation"] for row in later["generations"]] == [0, 1, 3]
    fresh = Counting()
    other = real_es.select_generation(tmp_path, config, tracks=2, backend=fresh, max_steps=20, every=2,
                                      validation_seed=real_es.VALIDATION_SEED + 100)
    assert other["seeds"] == [real_es.VALIDATION_SEED + 100, real_es.VALIDATION_SEED + 101]
    assert fresh.items == [3 * 2]  # other tracks: nothing reused from the log
    timed = [json.loads(line) for line in (tmp_path / real_es.VALIDATION_NAME).read_text().splitlines()]
    assert {row["seed"] for row in timed if "generation" not in row} == {real_es.VALIDATION_SEED,
                                                                          real_es.VALIDATION_SEED + 100}
    replay = real_es.score_population(other["params"][None], other["seeds"], vae, mdnrnn, config, max_steps=20)
    assert other["generations"][[0, 2, 3].index(other["chosen"])]["mean"] == pytest.approx(replay.scores[0])
    with pytest.raises(CourseError, match="0 or more"):
        real_es.select_generation(tmp_path, config, tracks=2, since=-1)


def test_choosing_among_a_dream_searchs_means_keeps_the_best_on_validation_tracks(tiny_world_model, tmp_path):
    """The same choice for any {generation: params}, such as a dream search's means from generation 20 on: each drives
    the same validation tracks, the best mean return is kept, and its score replays."""
    vae, mdnrnn, config = tiny_world_model
    rng = np.random.default_rng(0)
    candidates = {20: rng.normal(0, 1, config.n_params), 40: np.zeros(config.n_params),
                  60: rng.normal(0, 1, config.n_params)}
    counting = Counting()
    chosen = real_es.choose_on_validation_tracks(candidates, vae, mdnrnn, config, tmp_path / "v.jsonl", tracks=2,
                                                 backend=counting, max_steps=20, validation_seed=6_200_000)
    assert counting.items == [3 * 2] and chosen["seeds"] == [6_200_000, 6_200_001]
    means = {row["generation"]: row["mean"] for row in chosen["generations"]}
    assert sorted(means) == [20, 40, 60] and means[chosen["chosen"]] == max(means.values())
    np.testing.assert_allclose(chosen["params"], candidates[chosen["chosen"]], atol=1e-6)
    replay = real_es.score_population(chosen["params"][None], chosen["seeds"], vae, mdnrnn, config, max_steps=20)
    assert means[chosen["chosen"]] == pytest.approx(replay.scores[0])
    with pytest.raises(CourseError, match="no candidate"):
        real_es.choose_on_validation_tracks({}, vae, mdnrnn, config, tmp_path / "v.jsonl")
    with pytest.raises(CourseError, match="at least 1 validation track"):
        real_es.choose_on_validation_tracks(candidates, vae, mdnrnn, config, tmp_path / "v.jsonl", tracks=0)
