"""Notebook 03's temperature slider and pictures, on small randomly initialised models (no artefacts needed):
moving tau changes the decoded dream, a fixed seed repeats it."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from wmcourse import paper  # noqa: E402
from wmcourse.errors import ShapeError  # noqa: E402
from wmcourse.lessons import controls, n03_temperature, plots
from wmcourse.worldmodels import mdn, vae
from wmcourse.worldmodels.mdnrnn import MDNRNN, MDNRNNConfig  # noqa: E402


@pytest.fixture(scope="module")
def world():
    torch.manual_seed(0)
    model = MDNRNN(MDNRNNConfig(z_size=4, action_size=3, hidden=16, K=3)).eval()
    small_vae = vae.build_vae(vae.VAEConfig(z_size=4, width=0.125), seed=0).eval()
    g = torch.Generator().manual_seed(2)
    z0, actions = torch.randn(4, generator=g), torch.rand(30, 3, generator=g) * 2 - 1
    real = np.random.default_rng(0).integers(0, 255, (31, 64, 64, 3), dtype=np.uint8)
    return model, small_vae, z0, actions, real


def test_dream_frames_shape_and_seed(world):
    model, small_vae, z0, actions, _ = world
    frames = n03_temperature.dream_frames(model, small_vae, z0, actions, tau=1.0, seed=3, every=4, frames=6)
    assert frames.shape == (6, 64, 64, 3) and frames.dtype == np.uint8
    assert np.array_equal(frames, n03_temperature.dream_frames(model, small_vae, z0, actions, tau=1.0, seed=3,
                                                               every=4, frames=6))
    assert not np.array_equal(frames, n03_temperature.dream_frames(model, small_vae, z0, actions, 1.0, seed=4,
                                                                   every=4, frames=6))
    # the first frame is the decoded start code, whatever the temperature
    hot = n03_temperature.dream_frames(model, small_vae, z0, actions, tau=2.0, seed=3, every=4, frames=6)
    assert np.array_equal(frames[0], hot[0]) and not np.array_equal(frames[1:], hot[1:])


def test_dream_frames_needs_enough_actions(world):
    model, small_vae, z0, actions, _ = world
    with pytest.raises(ShapeError, match="need 35 actions"):
        n03_temperature.dream_frames(model, small_vae, z0, actions, tau=1.0, every=5, frames=8)


def test_moving_the_tau_slider_changes_the_dream(world):
    model, small_vae, z0, actions, real = world
    dream = n03_temperature.TauDream(model, small_vae, z0, actions, real, tau=1.0, every=4, frames=6)
    at_one = dream.frames.copy()
    image = dream.image.value
    dream.tau.value = 0.3
    assert not np.array_equal(dream.frames, at_one) and dream.image.value != image
    assert np.array_equal(dream.frames, n03_temperature.dream_frames(model, small_vae, z0, actions, 0.3, 0, 4, 6))
    dream.tau.value = 1.0
    assert np.array_equal(dream.frames, at_one)  # the same tau and seed give the same dream again
    dream.seed.value = 7
    assert not np.array_equal(dream.frames, at_one)


def test_strip_and_grid(world):
    model, small_vae, z0, actions, real = world
    s = controls.strip(real[:3], gap=2)
    assert s.shape == (64, 3 * 64 + 4, 3) and (s[:, 64:66] == 255).all()
    fig = n03_temperature.dream_grid_figure(model, small_vae, z0, actions, real, taus=(0.3, 2.0), every=4, frames=5)
    assert len(fig.axes) == 3 * 5
    plt.close(fig)


def test_tempered_mixture_figure_uses_the_package_temperature():
    log_pi = torch.log(torch.tensor([0.6, 0.3, 0.1]))
    fig = n03_temperature.tempered_mixture_figure(log_pi, torch.tensor([-1.0, 0.8, 2.5]),
                                                  torch.log(torch.tensor([0.3] * 3)))
    bars = fig.axes[1].patches
    heights = np.array([b.get_height() for b in bars]).reshape(4, 3)  # taus x components
    expected = mdn.temperature(log_pi, torch.zeros(3), 0.3)[0].exp().numpy()
    assert np.allclose(heights[0], expected, atol=1e-6)
    assert np.allclose(heights.sum(axis=1), 1.0, atol=1e-5)
    plt.close(fig)


def test_tau_table_plot_and_paper_rows():
    rows = paper.tau_rows()
    assert rows[0] == {"tau": 0.1, "dream_mean": 2086, "dream_std": 140, "real_mean": 193, "real_std": 58}
    ax = plots.tau_table_plot(rows, "paper", solved=paper.VIZDOOM_SOLVED, random=paper.VIZDOOM_RANDOM)
    assert len(ax.patches) >= 2 * len(rows)
    plt.close(ax.figure)


def test_tempered_mixture_checker():
    right = lambda lp, ls, tau: (torch.log_softmax(lp / tau, dim=-1), ls + 0.5 * math.log(tau))  # noqa: E731
    assert n03_temperature.tempered_mixture.problem(right) is None
    assert "normalise" in n03_temperature.tempered_mixture.problem(
        lambda lp, ls, tau: (lp / tau, ls + 0.5 * math.log(tau)))
    assert "not multiplied" in n03_temperature.tempered_mixture.problem(
        lambda lp, ls, tau: (torch.log_softmax(lp * tau, dim=-1), ls + 0.5 * math.log(tau)))
    assert "sqrt(tau), not tau" in n03_temperature.tempered_mixture.problem(
        lambda lp, ls, tau: (torch.log_softmax(lp / tau, dim=-1), ls + math.log(tau)))
    assert "logarithm" in n03_temperature.tempered_mixture.problem(
        lambda lp, ls, tau: (torch.log_softmax(lp / tau, dim=-1), ls * math.sqrt(tau)))
    assert "returns None" in n03_temperature.tempered_mixture.problem(lambda lp, ls, tau: None)


def test_tempered_weight_checker():
    assert n03_temperature.tempered_weight.problem(0.64 / 0.68) is None
    assert "divide by the sum" in n03_temperature.tempered_weight.problem(0.64)
    assert "tau = 1" in n03_temperature.tempered_weight.problem(0.8)
