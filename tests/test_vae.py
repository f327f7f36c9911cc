import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from wmcourse import checkpoint
from wmcourse.cli.main import main
from wmcourse.errors import CourseError, MissingArtefactError, ShapeError
from wmcourse.real import rollouts
from wmcourse.worldmodels import latents, probes, vae
from wmcourse.worldmodels import train_vae as vae_training

TINY = vae.VAEConfig(width=0.125, batch_size=8, lr=1e-3)  # 4..32 channels: trains in milliseconds
QUIET = dict(device="cpu", progress=False, threads=1)  # one thread: tiny models gain nothing from two


def synthetic_frames(n: int, seed: int = 0) -> np.ndarray:
    """Grass-green frames with a grey road stripe at a random column: structure a VAE can learn fast."""
    rng = np.random.default_rng(seed)
    frames = np.zeros((n, 64, 64, 3), np.uint8)
    frames[...] = (102, 204, 102)
    for frame, column in zip(frames, rng.integers(8, 48, n)):
        frame[:, column:column + 12] = (105, 105, 105)
    return frames


def write_rollouts(folder, shards: int, length: int) -> None:
    """A rollout folder of synthetic episodes (one per shard), the first one ended by the game, the rest cut."""
    for k in range(shards):
        frames = synthetic_frames(length, seed=k)
        last = np.eye(length, dtype=bool)[-1]
        episode = rollouts.Episode(frames, np.random.default_rng(k).uniform(-1, 1, (length, 3)).astype(np.float32),
                                   np.ones(length, np.float32), last, last & (k == 0), synthetic_frames(1, seed=9)[0])
        rollouts.save_shard(rollouts.shard_path(folder, k), [episode], {"episodes": 1})


def test_parameter_count_is_the_papers():
    assert checkpoint.count_parameters(vae.ConvVAE(vae.VAEConfig())) == 4_348_547
    assert checkpoint.count_parameters(vae.ConvVAE(vae.VAEConfig(width=0.5))) == 1_113_443


@pytest.mark.parametrize("z_size", [32, 64])
def test_shapes(z_size):
    model = vae.ConvVAE(vae.VAEConfig(z_size=z_size, width=0.25))
    x = torch.rand(3, 3, 64, 64)
    assert model.encoder(x).shape == (3, 4 * 64)  # 2x2 x (256 * width)
    x_hat, mu, logvar = model(x)
    assert x_hat.shape == x.shape and mu.shape == logvar.shape == (3, z_size)
    assert 0 <= x_hat.min() and x_hat.max() <= 1  # sigmoid output


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 32, generator=g) * 2, torch.randn(5, 32, generator=g)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0))
    torch.testing.assert_close(vae.kl_divergence(mu, logvar), expected)
    assert torch.all(vae.kl_divergence(torch.zeros(4), torch.zeros(4)) == 0)


def test_gradients_flow_through_reparameterize():
    mu = torch.randn(4, 8, requires_grad=True)
    logvar = torch.randn(4, 8, requires_grad=True)
    z = vae.reparameterize(mu, logvar, torch.Generator().manual_seed(1))
    z.sum().backward()
    eps = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))  # dz/dmu = 1
    torch.testing.assert_close(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps)  # dz/dlogvar = sigma eps / 2


def test_reparameterize_samples_the_right_gaussian():
    mu, logvar = torch.full((200_000,), 1.5), torch.full((200_000,), np.log(0.25))
    z = vae.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert abs(z.mean() - 1.5) < 0.01 and abs(z.std() - 0.5) < 0.01


def test_elbo_terms_and_free_bits():
    x, x_hat = torch.ones(2, 3, 64, 64), torch.full((2, 3, 64, 64), 0.5)
    mu, logvar = torch.zeros(2, 32), torch.zeros(2, 32)
    total, reconstruction, kl = vae.elbo_loss(x, x_hat, mu, logvar, beta=1.0, kl_tolerance=0.5)
    assert reconstruction.item() == pytest.approx(64 * 64 * 3 * 0.25)  # summed over pixels, mean over batch
    assert kl.item() == pytest.approx(0.5 * 32)  # KL 0 is floored at 0.5 nats a dimension
    mu = torch.full((2, 32), 2.0, requires_grad=True)  # KL 2 nats a dimension: above the floor
    total, reconstruction, kl = vae.elbo_loss(x, x_hat, mu, logvar, beta=4.0, kl_tolerance=0.5)
    assert kl.item() == pytest.approx(64.0)
    assert total.item() == pytest.approx(reconstruction.item() + 4.0 * 64.0)
    small = torch.full((2, 32), 0.1, requires_grad=True)  # below the floor: no pull on mu at all
    vae.elbo_loss(x, x_hat, small, logvar)[0].backward()
    assert torch.all(small.grad == 0)


def test_short_training_lowers_the_loss():
    frames = synthetic_frames(16)
    history = vae_training.train_vae(frames, TINY, steps=40, seed=0, **QUIET)
    assert len(history["loss"]) == 40 and history["step"][-1] == 40
    assert np.mean(history["loss"][-5:]) < 0.7 * np.mean(history["loss"][:5])


def test_save_load_round_trip(tmp_path):
    model = vae.build_vae(TINY, seed=3)
    frames = synthetic_frames(4)
    mu, _ = vae.encode_frames(model, frames)
    loaded = vae.load_vae(vae.save_vae(model, tmp_path / "vae.pt"))
    assert loaded.config == TINY
    np.testing.assert_array_equal(vae.encode_frames(loaded, frames)[0], mu)
    half = vae.load_vae(vae.save_vae(model, tmp_path / "half.pt", half=True))
    np.testing.assert_allclose(vae.encode_frames(half, frames)[0], mu, atol=1e-2)
    assert (tmp_path / "half.pt").stat().st_size < 0.7 * (tmp_path / "vae.pt").stat().st_size


