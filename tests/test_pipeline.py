import json

from wmcourse.cli.main import build_parser
from wmcourse.experiments import carracing as cr


def test_stages_in_order_and_the_command_line_takes_every_setting():
    assert cr.stage_names(cr.CarRacingConfig())[-2:] == ["round-1", "round-2"]
    assert cr.stage_names(cr.CarRacingConfig(rounds=0))[-1] == "tau-sweep"
    args = build_parser().parse_args(["pipeline", "carracing", "--generations", "5", "--sweep-taus", "1", "1.3"])
    from wmcourse.cli.arguments import config_from_args

    config = config_from_args(cr.CarRacingConfig(), args)
    assert config == cr.CarRacingConfig(generations=5, sweep_taus=(1.0, 1.3))


def test_tiny_experiment_runs_end_to_end_and_resumes(tmp_path):
    # every stage, shrunk: a few short episodes, one small V of each kind, two CMA-ES generations, one round
    small = cr.CarRacingConfig(episodes=2, episodes_per_shard=1, max_steps=30, heldout_episodes=1, vae_epochs=1,
                               small_zs=(4,), small_vae_epochs=1, betas=(1.0,), beta_vae_epochs=1, mdnrnn_epochs=1,
                               generations=2, population=4, rollouts=2, dream_steps=30, eval_episodes=1,
                               sweep_taus=(1.0,), sweep_generations=1, sweep_population=4, sweep_rollouts=2,
                               sweep_real_episodes=1, rounds=1, round_episodes=2, round_epochs=1,
                               round_generations=1, round_population=4, round_rollouts=2, round_eval_episodes=1)
    report = cr.run(tmp_path, small)
    assert [s["stage"] for s in report["stages"]] == cr.stage_names(small)
    assert report["stages"][cr.STAGES.index("eval-agent")]["result"]["episodes"] == 1
    assert len((tmp_path / "ship" / "vae_eval.jsonl").read_text().splitlines()) == 3  # z32, small z4, beta 1
    assert json.loads((tmp_path / "iteration_iter1.json").read_text())["round"] == 1
    assert json.loads((tmp_path / "controller_iter1_eval.json").read_text())["episodes"] == 1
    assert report["stages"][-1]["result"]["controller"] == str(tmp_path / "controller_iter1.npz")
    assert "real score" in (tmp_path / "report.md").read_text()
    sweep = json.loads((tmp_path / "tau_sweep.json").read_text())
    assert [row["tau"] for row in sweep["rows"]] == [1.0] and len(sweep["random"]["real_returns"]) == 1
    again = cr.run(tmp_path, small)  # everything finished: nothing runs again
    assert again["stages"] == report["stages"]
