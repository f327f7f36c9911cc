"""Loaders of the shipped VAE artefacts (data/), tested on a small stand-in data folder."""

import json

import numpy as np
import pytest

from wmcourse.errors import MissingArtefactError
from wmcourse.real import rollouts
from wmcourse.shipped import catalogue as shipped
from wmcourse.worldmodels import probes, vae


def results_table():
    entry = dict(frames=80, parameters=1, kl_nats_per_frame=1.0)
    return [
        {"vae": "runs/CarRacing-v3/ship/vae_carracing_z32.pt", "z_size": 32, "beta": 1.0,
         "mse_per_pixel": 0.01, **entry},
        *({"vae": f"runs/CarRacing-v3/ship/vae_carracing_small_z{z}.pt", "z_size": z, "beta": 1.0,
           "mse_per_pixel": 0.1 / z, **entry} for z in (16, 4, 32, 8)),
        *({"vae": f"runs/CarRacing-v3/vae_beta{b:g}.pt", "z_size": 32, "beta": b, "mse_per_pixel": 0.01 * b, **entry}
          for b in (4.0, 0.25, 16.0, 1.0)),
    ]


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("WMCOURSE_DATA", str(tmp_path))
    vae.save_vae(vae.build_vae(vae.VAEConfig(width=0.125)), tmp_path / "vae_carracing_z32.pt", half=True)
    vae.save_vae(vae.build_vae(vae.VAEConfig(z_size=4, width=0.125)), tmp_path / "vae_carracing_small_z4.pt", half=True)
    (tmp_path / "vae_results.json").write_text(json.dumps(results_table()))
    rng = np.random.default_rng(0)
    episodes = []
    for length in (80, 30):
        obs = rng.integers(0, 256, (length, 64, 64, 3), dtype=np.uint8)
        obs[:, 0, 0, 0] = np.arange(length)  # each frame remembers its step
        done = np.eye(length, dtype=bool)[-1]
        episodes.append(rollouts.Episode(obs, np.zeros((length, 3), np.float32), np.zeros(length, np.float32), done,
                                         np.zeros(length, bool), obs[-1]))
    rollouts.save_shard(tmp_path / "carracing_heldout" / "shard_00000.npz", episodes, {"episodes": 2})
    return tmp_path


def test_load_shipped_models_and_frames(data):
    assert shipped.load_shipped_vae().config.z_size == 32
    assert shipped.load_shipped_vae(z=4, small=True).config.z_size == 4
    assert shipped.load_heldout_frames().shape == (110, 64, 64, 3)
    assert len(shipped.load_heldout_frames(max_frames=50)) == 50


def test_missing_artefacts_name_the_command(data):
    with pytest.raises(MissingArtefactError, match="train_carracing_models.sh"):
        shipped.load_shipped_vae(z=8, small=True)
    (data / "vae_results.json").unlink()
    with pytest.raises(MissingArtefactError, match="train_carracing_models.sh"):
        shipped.load_vae_results()


def test_wrong_sizes_are_refused():
    with pytest.raises(ValueError, match="small=True"):
        shipped.shipped_vae_name(z=8)
    with pytest.raises(ValueError, match="4, 8, 16, 32"):
        shipped.shipped_vae_name(z=64, small=True)


def test_pick_heldout_frames_skips_the_zoom(data):
    frames = shipped.pick_heldout_frames(n=6, skip=60)
    assert frames.shape == (6, 64, 64, 3)
    steps = frames[:, 0, 0, 0]
    assert steps.min() >= 15  # first episode from step 60, the short one from its middle (15)
    assert len(shipped.pick_heldout_frames(n=4, seed=1)) == 4


def test_results_are_sorted_out(data):
    results = shipped.load_vae_results()
    assert [r["beta"] for r in shipped.beta_sweep_results(results)] == [0.25, 1.0, 4.0, 16.0]
    by_z = shipped.latent_size_results(results)
    assert list(by_z) == [4, 8, 16, 32] and by_z[8]["z_size"] == 8
    assert shipped.shipped_result(results)["mse_per_pixel"] == 0.01
    assert shipped.shipped_result(results, z=32, small=True)["vae"].endswith("small_z32.pt")


def test_kl_per_dimension_sums_to_mean_kl():
    model = vae.build_vae(vae.VAEConfig(z_size=8, width=0.125))
    frames = np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    per_dim = probes.kl_per_dimension(model, frames)
    assert per_dim.shape == (8,)
    assert np.isclose(per_dim.sum(), probes.mean_kl(model, frames), rtol=1e-5)
