"""The World Models recipe written once (experiments.recipe) and the one runner of every experiment
(experiments.runner): the recipe gives what the experiments' own sequences of calls gave, seed for seed; the
runner skips finished stages, times them, and refuses to resume with settings a finished stage used."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pytest
import torch

from wmcourse.errors import CourseError, SettingsError
from wmcourse.experiments import cartpole as ce
from wmcourse.experiments import recipe, runner
from wmcourse.real import evaluate
from wmcourse.worldmodels import cartpole as cp
from wmcourse.worldmodels import controller, dream, evolve
from wmcourse.worldmodels.mdnrnn import MDNRNN, MDNRNNConfig

# --- the recipe ----------------------------------------------------------------------------------------------


def _doom_like_m() -> MDNRNN:
    torch.manual_seed(0)
    model = MDNRNN(MDNRNNConfig(z_size=4, action_size=1, hidden=8, K=2, predict_done=True, predict_reward=False))
    with torch.no_grad():
        model.done_head.weight.normal_(0, 3.0)
        model.done_head.bias.fill_(-2.0)  # dreams of different lengths: the search has something to rank
    return model.eval()


def test_evolve_and_score_in_an_mdnrnn_dream_is_the_sequence_the_experiments_wrote(tmp_path):
    """What takecover._tau_row and tau_sweep.run_tau_sweep did by hand, call by call: controller_dream seeded by
    CMA-ES's seed, evolve_in_dream with a checkpoint beside the controller, the controller saved, then dream_score
    in fresh dreams from the dream seed. The recipe must give the same controller and the same dream returns."""
    m, starts = _doom_like_m(), torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    settings = evolve.EvolveConfig(population=6, rollouts=2, generations=3, seed=5)
    world, config = dream.controller_dream(m, starts, 1.15, 40, seed=settings.seed, squash="thirds", include_cell=True)
    old = evolve.evolve_in_dream(world, config, settings, checkpoint=tmp_path / "old.npz.es.pkl", progress=False)
    old_dreams = dream.dream_score(m, starts, old.best_params, config, 1.15, 16, 40, seed=6)

    model = recipe.MDNRNNModel("VizdoomTakeCover-v1", m, starts, squash="thirds", include_cell=True)
    scored = recipe.evolve_and_score(model, 1.15, 40, settings, recipe.Scoring(16, 6, 0, 0), save=tmp_path / "c.npz",
                                     progress=False, mdnrnn="m.pt")
    np.testing.assert_array_equal(scored.params, old.best_params.astype(np.float32))
    np.testing.assert_array_equal(scored.dreams, old_dreams)
    assert scored.real is None and scored.history == old.history and scored.config == config
    params, saved_config, details = controller.load_controller(tmp_path / "c.npz")
    np.testing.assert_array_equal(params, scored.params)
    assert saved_config == config and details["tau"] == 1.15 and details["mdnrnn"] == "m.pt"
    assert (tmp_path / "c.npz.es.pkl").exists()  # an interrupted search resumes from here
    again = recipe.evolve_and_score(model, 1.15, 40, settings, recipe.Scoring(16, 6, 0, 0), save=tmp_path / "c.npz",
                                    progress=False)
    np.testing.assert_array_equal(again.params, scored.params)  # resumed: nothing left to search, same C
    assert scored.row() == {"tau": 1.15, "dream_mean": float(old_dreams.mean()), "dream_std": float(old_dreams.std())}


@pytest.fixture(scope="module")
def cartpole_m():
    data = cp.collect_episodes(None, 600, seed=0)
    model, _ = cp.train_world_model(data, cp.WorldModelConfig(hidden=16, train_steps=5), seed=0)
    return model, data


def test_evolve_and_score_in_cartpole_is_the_sequence_the_experiment_wrote(cartpole_m):
    """What the CartPole experiment did by hand before the recipe: search in dreams of search_steps, score in
    fresh dreams of the task's cap seeded alike, then the real game on 10 copies."""
    model, data = cartpole_m
    settings = cp.ControllerSettings(features="state+memory", population=6, rollouts=2, generations=2, max_steps=30)
    seed, search_steps = 3, 60
    world, config = cp.controller_dream(model, data.first_states, replace(settings, max_steps=search_steps), seed)
    old = evolve.evolve_in_dream(world, config, cp.evolve_settings(settings, seed), progress=False)
    params = old.best_params.astype(np.float32)
    world, _ = cp.controller_dream(model, data.first_states, settings, seed)
    old_dreams = dream.controller_returns(world, params, config, 5)
    old_real = evaluate.evaluate(cp.ENV_ID, cp.WorldModelPolicy(model, params, settings.features), 4, seed=100_003,
                                 num_envs=10, progress=False)

    scored = ce.evolve_and_score(model, data.first_states, settings, recipe.Scoring(5, seed, 4, 100_003, 10), seed,
                                 search_steps)
    np.testing.assert_array_equal(scored.params, params)
    np.testing.assert_array_equal(scored.dreams, old_dreams)
    np.testing.assert_array_equal(scored.real.returns, old_real.returns)
    row = scored.row()
    assert row["real_episodes"] == 4 and row["real_returns"] == old_real.returns.round(1).tolist()


