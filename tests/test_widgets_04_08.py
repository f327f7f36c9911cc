"""The controls of notebooks 04 and 06-08, on small models and made-up data (no artefacts needed): moving each control
redraws what it should, and a callback that raises shows its traceback in the widget."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from wmcourse.dreamer import agent as dreamer  # noqa: E402
from wmcourse.dreamer import probes as dreamer_probes
from wmcourse.dreamer.rssm import RSSMConfig  # noqa: E402
from wmcourse.errors import ShapeError  # noqa: E402
from wmcourse.lessons import animate, n04_cma_es, n06_dream_vs_real, n07_cartpole_failure, n08_dreamer
from wmcourse.worldmodels import cartpole, evolve, vae


def test_cma_scrubber_moves_through_generations_and_reruns_for_a_new_population():
    scrub = n04_cma_es.CMAScrubber(evolve.rosenbrock, np.array([-1.5, 2.5]), generations=12)
    assert len(scrub.trace) == 12 and len(scrub.trace[0].candidates) == 8
    first = scrub.figure
    scrub.generation.value = 10
    assert scrub.figure is not first and "generation 10" in scrub.figure.axes[0].get_title()
    scrub.population.value = 16
    assert len(scrub.trace[0].candidates) == 16 and scrub.errors.outputs == ()


def fake_drive(steps: int = 40):
    rng = np.random.default_rng(0)
    rewards = np.where(np.arange(steps) % 5 == 0, 3.0, -0.1).astype(np.float32)
    return {"frames": rng.integers(0, 255, (steps, 64, 64, 3), dtype=np.uint8),
            "z": rng.standard_normal((steps, 4)).astype(np.float32), "actions": np.zeros((steps, 3), np.float32),
            "rewards": rewards, "predicted_rewards": rewards + 0.5}


def test_reward_gap_scrubber_reports_the_gap_up_to_the_step():
    real = fake_drive()
    scrub = n06_dream_vs_real.RewardGapScrubber(real, vae.build_vae(vae.VAEConfig(z_size=4, width=0.125)), window=10)
    assert scrub.step.value == 39
    scrub.step.value = 9                                  # steps 0-9: the game paid 2 x 3 - 8 x 0.1; M 5 more
    title = scrub.figure.axes[2].get_title()
    assert "steps 0-9" in title and "paid +5.2" in title and "gap +5.0" in title


def tiny_cartpole():
    torch.manual_seed(0)
    return cartpole.StateWorldModel(cartpole.WorldModelConfig(hidden=8, K=2), np.zeros(4), np.full(4, 0.1)).eval()


def test_survival_explorer_recomputes_the_dream_only():
    model = tiny_cartpole()
    config = cartpole.ControllerSettings().controller_config(8)
    thetas, dots = np.linspace(-0.2, 0.2, 4), np.linspace(-1, 1, 3)
    real = np.full(12, 30)
    view = n07_cartpole_failure.SurvivalExplorer(model, np.ones(config.n_params, np.float32), "state", thetas, dots,
                                                 real, horizon=30)
    assert view.dreamed.shape == (12,) and np.array_equal(view.real_steps, real)
    view.threshold.value = 0.05                            # a done head this eager ends the dreams sooner
    eager = view.dreamed.copy()
    view.threshold.value = 0.95
    assert eager.sum() <= view.dreamed.sum()
    view.tau.value = 2.0
    assert view.errors.outputs == ()


def test_lambda_sliders_redraw_the_targets():
    view = n08_dreamer.LambdaReturns()
    labels = [line.get_label() for line in view.figure.axes[0].get_lines()]
    assert "λ = 0.95" in labels and "λ = 0" in labels and "λ = 1" in labels
    view.lam.value = 0.5
    assert "λ = 0.5" in [line.get_label() for line in view.figure.axes[0].get_lines()]
    before = view.figure.axes[0].get_lines()[-1].get_ydata().copy()   # the true discounted steps left
    view.gamma.value = 0.9
    assert not np.allclose(view.figure.axes[0].get_lines()[-1].get_ydata(), before)


def test_open_loop_horizon_slider():
    config = dreamer.DreamerConfig(rssm=RSSMConfig(deter=16, groups=4, classes=4, hidden=16, embed=8))
    agent = dreamer.Dreamer(config).eval()
    rng = np.random.default_rng(0)
    states, actions = rng.standard_normal((41, 4)).astype(np.float32) * 0.05, rng.integers(0, 2, 40)
    view = n08_dreamer.OpenLoopHorizon(agent, states, actions, context=5)
    np.testing.assert_allclose(np.abs(view.dreamed - view.real),
                               dreamer_probes.open_loop_error(agent, states, actions, context=5), rtol=1e-6)
    assert view.horizon.value == 15
    view.horizon.value = 30
    assert len(view.figure.axes[0].get_lines()[0].get_xdata()) == 30


def test_a_figure_control_that_raises_shows_it():
    view = n08_dreamer.LambdaReturns()

    def broken():
        raise RuntimeError("no figure")

    view.figure_now = broken
    view.lam.value = 0.3
    assert "RuntimeError: no figure" in view.errors.outputs[0]["text"]


# --- animations ---------------------------------------------------------------------------------------------

def test_side_by_side_animation_player_and_gif(tmp_path):
    a = np.arange(5, dtype=np.uint8).reshape(5, 1, 1, 1).repeat(8, 1).repeat(6, 2).repeat(3, 3) * 50  # 5 shades
    b = np.full((5, 8, 4, 3), 200, np.uint8)
    anim = animate.side_by_side({"left": a, "right": b}, [f"frame {i}" for i in range(5)], scale=2)
    assert anim.frames.shape == (5, 8, 6 + animate.GAP + 4, 3) and anim.titles == [("left", 6), ("right", 4)]
    page = anim._repr_html_()
    assert page.count("data:image/png;base64,") == 5 and "frame 4" in page and "<script>" in page
    path = anim.save_gif(tmp_path / "a.gif")
    import imageio.v3 as iio

    assert iio.imread(path, index=None).shape[:3] == (5, 16, 2 * anim.frames.shape[2])
    with pytest.raises(ShapeError, match="same T"):
        animate.side_by_side({"left": a, "right": b[:3]})
    with pytest.raises(ShapeError, match="one per frame"):
        animate.Animation(a, ["only one"])


def test_drive_and_cartpole_animations_hold_an_ended_world():
    real = fake_drive(20)
    dream = {"z": np.zeros((9, 4), np.float32), "rewards": np.ones(8, np.float32),
             "dones": np.array([False] * 7 + [True])}
    decode = lambda z: np.full((len(z), 64, 64, 3), 100, np.uint8)  # noqa: E731
    anim = animate.drive_animation(real, dream, decode, every=2)
    assert len(anim) == 10 and "M pays in its dream    8.0 (the dream ended)" in anim.captions[-1]
    real_states = np.zeros((6, 4), np.float32)
    real_states[-1, 2] = 0.3                               # the pole fell at step 5
    anim = animate.cartpole_animation(real_states, np.zeros((21, 4), np.float32), every=1, steps=21)
    assert len(anim) == 21 and "reality ended at step 5" in anim.captions[-1] and "dream: step 20" in anim.captions[-1]
    assert (anim.frames[-1, 0, 0] != anim.frames[0, 0, 0]).any()   # the ended reality is tinted red


def test_cma_animation_one_frame_per_generation():
    trace = evolve.trace_cma(evolve.rosenbrock, np.array([-1.5, 2.5]), 0.4, generations=4)
    anim = animate.cma_animation(trace, evolve.rosenbrock)
    assert len(anim) == 4 and anim.captions[3].startswith("generation 3")
    fig = n04_cma_es.cma_scrubber_figure(trace, evolve.rosenbrock, 2)
    assert "generation 2" in fig.axes[0].get_title()