def test_training_resumes_where_it_stopped(tmp_path):
    frames = synthetic_frames(20)  # 3 batches of 8 an epoch: the resume lands mid-epoch
    straight = vae_training.train_vae(frames, TINY, tmp_path / "a.pt", steps=5, seed=1, **QUIET)
    vae_training.train_vae(frames, TINY, tmp_path / "b.pt", steps=2, seed=1, **QUIET)
    resumed = vae_training.train_vae(frames, TINY, tmp_path / "b.pt", steps=5, seed=1, **QUIET)
    assert resumed == straight
    a, b = vae.load_vae(tmp_path / "a.pt"), vae.load_vae(tmp_path / "b.pt")
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(pa, pb, msg=name)


def test_resume_refuses_other_settings(tmp_path):
    vae_training.train_vae(synthetic_frames(8), TINY, tmp_path / "vae.pt", steps=1, **QUIET)
    other = vae.VAEConfig(width=0.125, batch_size=8, lr=1e-3, z_size=16)
    with pytest.raises(CourseError, match="z_size: 32 -> 16"):
        vae_training.train_vae(synthetic_frames(8), other, tmp_path / "vae.pt", steps=2, **QUIET)
    with pytest.raises(CourseError, match="same seed"):
        vae_training.train_vae(synthetic_frames(8), TINY, tmp_path / "vae.pt", steps=2, seed=7, **QUIET)


def test_trains_from_a_rollout_folder(tmp_path):
    write_rollouts(tmp_path, shards=3, length=7)
    history = vae_training.train_vae(tmp_path, TINY, epochs=2, **QUIET)
    assert len(history["loss"]) == 2 * 3  # 21 frames in batches of 8


def test_evaluate_reconstruction_is_mse_per_pixel():
    model = vae.build_vae(TINY)
    frames = synthetic_frames(5)
    expected = np.mean((vae.reconstruct(model, frames) / 255.0 - frames / 255.0) ** 2)
    assert probes.evaluate_reconstruction(model, frames) == pytest.approx(expected, rel=0.02)  # reconstruct() rounds


def test_build_vae_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = vae.build_vae(TINY, seed=5), vae.build_vae(TINY, seed=5)
    assert torch.rand(1) == before
    torch.testing.assert_close(a.fc_mu.weight, b.fc_mu.weight)


def test_wrong_shapes_get_clear_errors(tmp_path):
    model = vae.build_vae(TINY)
    with pytest.raises(ShapeError, match=r"frame\[None\]"):
        vae.encode_frames(model, synthetic_frames(1)[0])
    with pytest.raises(ShapeError, match="frames_to_tensor"):
        model.encode(torch.rand(2, 64, 64, 3))
    with pytest.raises(ShapeError, match=r"\(N, 32\)"):
        vae.decode_latents(model, np.zeros(32))
    with pytest.raises(ShapeError, match=r"\(N, 64, 64, 3\)"):
        vae_training.train_vae(np.zeros((4, 96, 96, 3), np.uint8), TINY, steps=1, **QUIET)
    with pytest.raises(MissingArtefactError, match="python -m wmcourse train-vae"):
        vae.load_vae(tmp_path / "missing.pt")


def test_decode_gives_displayable_frames():
    out = vae.decode_latents(vae.build_vae(TINY), np.zeros((2, 32), np.float32))
    assert out.shape == (2, 64, 64, 3) and out.dtype == np.uint8


def test_encoded_rollouts_are_what_m_trains_on(tmp_path):
    write_rollouts(tmp_path / "rollouts", shards=2, length=6)
    model = vae.build_vae(TINY)
    paths = latents.encode_rollouts(model, tmp_path / "rollouts", tmp_path / "encoded", progress=False)
    data = latents.load_encoded(tmp_path / "encoded")  # M's own reader checks the format
    assert len(data) == 2 and data.z_size == 32 and data.action_size == 3
    assert data.mu.shape == (2 * 7, 32)  # T + 1 observations an episode: the final one included
    assert data.dones.tolist() == [False] * 5 + [True] + [False] * 6  # only the first episode was ended by the game
    episode = rollouts.load_shard(rollouts.shard_path(tmp_path / "rollouts", 1))[0]
    np.testing.assert_allclose(data.episode(1)["mu"][:-1].numpy(), vae.encode_frames(model, episode.obs)[0], atol=1e-6)
    stamp = paths[0].stat().st_mtime_ns
    latents.encode_rollouts(model, tmp_path / "rollouts", tmp_path / "encoded", progress=False)
    assert paths[0].stat().st_mtime_ns == stamp  # already encoded: skipped


def test_command_line_trains_and_encodes(tmp_path, capsys):
    write_rollouts(tmp_path / "rollouts", shards=2, length=5)
    out = str(tmp_path / "vae.pt")
    common = ["--rollouts", str(tmp_path / "rollouts"), "--device", "cpu"]
    assert main(["train-vae", *common, "--out", out, "--width", "0.125", "--steps", "2", "--batch-size", "4"]) == 0
    assert "after 2 steps" in capsys.readouterr().out
    assert main(["encode", *common, "--vae", out, "--out", str(tmp_path / "encoded")]) == 0
    assert len(latents.load_encoded(tmp_path / "encoded")) == 2


def test_command_line_says_how_to_collect_missing_rollouts(tmp_path, capsys):
    assert main(["train-vae", "--rollouts", str(tmp_path / "none"), "--out", str(tmp_path / "vae.pt")]) == 2
    assert "python -m wmcourse collect" in capsys.readouterr().err