@dataclass
class _Task:
    calls: list = field(default_factory=list)

    def collect(self, round_):
        self.calls.append(("collect", round_))

    def encode(self, round_):
        self.calls.append(("encode", round_))

    def retrain(self, round_):
        self.calls.append(("retrain", round_))

    def evolve(self, round_):
        self.calls.append(("evolve", round_))
        return {"round": round_}


def test_one_round_collects_encodes_retrains_then_evolves():
    task = _Task()
    assert recipe.one_round(task, 2) == {"round": 2}
    assert task.calls == [("collect", 2), ("encode", 2), ("retrain", 2), ("evolve", 2)]
    assert [name for name, _ in recipe.round_steps(task, 1)] == ["collect", "encode", "train-mdnrnn", "controller"]


# --- configs: nested sections, flat names, overlays ------------------------------------------------------------

@dataclass(frozen=True)
class _Round:
    episodes: int = 3
    noise: float = 0.1


@dataclass(frozen=True)
class _Config:
    episodes: int = 10
    search: recipe.Search = runner.section(recipe.Search(population=8))
    round: _Round = runner.section(_Round(), "round_")
    seed: int = 0


def test_a_nested_config_has_one_flat_name_per_setting():
    c = _Config()
    assert list(runner.flat(c)) == ["episodes", "population", "rollouts", "generations", "sigma_init",
                                    "round_episodes", "round_noise", "seed"]
    changed = runner.override(c, {"round_episodes": 7, "population": 4})
    assert changed.round.episodes == 7 and changed.search.population == 4 and changed.episodes == 10
    assert runner.override(c, {"population": [1]}).search.population == (1,)  # JSON lists become tuples
    with pytest.raises(SettingsError, match="no setting 'round_tau'"):
        runner.override(c, {"round_tau": 1.0})
    assert runner.from_json(c, {"episodes": 5, "gone": 1}) == replace(c, episodes=5)  # a setting since removed
    assert runner.overlay(c, {"fast": {"episodes": 1}}, "fast").episodes == 1
    with pytest.raises(SettingsError, match="Unknown overlay 'slow'"):
        runner.overlay(c, {"fast": {}}, "slow")


def test_two_settings_with_one_flat_name_are_refused():
    @dataclass(frozen=True)
    class Clash:
        episodes: int = 1
        round: _Round = runner.section(_Round(), "")

    with pytest.raises(SettingsError, match="both named 'episodes'"):
        runner.setting_fields(Clash())


def test_every_experiment_config_keeps_its_flat_names():
    """The flat names are the command line's options and the keys run folders recorded before the nesting."""
    from wmcourse.experiments import carracing, takecover, tau_sweep

    assert {"generations", "sweep_taus", "sweep_generations", "round_noise", "round_eval_episodes",
            "round_generations"} <= set(runner.flat(carracing.CarRacingConfig()))
    assert {"population", "sigma_init", "round_tau", "round_episodes", "round_noise", "round_epochs"} <= set(
        runner.flat(takecover.TakeCoverConfig()))
    assert {"taus", "generations", "population", "rollouts", "real_episodes"} <= set(
        runner.flat(tau_sweep.TauSweepConfig()))
    for module, config in ((carracing, carracing.CarRacingConfig()), (takecover, takecover.TakeCoverConfig()),
                           (ce, ce.ExperimentConfig())):
        runner.overlay(config, module.OVERLAYS, "fast")  # every overlay names settings that exist


# --- the runner ------------------------------------------------------------------------------------------------

def _stages(log: list, uses=None) -> list[runner.Stage]:
    return [runner.Stage("first", lambda: log.append("first") or {"result": 1}, uses=("episodes",)),
            runner.Stage("second", lambda: log.append("second"), uses=("population",)),
            runner.Stage("third", lambda: log.append("third"), uses=uses)]


def test_the_runner_skips_finished_stages_and_times_each(tmp_path):
    path, log = tmp_path / "state.json", []
    state = runner.Run(path, _Config(), _Config()).run(_stages(log), stop_after="second")
    assert log == ["first", "second"] and list(state["stages"]) == ["first", "second"]
    saved = json.loads(path.read_text())
    assert saved["stages"]["first"]["result"] == 1 and saved["stages"]["first"]["seconds"] >= 0
    assert saved["config"] == runner.as_json(_Config())
    runner.Run(path, _Config(), _Config()).run(_stages(log))
    assert log == ["first", "second", "third"]  # the finished two skipped


