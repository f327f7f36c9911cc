"""Widget callbacks are plain functions: test them directly, and drive the controls by setting .value."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from wmcourse.lessons import animate, controls, n01_vae  # noqa: E402
from wmcourse.worldmodels import vae


def tiny_vae(z_size: int, seed: int = 0) -> vae.ConvVAE:
    """A small randomly initialised VAE: no artefacts needed."""
    return vae.build_vae(vae.VAEConfig(z_size=z_size, width=0.125), seed=seed).eval()


@pytest.fixture
def frames():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)


def test_decode_code_and_traversal_frames():
    model = tiny_vae(4)
    z = np.zeros(4, np.float32)
    frame = controls.decode_code(model, z)
    assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8
    sweep = n01_vae.traversal_frames(model, z, dim=1, values=np.linspace(-3, 3, 5))
    assert sweep.shape == (5, 64, 64, 3)
    np.testing.assert_array_equal(sweep[2], frame)  # value 0 leaves the code as it was
    assert not np.array_equal(sweep[0], sweep[-1])


def test_moving_a_slider_changes_the_decoded_frame(frames):
    model = tiny_vae(8)
    kl = np.arange(8, dtype=np.float32)
    traversal = n01_vae.LatentTraversal(model, frames[0], kl=kl)
    assert len(traversal.sliders) == 8
    assert traversal.order[0] == 7  # most informative dimension first
    mu, _ = vae.encode_frames(model, frames[:1])
    np.testing.assert_allclose(traversal.code(), mu[0], atol=0.03)  # starts from the frame's own code
    before, png_before = traversal.decoded.copy(), traversal.image.value
    traversal.sliders[0].value = -4.0 if traversal.sliders[0].value > 0 else 4.0
    assert traversal.code()[7] == traversal.sliders[0].value
    assert not np.array_equal(traversal.decoded, before)
    assert traversal.image.value != png_before
    np.testing.assert_array_equal(traversal.decoded, controls.decode_code(model, traversal.code()))


def test_set_code_decodes_once(frames, monkeypatch):
    model = tiny_vae(6)
    traversal = n01_vae.LatentTraversal(model, frames[1])
    calls = []
    original = controls.decode_code
    monkeypatch.setattr(n01_vae, "decode_code", lambda m, z: calls.append(1) or original(m, z))
    traversal.set_code(np.full(6, 1.5))
    assert len(calls) == 1
    np.testing.assert_allclose(traversal.code(), 1.5)


def test_switching_latent_size_changes_the_model(frames):
    models = {z: tiny_vae(z, seed=z) for z in (4, 8, 16)}
    results = {z: {"mse_per_pixel": 0.01 * z, "kl_nats_per_frame": float(z), "frames": 100} for z in models}
    switch = n01_vae.LatentSizeSwitch(models, frames, results)
    assert switch.model is models[16]  # starts at the largest
    switch.buttons.value = 4
    assert switch.model is models[4]
    title = switch.figure.get_suptitle()
    assert "z = 4" in title and "0.0400" in title
    switch.buttons.value = 8
    assert switch.model is models[8] and "z = 8" in switch.figure.get_suptitle()
    plt.close("all")


def test_latent_size_figure_shows_originals_and_reconstructions(frames):
    fig = n01_vae.latent_size_figure(tiny_vae(4), frames)
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 2 * len(frames)
    np.testing.assert_array_equal(images[0], frames[0])
    plt.close(fig)


def test_png_bytes_scales_up():
    import imageio.v3 as iio

    image = iio.imread(animate.png_bytes(np.zeros((64, 64, 3), np.uint8), scale=3))
    assert image.shape == (192, 192, 3)
