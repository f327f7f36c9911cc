"""Take Cover's dream in the learner's hands (notebook 05): the DoomDriver (wmcourse.lessons.drive) with its widget,
and the control that picks the temperature (wmcourse.lessons.n05_take_cover.TemperaturePicker).

Most tests use a tiny random V and M; two use the shipped Take Cover models (C drives against a held key; the
shipped controllers in their dream and in a few real steps)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from wmcourse.errors import ShapeError
from wmcourse.lessons import controls, drive
from wmcourse.lessons import n05_take_cover as lesson
from wmcourse.worldmodels import controller, vae
from wmcourse.worldmodels.mdnrnn import MDNRNN, MDNRNNConfig


def tiny_doom(done_bias: float = -20.0):
    """A random V (z = 4) and a Take Cover-like M (one action, a done head, no reward head), start codes and C on
    [z, h, c]."""
    torch.manual_seed(0)
    m = MDNRNN(MDNRNNConfig(z_size=4, action_size=1, hidden=16, K=3, predict_done=True)).eval()
    with torch.no_grad():
        m.done_head.bias.fill_(done_bias)  # -20: the dream never ends by itself; +20: it ends at the first step
    v = vae.build_vae(vae.VAEConfig(z_size=4, width=0.125), seed=0).eval()
    starts = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    config = controller.ControllerConfig(input_size=4 + 2 * 16, action_size=1, squash="thirds")
    params = np.random.default_rng(1).standard_normal(config.n_params).astype(np.float32)
    return v, m, starts, params, config


@pytest.fixture
def doom():
    v, m, starts, params, config = tiny_doom()
    return drive.DoomDriver(v, m, starts, params, config, tau=1.0, seed=0)


def test_keys_are_left_right_or_stay():
    assert drive.doom_move([drive.LEFT]) == -1.0 and drive.doom_move([drive.RIGHT]) == 1.0
    assert drive.doom_move([]) == 0.0 and drive.doom_move([drive.LEFT, drive.RIGHT]) == 0.0
    assert drive.doom_move(drive.LEFT) == -1.0                      # one key as a string


def test_keys_move_or_stay_in_the_dream(doom):
    start = doom.view().copy()
    assert start.shape == (64, 64, 3) and start.dtype == np.uint8 and doom.t == 0 and doom.score == 0
    seen = []
    step = doom.mdnrnn.step
    doom.mdnrnn.step = lambda z, a, state: (seen.append(float(a[0, 0])), step(z, a, state))[1]
    frame = doom.step([drive.LEFT])
    doom.step([drive.RIGHT])
    doom.step([])
    assert seen == [-1.0, 1.0, 0.0] and doom.moves == [-1.0, 1.0, 0.0]   # M was given what the keys said
    assert doom.t == 3 and doom.score == 3 and not doom.done
    assert not np.array_equal(frame, start)                          # the dream moved on


def test_the_done_head_ends_the_dream():
    v, m, starts, params, config = tiny_doom(done_bias=20.0)
    doom = drive.DoomDriver(v, m, starts, params, config)
    frame = doom.step([drive.LEFT])
    assert doom.done and doom.p_done > 0.5 and doom.score == 1      # the step on which M ends the game counts
    assert tuple(frame[0, 0]) == (220, 38, 38)                        # framed in red once over
    doom.step([drive.RIGHT])
    assert doom.t == 1 and np.array_equal(doom.view(), frame) and doom.status()["done"]
    doom.reset()
    assert doom.t == 0 and not doom.done
    capped = drive.DoomDriver(*tiny_doom()[:3], max_steps=5)
    assert capped.play([drive.RIGHT]) == 5 and capped.done           # the episode's cap ends it too


def test_a_new_tau_replays_the_same_moves_with_the_same_dice(doom):
    moves = [drive.LEFT, drive.LEFT, drive.RIGHT, None, drive.RIGHT, drive.LEFT]
    for key in moves:
        doom.step([] if key is None else [key])
    at_one, z_one = doom.view().copy(), doom.z.clone()
    doom.tau = 2.0
    assert doom.t == len(moves) and doom.tau == 2.0 and not torch.equal(doom.z, z_one)
    doom.tau = 1.0
    assert torch.equal(doom.z, z_one) and np.array_equal(doom.view(), at_one)
    again = drive.DoomDriver(*tiny_doom(), tau=1.0, seed=0)        # a new seat, same moves: the same dream
    for key in moves:
        again.step([] if key is None else [key])
    assert torch.equal(again.z, z_one)


def test_c_can_play_and_replays_at_a_new_tau(doom):
    doom.set_autopilot(True)
    doom.step()
    doom.step([drive.LEFT])                                          # C plays: the keys are not read
    assert doom.moves == [None, None] and doom.t == 2 and doom.action() in (-1.0, 0.0, 1.0)
    z = doom.z.clone()
    doom.tau = 0.5
    doom.tau = 1.0
    assert torch.equal(doom.z, z)


def test_bad_inputs_get_clear_errors(doom):
    with pytest.raises(ValueError, match="'ArrowLeft' and 'ArrowRight'.*ArrowUp"):
        doom.step([drive.UP])
    with pytest.raises(ValueError, match="Take Cover is played with"):
        doom.play("space")
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="tau must be positive"):
            doom.tau = bad
    assert doom.tau == 1.0
    v, m, starts, params, config = tiny_doom()
    with pytest.raises(ValueError, match="tau must be positive"):
        drive.DoomDriver(v, m, starts, tau=0)
    with pytest.raises(ShapeError, match=r"\(N, 4\)"):
        drive.DoomDriver(v, m, starts[0])
    with pytest.raises(ValueError, match="No controller"):
        drive.DoomDriver(v, m, starts).set_autopilot(True)
    with pytest.raises(ValueError, match="done head"):
        drive.DoomDriver(v, MDNRNN(MDNRNNConfig(z_size=4, action_size=1, hidden=16, K=3)), starts)
    with pytest.raises(ShapeError, match="reads 21 numbers"):
        drive.DoomDriver(v, m, starts, np.zeros(22, np.float32), controller.ControllerConfig(21, 1, "thirds"))


# --- the widget -------------------------------------------------------------------------------------------

def test_the_widget_has_left_stay_right_and_ignores_other_keys(doom):
    view = controls.DriveWidget(doom)
    assert set(view.buttons) == {drive.LEFT, "stay", drive.RIGHT} and view.world is None
    image = view.image.value
    view.on_key({"event": "keydown", "key": drive.LEFT})
    assert doom.t == 1 and doom.moves == [-1.0] and view.image.value != image
    view.on_key({"event": "keyup", "key": drive.LEFT})
    view.on_key({"event": "keydown", "key": drive.UP})               # no up arrow in Take Cover: ignored
    assert doom.t == 1 and view.held == set()
    view.buttons["stay"].click()
    view.buttons[drive.RIGHT].click()
    assert doom.moves == [-1.0, 0.0, 1.0]
    before = view.image.value
    view.tau.value = 2.0
    assert doom.tau == 2.0 and doom.t == 3 and view.image.value != before
    view.autopilot.value = True
    view.tick()
    assert doom.moves[-1] is None and "score <b>4</b>" in view.status.value
    view.reset.click()
    assert doom.t == 0 and view.errors.outputs == ()


# --- the shipped models --------------------------------------------------------------------------------------

@pytest.mark.timeout(180)
def test_the_shipped_controller_outlives_a_held_key_in_its_dream():
    from wmcourse.experiments import takecover

    v, m, starts = takecover.load_shipped_models()
    params, config, _ = takecover.load_shipped_controller(1.15)
    doom = drive.DoomDriver(v, m, starts, params, config, tau=1.15, seed=0, max_steps=400)
    scores = {}
    for who in ("C", drive.LEFT, drive.RIGHT):
        lived = []
        doom.resets = 0                                               # the same starts and dice for each player
        for _ in range(2):
            doom.reset()
            doom.set_autopilot(who == "C")
            lived.append(doom.play([] if who == "C" else [who]))
        scores[who] = np.mean(lived)
    assert scores["C"] > scores[drive.LEFT] and scores["C"] > scores[drive.RIGHT], scores


@pytest.mark.timeout(180)
def test_the_temperature_picker_shows_dream_and_real_for_each_tau(monkeypatch):
    from wmcourse.experiments import takecover

    v, m, _ = takecover.load_shipped_models()
    assert lesson.shipped_taus() == sorted(lesson.shipped_taus()) and {0.1, 1.15} <= set(lesson.shipped_taus())
    episodes = [lesson.tau_episode(v, m, tau, seed=1_000_000, max_steps=30) for tau in (0.1, 1.15)]
    for e in episodes:
        assert 1 <= e["real_steps"] <= 30 and 1 <= e["dream_steps"] <= 30
        assert len(e["real_frames"]) == -(-e["real_steps"] // lesson.REAL_EVERY)
        assert e["real_frames"].shape[1:] == (64, 64, 3) and e["dream_z"].shape == (e["dream_steps"] + 1, 64)
    fig = lesson.tau_dream_vs_real_figure(v, episodes, frames=4)     # two taus: dream and real rows for each
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert len(fig.axes) == 4 * 4 and len(labels) == 4
    assert labels[0].startswith("dream, τ = 0.1\nsurvived") and labels[1].startswith("real game\nsurvived")
    assert labels[2].startswith("dream, τ = 1.15") and f"{episodes[1]['real_steps']} steps" in labels[3]
    assert fig.axes[0].get_xlabel() == "step 0" and len(fig.axes[0].get_images()) == 1
    plt.close(fig)
    close = lesson.tau_dream_vs_real_figure(v, episodes[0], start=24, frames=4, spacing=4)   # a close-up from step 24
    assert [ax.get_xlabel() for ax in close.axes[:4]][:2] == ["step 24", "step 28"]
    assert close.axes[3].get_xlabel() == "over" and not close.axes[3].get_images()   # 36 > 30 steps: over
    plt.close(close)

    played = []
    monkeypatch.setattr(lesson, "tau_episode", lambda v, m, tau, *a: played.append(tau) or episodes[tau > 1])
    picker = lesson.TemperaturePicker(v, m, seed=1_000_000, max_steps=30, taus=[0.1, 1.15], tau=0.1, spacing=4)
    picker.tau.value = 1.15
    picker.tau.value = 0.1                                            # played once, kept
    assert played == [0.1, 1.15] and picker.errors.outputs == ()
    assert picker.figure.axes[0].get_ylabel().startswith("dream, τ = 0.1")
    picker.start.value = 8                                            # the scrubber: a close-up from step 8
    assert picker.view.value == "close-up" and picker.figure.axes[0].get_xlabel() == "step 8"
    real = {"rewards": np.ones(5, np.float32), "frames": np.zeros((5, 64, 64, 3), np.uint8)}
    dream = {"rewards": np.ones(7, np.float32), "z": np.zeros((8, 64), np.float32)}
    kept = lesson.TemperaturePicker(v, m, seed=1_000_000, max_steps=30, taus=[0.1, 1.15], tau=0.1,
                                    played={0.1: (real, dream)})     # an episode the notebook already played
    assert played == [0.1, 1.15] and kept.episodes[0.1]["real_steps"] == 5 and kept.episodes[0.1]["dream_steps"] == 7
    with pytest.raises(ValueError, match="no shipped controller for tau = 0.7"):
        lesson.TemperaturePicker(v, m, seed=0, taus=[0.1, 1.15], tau=0.7)
    plt.close("all")
