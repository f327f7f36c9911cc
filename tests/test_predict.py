"""M's k-step-ahead predictions (notebook 02), the shipped-model loaders and the helpers of notebooks 02-03,
on small randomly initialised models: nothing here needs the shipped artefacts."""

import json
import math

import numpy as np
import pytest
import torch

from wmcourse import artefacts, checkpoint, paper
from wmcourse.errors import CorruptArtefactError, MissingArtefactError, ShapeError
from wmcourse.experiments import tau_sweep
from wmcourse.lessons import n02_mdn
from wmcourse.shipped import catalogue as shipped
from wmcourse.worldmodels import latents, mdnrnn, probes, vae
from wmcourse.worldmodels.mdnrnn import MDNRNN, MDNRNNConfig

SMALL = MDNRNNConfig(z_size=4, action_size=3, hidden=16, K=3, predict_reward=True, predict_done=True)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return MDNRNN(SMALL).eval()


@pytest.fixture(scope="module")
def episode():
    g = torch.Generator().manual_seed(1)
    return torch.randn(31, 4, generator=g), torch.rand(30, 3, generator=g) * 2 - 1


def test_predict_ahead_shapes_and_modes(model, episode):
    z, a = episode
    for mode in probes.PREDICTION_MODES:
        out = probes.predict_ahead(model, z, a, start=5, horizon=7, mode=mode, samples=3,
                                   generator=torch.Generator().manual_seed(0))
        assert out.shape == (3, 7, 4)
    likeliest = probes.predict_ahead(model, z, a, start=5, horizon=7, mode="likeliest", samples=2)
    assert torch.equal(likeliest[0], likeliest[1])  # deterministic


def test_first_prediction_reads_the_real_past(model, episode):
    """Step t+1 is M's prediction after reading the real z_0..z_t and a_0..a_t, as the sequence pass gives it."""
    z, a = episode
    out, _ = model(z[None, :-1], a[None])
    t = 9
    expected = (out.log_pi[0, t].exp() * out.mu[0, t]).sum(-1)
    got = probes.predict_ahead(model, z, a, start=t, horizon=1, mode="average")[0, 0]
    assert torch.allclose(got, expected, atol=1e-5)


def test_open_loop_feeds_back_its_own_guess(model, episode):
    """Step t+2 depends on M's guess for t+1 and the real a_{t+1}, never on the real z_{t+1}."""
    z, a = episode
    z_changed = z.clone()
    z_changed[11:] += 5.0  # the future after step t = 10
    one = probes.predict_ahead(model, z, a, start=10, horizon=4, mode="likeliest")
    two = probes.predict_ahead(model, z_changed, a, start=10, horizon=4, mode="likeliest")
    assert torch.equal(one, two)
    a_changed = a.clone()
    a_changed[11] = -a_changed[11]
    three = probes.predict_ahead(model, z, a_changed, start=10, horizon=4, mode="likeliest")
    assert torch.equal(one[:, 0], three[:, 0]) and not torch.equal(one[:, 1], three[:, 1])


def test_samples_repeat_with_a_seeded_generator(model, episode):
    z, a = episode
    run = lambda seed: probes.predict_ahead(model, z, a, 3, 6, samples=2,  # noqa: E731
                                            generator=torch.Generator().manual_seed(seed))
    assert torch.equal(run(4), run(4))
    assert not torch.equal(run(4), run(5))


def test_predict_ahead_checks_its_input(model, episode):
    z, a = episode
    with pytest.raises(ValueError, match="start \\+ horizon"):
        probes.predict_ahead(model, z, a, start=25, horizon=10)
    with pytest.raises(ShapeError, match="T \\+ 1"):
        probes.predict_ahead(model, z[:-1], a, start=0, horizon=2)
    with pytest.raises(ValueError, match="Unknown prediction mode"):
        probes.predict_ahead(model, z, a, start=0, horizon=2, mode="best")