def test_the_resume_check_refuses_a_setting_a_finished_stage_used(tmp_path):
    path, log = tmp_path / "state.json", []
    runner.Run(path, _Config(), _Config()).run(_stages(log), stop_after="first")
    with pytest.raises(CourseError, match=r"episodes: 10 -> 11"):
        runner.Run(path, replace(_Config(), episodes=11), _Config(), _stages(log))
    # population: only the unfinished second stage uses it, so it may still change
    more = runner.override(_Config(), {"population": 4})
    runner.Run(path, more, _Config(), _stages(log)).run(_stages(log))
    with pytest.raises(CourseError, match=r"population: 4 -> 5"):
        runner.Run(path, runner.override(more, {"population": 5}), _Config(), _stages(log))
    # a stage that uses every setting (uses=None) blocks every change, but for the free ones
    with pytest.raises(CourseError, match=r"round_noise"):
        runner.Run(path, runner.override(more, {"round_noise": 0.5}), _Config(), _stages(log))
    runner.Run(path, runner.override(more, {"round_noise": 0.5}), _Config(), _stages(log), free=("round_noise",))


def test_the_runner_reads_an_older_state(tmp_path):
    """A state written before the runner: stages as a list, settings it predates, and output that shows a stage
    finished without a record of it."""
    path, log = tmp_path / "state.json", []
    saved = {k: v for k, v in runner.as_json(_Config()).items() if k != "sigma_init"}
    path.write_text(json.dumps({"config": saved, "stages": [{"stage": "first", "seconds": 3.0, "result": 2}],
                                "rows": [1]}))
    stages = [*_stages(log)[:2], runner.Stage("third", lambda: log.append("third"),
                                               finished=lambda state: state.get("rows") == [1])]
    state = runner.Run(path, _Config(), _Config(), stages).run(stages)
    assert log == ["second"] and state["stages"]["first"] == {"done": True, "seconds": 3.0, "result": 2}
    assert state["rows"] == [1]


def test_stages_run_in_worker_processes_are_recorded_as_they_end(tmp_path):
    run = runner.Run(tmp_path / "state.json", _Config(), _Config())
    stages = [runner.Stage(f"power {n}", runner.call(math.pow, 2, n),
                           keep=lambda state, value: state.setdefault("values", []).append(value)) for n in (3, 4)]
    state = run.run_parallel(stages, workers=2, wall_key="wall_seconds")
    assert sorted(state["values"]) == [8.0, 16.0] and set(state["stages"]) == {"power 3", "power 4"}
    assert state["wall_seconds"] >= 0
    assert run.run_parallel(stages, workers=2, wall_key="wall_seconds")["values"] == state["values"]  # all done


def test_carracings_ensemble_search_saves_a_controller_that_names_its_members_and_keeps_its_means(tmp_path):
    from wmcourse.experiments import carracing
    from wmcourse.worldmodels import controller, latents, mdnrnn, real_es

    paths = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        m = mdnrnn.MDNRNN(mdnrnn.MDNRNNConfig(z_size=4, hidden=8, K=2, predict_reward=True, predict_done=True))
        paths.append(mdnrnn.save_mdnrnn(m, tmp_path / f"m{seed}.pt"))
    g, lengths = torch.Generator().manual_seed(0), torch.tensor([5, 6, 4])
    rows, steps = int((lengths + 1).sum()), int(lengths.sum())
    latents.save_encoded(tmp_path / "encoded" / "e.npz", latents.EncodedEpisodes(
        torch.randn(rows, 4, generator=g), torch.zeros(rows, 4), torch.rand(steps, 3, generator=g),
        torch.zeros(steps), torch.zeros(steps, dtype=torch.bool), lengths))
    settings = evolve.EvolveConfig(population=4, rollouts=2, generations=2, seed=3)
    out = tmp_path / "c.npz"
    means = tmp_path / "means"
    result = carracing.evolve_in_ensemble(paths, tmp_path / "encoded", out, 1.0, 10, settings, means_dir=means,
                                          round=3, ensemble=True)
    params, _, details = controller.load_controller(out)
    np.testing.assert_array_equal(params, result.best_params.astype(np.float32))
    assert details["mdnrnn"] == str(paths[0]) and details["members"] == [str(p) for p in paths]
    assert len(details["history"]) == 2 and details["ensemble"] is True
    kept = real_es.generation_means(means)  # the search mean after each generation, for choosing one later
    assert sorted(kept) == [1, 2] and not np.allclose(kept[1], kept[2])
    np.testing.assert_array_equal(kept[2], result.best_params)
    again = carracing.evolve_in_ensemble(paths, tmp_path / "encoded", out, 1.0, 10, settings)  # resumed: done
    np.testing.assert_array_equal(again.best_params, result.best_params)
    longer = carracing.evolve_in_ensemble(paths, tmp_path / "encoded", out, 1.0, 10,
                                          replace(settings, generations=3), means_dir=means)
    assert [h["generation"] for h in longer.history] == [1, 2, 3] and longer.history[:2] == result.history
    np.testing.assert_array_equal(real_es.generation_means(means)[3], longer.best_params)
