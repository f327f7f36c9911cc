"""One default for every path and setting: the CarRacing stage commands chain without flags (each reads what the
one before wrote, where experiments.carracing.paths says the pipeline writes it), take the pipeline's settings,
find a shipped controller's V and M in the catalogue, and refuse a V and an M that do not belong together."""

from __future__ import annotations

from pathlib import Path

import pytest

from wmcourse.cli import commands
from wmcourse.cli.main import build_parser, main
from wmcourse.experiments import carracing
from wmcourse.shipped import catalogue

ROOT = Path(__file__).resolve().parent.parent


def _defaults(*argv: str):
    return build_parser().parse_args(list(argv))


def test_the_stage_commands_chain_without_flags():
    run = {k: str(v) for k, v in carracing.paths(carracing.RUNS).items()}
    train_vae, encode, train_m = _defaults("train-vae"), _defaults("encode"), _defaults("train-mdnrnn")
    evolve, eval_agent, sweep = _defaults("evolve"), _defaults("eval-agent"), _defaults("tau-sweep")
    assert train_vae.rollouts == encode.rollouts == run["rollouts"] == f"runs/{carracing.ENV_ID}/rollouts"  # collect's
    assert train_vae.out == encode.vae == sweep.vae == run["vae"]
    assert encode.out == train_m.data == evolve.encoded == sweep.encoded == run["encoded"]
    assert train_m.out == evolve.mdnrnn == sweep.mdnrnn == run["mdnrnn"]
    assert evolve.out == eval_agent.controller == run["controller"]
    assert _defaults("pipeline", "carracing").runs == carracing.RUNS


def test_the_stage_commands_take_the_pipelines_settings():
    c = carracing.CarRacingConfig()
    m = _defaults("train-mdnrnn")
    assert (m.epochs, m.seq_len, m.batch_size, m.predict_reward, m.predict_done) == (
        c.mdnrnn_epochs, c.mdnrnn_seq_len, c.mdnrnn_batch, True, True)
    assert not _defaults("train-mdnrnn", "--no-predict-done").predict_done
    assert _defaults("train-mdnrnn", "--predict-done", "--predict-reward").predict_reward  # recorded commands still run
    from wmcourse.cli.arguments import config_from_args

    evolve = _defaults("evolve")
    assert (evolve.tau, evolve.max_steps) == (c.tau, c.dream_steps)
    assert config_from_args(c.search.settings(c.seed), evolve) == c.search.settings(c.seed)
    e = _defaults("eval-agent")
    assert (e.episodes, e.seed, e.num_envs) == (c.eval_episodes, c.eval_seed, c.num_envs)
    assert _defaults("train-vae").epochs == c.vae_epochs


@pytest.mark.parametrize("controller, vae, mdnrnn", [
    ("data/controller_carracing_refined.npz", "vae_carracing_z32.pt", "mdnrnn_carracing_round2.pt"),
    ("data/controller_carracing_round1.npz", "vae_carracing_z32.pt", "mdnrnn_carracing_round1.pt"),
    ("data/controller_carracing.npz", "vae_carracing_z32.pt", "mdnrnn_carracing.pt"),
    ("data/controller_takecover_tau1.15.npz", "vae_takecover_z64.pt", "mdnrnn_takecover.pt"),
])
def test_eval_agent_finds_a_shipped_controllers_v_and_m(controller, vae, mdnrnn, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    seen = {}
    monkeypatch.setattr(carracing, "eval_agent", lambda c, v, m, *a, **k: seen.update(v=v, m=m) or
                        {"mean": 0.0, "std": 0.0, "episodes": 1, "returns": [0.0], "real_steps": 1})
    assert main(["eval-agent", "--controller", controller, "--episodes", "1"]) == 0
    assert (Path(seen["v"]).name, Path(seen["m"]).name) == (vae, mdnrnn)
    assert catalogue.models_for(ROOT / controller) == (ROOT / "data" / vae, ROOT / "data" / mdnrnn)


def test_evolve_real_finds_a_shipped_controllers_v_and_m(monkeypatch):
    monkeypatch.chdir(ROOT)
    args = _defaults("evolve-real")
    assert args.controller == "data/controller_carracing_round2.npz" and args.vae is args.mdnrnn is None
    commands._models(args)
    assert (args.vae, args.mdnrnn) == ("data/vae_carracing_z32.pt", "data/mdnrnn_carracing_round2.pt")


def test_a_run_controller_finds_the_m_it_was_evolved_with(tmp_path, tiny_world_model):
    """A controller a run wrote records its M (and evolve-real's, its V): eval-agent reads them from it."""
    import numpy as np

    from wmcourse.worldmodels import controller

    vae, mdnrnn, config = tiny_world_model
    path = controller.save_controller(tmp_path / "c.npz", np.zeros(config.n_params), config, mdnrnn=str(mdnrnn),
                                      vae=str(vae))
    args = _defaults("eval-agent", "--controller", str(path))
    commands._models(args)
    assert (args.vae, args.mdnrnn) == (str(vae), str(mdnrnn))


def test_a_v_and_an_m_that_do_not_belong_together_are_named_in_one_sentence(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    status = main(["eval-agent", "--controller", "data/controller_carracing.npz", "--vae", "data/vae_takecover_z64.pt",
                   "--mdnrnn", "data/mdnrnn_carracing.pt"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "data/vae_takecover_z64.pt" in err and "data/mdnrnn_carracing.pt" in err
    assert "size 64" in err and "size 32" in err and "Expected features" not in err


def test_takecover_with_a_round_tau_outside_the_table_is_one_course_error(tmp_path, capsys):
    assert main(["takecover", "--out", str(tmp_path), "--rounds", "1", "--taus", "0.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The rounds start from the controller at round_tau = 1.15") and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # refused before anything ran