def test_teacher_forced_states_match_the_sequence_pass(model, episode):
    z, a = episode
    h, c = probes.teacher_forced_states(model, z, a)
    assert h.shape == c.shape == (30, 16)
    _, (h_last, c_last) = model(z[None, :-1], a[None])
    assert torch.allclose(h[-1], h_last[0], atol=1e-6) and torch.allclose(c[-1], c_last[0], atol=1e-6)


def test_horizon_errors_match_predict_ahead(model, episode):
    z, a = episode
    errors = probes.horizon_errors(model, z, a, horizon=5, starts=[3, 12], mode="likeliest")
    assert errors["steps_ahead"].tolist() == [1, 2, 3, 4, 5]
    by_hand = np.mean([((probes.predict_ahead(model, z, a, s, 5, mode="likeliest")[0] - z[s + 1:s + 6]) ** 2)
                       .mean(dim=1).numpy() for s in (3, 12)], axis=0)
    assert np.allclose(errors["model"], by_hand, atol=1e-5)
    copy = np.mean([((z[s] - z[s + 1:s + 6]) ** 2).mean(dim=1).numpy() for s in (3, 12)], axis=0)
    assert np.allclose(errors["copy_last"], copy, atol=1e-6)
    everywhere = probes.horizon_errors(model, z, a, horizon=5, mode="sample", samples=2)
    assert all(len(v) == 5 for v in everywhere.values())


def test_parameter_breakdown_adds_up(model):
    parts = mdnrnn.parameter_breakdown(model)
    assert sum(parts.values()) == checkpoint.count_parameters(model)
    paper_model = MDNRNN(MDNRNNConfig())
    assert sum(mdnrnn.parameter_breakdown(paper_model).values()) == 423_392
    assert 423_392 - 4 * 256 == paper.MDNRNN_PARAMETERS_CARRACING


def test_marginal_baseline_on_gaussian_latents():
    """Latents that are N(0, 1) noise with no dynamics: the baseline's NLL is the entropy of N(0, 1)."""
    g = torch.Generator().manual_seed(0)
    T = 4000
    data = latents.EncodedEpisodes(mu=torch.randn(T + 1, 3, generator=g), logvar=torch.full((T + 1, 3), -20.0),
                                   actions=torch.zeros(T, 1), rewards=torch.zeros(T),
                                   dones=torch.zeros(T, dtype=torch.bool), lengths=torch.tensor([T]))
    assert math.isclose(probes.marginal_gaussian_nll(data), 0.5 * math.log(2 * math.pi * math.e), abs_tol=0.03)
    # two independent N(0, 1) draws differ by N(0, 2): a mean squared step of 2
    assert math.isclose(probes.sampled_step_size(data.mu, data.logvar), 2.0, rel_tol=0.05)


def test_dream_spread_grows_with_tau(model, episode):
    z, a = episode
    spread = probes.dream_spread(model, z[0], a[:20], taus=[0.1, 1.0, 2.0], dreams=8, seed=0)
    assert spread["step"][0] < spread["step"][1] < spread["step"][2]
    assert spread["spread"][0] < spread["spread"][2]
    again = probes.dream_spread(model, z[0], a[:20], taus=[0.1, 1.0, 2.0], dreams=8, seed=0)
    assert np.array_equal(spread["step"], again["step"])


def test_shipped_loaders_name_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("WMCOURSE_DATA", str(tmp_path))
    for load in (shipped.load_shipped_mdnrnn, shipped.load_shipped_heldout_encoded, shipped.load_heldout_episode,
                 shipped.shipped_training_record):
        with pytest.raises(MissingArtefactError, match="train_carracing_models.sh"):
            load()


