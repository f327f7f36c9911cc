import json

from wmcourse.cli.main import build_parser
from wmcourse.experiments import carracing as cr
from wmcourse.experiments import runner


def test_stages_in_order_and_the_command_line_takes_every_setting():
    assert cr.stage_names(cr.CarRacingConfig())[-2:] == ["round-1", "round-2"]
    assert cr.stage_names(cr.CarRacingConfig(rounds=0))[-1] == "tau-sweep"
    args = build_parser().parse_args(["pipeline", "carracing", "--generations", "5", "--sweep-taus", "1", "1.3",
                                      "--round-noise", "0.2"])
    from wmcourse.cli.arguments import config_from_args

    config = config_from_args(cr.CarRacingConfig(), args)
    assert config == runner.override(cr.CarRacingConfig(), {"generations": 5, "sweep_taus": (1.0, 1.3),
                                                            "round_noise": 0.2})
    assert (config.search.generations, config.sweep.taus, config.round.noise) == (5, (1.0, 1.3), 0.2)


def test_tiny_experiment_runs_end_to_end_and_resumes(tmp_path):
    # every stage, shrunk (the "fast" overlay): a few short episodes, one small V of each kind, two CMA-ES
    # generations, one round
    small = runner.overlay(cr.CarRacingConfig(), cr.OVERLAYS, "fast")
    report = cr.run(tmp_path, small)
    assert list(report["stages"]) == cr.stage_names(small)
    assert report["stages"]["eval-agent"]["result"]["episodes"] == 1
    assert len((tmp_path / "ship" / "vae_eval.jsonl").read_text().splitlines()) == 3  # z32, small z4, beta 1
    assert json.loads((tmp_path / "quick_round1.json").read_text())["round"] == 1
    assert json.loads((tmp_path / "controller_round1_eval.json").read_text())["episodes"] == 1
    assert report["stages"]["round-1"]["result"]["controller"] == str(tmp_path / "controller_round1.npz")
    assert "real score" in (tmp_path / "report.md").read_text()
    sweep = json.loads((tmp_path / "tau_sweep.json").read_text())
    assert [row["tau"] for row in sweep["rows"]] == [1.0] and len(sweep["random"]["real_returns"]) == 1
    again = cr.run(tmp_path, small)  # everything finished: nothing runs again
    assert again["stages"] == report["stages"]


def test_a_run_folder_of_the_old_layout_is_renamed_and_resumed(tmp_path):
    """A run written before rounds were called rounds (controller_iter1.npz, iteration_iter1.json, a report whose
    stages are a list) is read by the new code: files renamed, finished stages skipped, settings checked."""
    (tmp_path / "encoded_all_iter1").mkdir()
    (tmp_path / "encoded_all_iter1" / "encoded_iter1_shard_00000.npz").write_bytes(b"x")
    for name in ("controller_iter1.npz", "iteration_iter1.json", "mdnrnn_iter1.done", "controller_iter1.npz.es.pkl"):
        (tmp_path / name).write_text("x")
    config = cr.CarRacingConfig()
    saved = {k: v for k, v in runner.as_json(config).items() if k not in ("sigma_init", "round_sigma_init")}
    stages = [{"stage": name, "seconds": 1.0} for name in cr.stage_names(config)]
    (tmp_path / "report.json").write_text(json.dumps({"env": cr.ENV_ID, "config": saved, "stages": stages}))
    report = cr.run(tmp_path, config)  # every stage finished already: nothing runs
    assert list(report["stages"]) == cr.stage_names(config)
    assert sorted(p.name for p in tmp_path.iterdir() if "round" in p.name) == [
        "controller_round1.npz", "controller_round1.npz.es.pkl", "encoded_all_round1", "mdnrnn_round1.done",
        "quick_round1.json"]
    assert [p.name for p in (tmp_path / "encoded_all_round1").iterdir()] == ["encoded_round1_shard_00000.npz"]
    import pytest

    from wmcourse.errors import CourseError

    with pytest.raises(CourseError, match="episodes: 64 -> 65"):
        cr.run(tmp_path, runner.override(config, {"episodes": 65}))
