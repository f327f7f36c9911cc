"""The pictures of the key ideas: each draws, and the ELBO's picture refuses a bound above the evidence."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from wmcourse.errors import SettingsError  # noqa: E402
from wmcourse.lessons import diagrams  # noqa: E402
from wmcourse.worldmodels import MDNRNN, ConvVAE, MDNRNNConfig, VAEConfig  # noqa: E402


@pytest.mark.parametrize("draw", [diagrams.draw_vmc, diagrams.draw_dream_loop, diagrams.draw_reparameterisation,
                                  diagrams.draw_elbo_gap, diagrams.draw_iterative_training])
def test_each_key_idea_draws_on_its_own_axes(draw):
    ax = draw()
    assert ax.patches, "nothing was drawn"
    plt.close(ax.figure)


def test_the_elbo_gap_is_a_kl_never_negative():
    ax = diagrams.draw_elbo_gap(log_px=-100.0, reconstruction=-85.0, kl_prior=22.0)  # ELBO -107, gap 7
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == [7.0, 22.0]
    plt.close(ax.figure)
    with pytest.raises(SettingsError, match="cannot exceed"):
        diagrams.draw_elbo_gap(log_px=-110.0, reconstruction=-85.0, kl_prior=22.0)


def test_the_architectures_drawn_are_the_networks_built():
    """The sizes in the pictures are the shapes the package's V produces and the outputs its M's head has."""
    import torch

    v = ConvVAE(VAEConfig())
    x = torch.zeros(1, 3, 64, 64)
    shapes = []
    for layer in v.encoder:
        x = layer(x)
        if isinstance(layer, torch.nn.Conv2d):
            shapes.append(f"{x.shape[2]}x{x.shape[3]}x{x.shape[1]}")
    drawn = [size.split(" ")[0] for _, size in diagrams.vae_layers()[1:5]]
    assert drawn == shapes
    m = MDNRNN(MDNRNNConfig())
    text = dict(diagrams.mdnrnn_layers())["mixture head"]
    assert f"({m.mdn.linear.out_features})" in text