def test_shipped_loaders_read_the_data_layout(tmp_path, monkeypatch, model):
    from wmcourse.real import rollouts

    monkeypatch.setenv("WMCOURSE_DATA", str(tmp_path))
    history = [{"epoch": 1, "z_nll": 1.0, "held_out_z_nll": 1.1}]
    mdnrnn.save_mdnrnn(model, tmp_path / shipped.MDNRNN_NAME, history=history)
    loaded = shipped.load_shipped_mdnrnn()
    assert checkpoint.count_parameters(loaded) == checkpoint.count_parameters(model)
    record = shipped.shipped_training_record()
    assert record["history"] == history and record["manifest"] == {} and record["config"]["hidden"] == 16
    latents.save_encoded(tmp_path / shipped.HELDOUT_ENCODED, latents.synthetic_episodes(2, z_size=4, action_size=3))
    assert len(shipped.load_shipped_heldout_encoded()) == 2
    frames = np.zeros((5, 64, 64, 3), np.uint8)
    episode = rollouts.Episode(frames, np.zeros((5, 3), np.float32), np.zeros(5, np.float32), np.eye(5, dtype=bool)[-1],
                               np.zeros(5, bool), frames[0])
    rollouts.save_shard(tmp_path / shipped.HELDOUT / "shard_00000.npz", [episode, episode], meta={})
    assert len(shipped.load_heldout_episode(1)) == 5
    with pytest.raises(ValueError, match="out of range"):
        shipped.load_heldout_episode(2)


def test_prediction_rows_and_explorer(model, episode):
    z, a = episode
    small_vae = vae.build_vae(vae.VAEConfig(z_size=4, width=0.125), seed=0).eval()
    frames = np.random.default_rng(0).integers(0, 255, (31, 64, 64, 3), dtype=np.uint8)
    rows = n02_mdn.prediction_rows(model, small_vae, z, a, frames, start=4, horizon=5, samples=2, seed=0)
    assert list(rows) == ["real", "V's reconstruction", "M: likeliest", "M: sample 1", "M: sample 2"]
    assert all(r.shape == (5, 64, 64, 3) and r.dtype == np.uint8 for r in rows.values())
    assert np.array_equal(rows["real"], frames[5:10])
    again = n02_mdn.prediction_rows(model, small_vae, z, a, frames, start=4, horizon=5, samples=2, seed=0)
    assert all(np.array_equal(rows[k], again[k]) for k in rows)
    explorer = n02_mdn.PredictionExplorer(model, small_vae, z, a, frames, start=4, horizon=5)
    first = explorer.figure
    explorer.slider.value = 10
    assert explorer.figure is not first and "step t = 10" in explorer.figure.get_suptitle()


def test_tau_sweep_loader(tmp_path):
    assert tau_sweep.load_tau_sweep(tmp_path) is None
    rows = paper.tau_rows()
    (tmp_path / tau_sweep.TAU_SWEEP_NAME).write_text(json.dumps({"env": "CarRacing-v3", "rows": rows[::-1]}))
    sweep = tau_sweep.load_tau_sweep(tmp_path)
    assert [r["tau"] for r in sweep["rows"]] == sorted(paper.VIZDOOM_TAU_TABLE)
    (tmp_path / tau_sweep.TAU_SWEEP_NAME).write_text(json.dumps({"rows": [{"tau": 1.0}]}))
    with pytest.raises(ShapeError, match="tau-sweep"):
        tau_sweep.load_tau_sweep(tmp_path)
    (tmp_path / tau_sweep.TAU_SWEEP_NAME).write_text(json.dumps({"env": "CarRacing-v3", "rows": rows}))
    artefacts.record(tmp_path / tau_sweep.TAU_SWEEP_NAME, tau_sweep.TAU_SWEEP_COMMAND, 0, {}, folder=tmp_path)
    assert len(tau_sweep.load_tau_sweep(tmp_path)["rows"]) == len(rows)
    (tmp_path / tau_sweep.TAU_SWEEP_NAME).write_text(json.dumps({"env": "CarRacing-v3", "rows": rows[:1]}))
    with pytest.raises(CorruptArtefactError, match="tau-sweep"):  # altered after the manifest recorded it
        tau_sweep.load_tau_sweep(tmp_path)


def test_tau_sweep_random_band():
    assert tau_sweep.random_band({"rows": []}) is None
    assert tau_sweep.random_band({"random": {"real_mean": -81.234, "real_std": 5.06}}) == (-81.2, 5.1)


def test_mixture_nll_checker_reports_a_function_without_return():
    def not_done(log_pi, mu, log_sigma, target):
        ...
    assert "returns None" in n02_mdn.mixture_nll.problem(not_done)
