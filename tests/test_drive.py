"""Driving the dream (wmcourse.lessons.drive) and its widget, on small randomly initialised models: no artefacts needed.

The drivers are plain classes: a step changes the dreamed frame and M's score, reset starts again from a real
frame, a new tau re-dreams the same moves, C can take the wheel. The widget's callbacks are called directly,
as ipywidgets would call them, and one that raises must show its traceback in the widget."""

import numpy as np
import pytest
import torch

from wmcourse.errors import SettingsError, ShapeError
from wmcourse.lessons import controls, drive, n03_temperature
from wmcourse.worldmodels import cartpole, controller, vae
from wmcourse.worldmodels.mdnrnn import MDNRNN, MDNRNNConfig


def tiny_world(done_bias: float = -20.0):
    torch.manual_seed(0)
    m = MDNRNN(MDNRNNConfig(z_size=4, action_size=3, hidden=16, K=3, predict_reward=True, predict_done=True)).eval()
    with torch.no_grad():
        m.done_head.bias.fill_(done_bias)  # -20: the dream never ends by itself; +20: it ends at the first step
    v = vae.build_vae(vae.VAEConfig(z_size=4, width=0.125), seed=0).eval()
    frames = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    config = controller.ControllerConfig(input_size=4 + 16, action_size=3)
    params = np.random.default_rng(1).standard_normal(config.n_params).astype(np.float32)
    return v, m, frames, params, config


@pytest.fixture
def car():
    v, m, frames, params, config = tiny_world()
    return drive.CarDriver(v, m, frames, params, config, seed=0)


def test_keys_map_to_actions():
    assert drive.car_action([]).tolist() == [0, 0, 0]
    assert drive.car_action([drive.LEFT, drive.UP]).tolist() == [-1, 1, 0]
    assert drive.car_action([drive.RIGHT, drive.DOWN]).tolist() == pytest.approx([1, 0, drive.BRAKE])
    assert drive.car_action([drive.LEFT, drive.RIGHT]).tolist() == [0, 0, 0]
    assert drive.cart_push([drive.LEFT]) == 0 and drive.cart_push([drive.RIGHT]) == 1
    assert drive.cart_push([]) is None and drive.cart_push([drive.LEFT, drive.RIGHT], default=1) == 1


def test_a_step_changes_the_dream_and_the_score(car):
    start = car.view().copy()
    assert start.shape == (64, 64, 3) and start.dtype == np.uint8 and car.t == 0 and car.score == 0
    frame = car.step([drive.UP])
    assert car.t == 1 and not np.array_equal(frame, start)
    assert car.score == pytest.approx(car.reward) and car.score != 0
    for _ in range(4):
        car.step([drive.LEFT])
    assert car.t == 5 and len(car.moves) == 5


def test_reset_starts_again_from_the_next_real_frame(car):
    first = car.view().copy()
    car.step([drive.UP])
    car.reset()
    assert car.t == 0 and car.score == 0 and not car.done
    assert not np.array_equal(car.view(), first)          # the second start frame
    car.reset()
    car.reset()                                            # three start frames: back to the first
    assert np.array_equal(car.view(), first)


def test_a_new_tau_re_dreams_the_same_moves(car):
    for key in (drive.UP, drive.UP, drive.LEFT, drive.UP, drive.RIGHT, drive.UP):
        car.step([key])
    at_one, score = car.view().copy(), car.score
    car.tau = 2.0
    assert car.t == 6 and not np.array_equal(car.view(), at_one)
    car.tau = 1.0
    assert np.array_equal(car.view(), at_one) and car.score == pytest.approx(score)  # same moves, same dice
    with pytest.raises(SettingsError, match="tau must be positive"):
        car.tau = 0


def test_c_can_take_the_wheel(car):
    car.set_autopilot(True)
    car.step()
    assert car.moves == [None] and car.t == 1
    np.testing.assert_allclose(car.action(), car._c_move())
    v, m, frames, _, _ = tiny_world()
    keyless = drive.CarDriver(v, m, frames)
    with pytest.raises(SettingsError, match="No controller"):
        keyless.set_autopilot(True)


def test_the_done_head_ends_the_dream():
    v, m, frames, params, config = tiny_world(done_bias=20.0)
    car = drive.CarDriver(v, m, frames, params, config)
    car.step([drive.UP])
    assert car.done and car.p_done > 0.5
    frozen = car.view().copy()
    car.step([drive.UP])
    assert car.t == 1 and np.array_equal(car.view(), frozen)


def test_bad_inputs_get_clear_errors():
    v, m, frames, params, config = tiny_world()
    with pytest.raises(ShapeError, match=r"\(N, 64, 64, 3\)"):
        drive.CarDriver(v, m, frames[0])
    plain = MDNRNN(MDNRNNConfig(z_size=4, action_size=3, hidden=16, K=3))
    with pytest.raises(SettingsError, match="reward and done heads"):
        drive.CarDriver(v, plain, frames)
    with pytest.raises(SettingsError, match="Unknown world"):
        drive.CarDriver(v, m, frames).set_world("moon")


@pytest.mark.timeout(120)
def test_the_real_game_in_the_same_seat(car):
    car.set_world("real")
    assert car.view().shape == (64, 130, 3)                  # the real frame beside V's view of it
    before = car.view().copy()
    rewards = []
    for _ in range(3):
        car.step([drive.UP])
        rewards.append(car.reward)
    assert car.t == 3 and not np.array_equal(car.view(), before)
    assert car.score == pytest.approx(sum(rewards)) and all(r == pytest.approx(-0.1) or r > 0 for r in rewards)
    assert car.predicted_score != 0                          # M reads along and says what it would have paid
    car.close()


def tiny_cartpole(done_bias: float = -20.0):
    torch.manual_seed(0)
    model = cartpole.StateWorldModel(cartpole.WorldModelConfig(hidden=8, K=2), np.zeros(4), np.full(4, 0.1)).eval()
    with torch.no_grad():
        model.m.done_head.bias.fill_(done_bias)
    return model


def test_cartpole_dream_keeps_going_after_reality_ends():
    model = tiny_cartpole()
    start = np.array([[0.0, 0.0, 0.18, 1.5]], np.float32)   # leaning and falling: reality ends within a few steps
    driver = drive.CartPoleDriver(model, start)
    assert driver.view().shape == (90, 364, 3)
    assert np.array_equal(driver.step([]), driver.view()) and driver.t == 0   # CartPole needs a push
    for _ in range(20):
        driver.step([drive.LEFT])                          # the cart moves away from the lean: the pole falls faster
    assert driver.real_end is not None and driver.real_end < 20
    assert driver.t == 20 and driver.dream_end is None and driver.score == 20 and driver.real_score == driver.real_end
    assert abs(driver.real[2]) > cartpole.THETA_LIMIT      # the real physics kept running: the pole kept falling


def test_one_tau_switch_for_both_drivers():
    assert drive.CarDriver.tau is drive.DreamDriver.tau and drive.CartPoleDriver.tau is drive.DreamDriver.tau
    replays = []

    class Toy(drive.DreamDriver):
        def __init__(self, dreaming):
            self._tau, self.dreaming = 1.0, dreaming

        def _dreaming(self):
            return self.dreaming

        def _replay(self):
            replays.append(self._tau)

    toy = Toy(dreaming=True)
    toy.tau = 2
    assert toy.tau == 2.0 and isinstance(toy.tau, float) and replays == [2.0]
    away = Toy(dreaming=False)                                  # e.g. CarDriver in the real game: no dream to redo
    away.tau = 0.5
    assert away.tau == 0.5 and replays == [2.0]
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(SettingsError, match="tau must be positive"):
            toy.tau = bad
    assert toy.tau == 2.0


def test_cartpole_tau_replays_and_c_drives():
    model = tiny_cartpole()
    starts = np.zeros((2, 4), np.float32)
    config = cartpole.ControllerSettings().controller_config(8)
    driver = drive.CartPoleDriver(model, starts, params=np.ones(config.n_params, np.float32), tau=1.0)
    for key in (drive.LEFT, drive.RIGHT, drive.LEFT, drive.LEFT):
        driver.step([key])
    dreamed = driver.dreamed.copy()
    driver.tau = 2.0
    assert driver.t == 4 and not np.allclose(driver.dreamed, dreamed)
    driver.tau = 1.0
    np.testing.assert_allclose(driver.dreamed, dreamed)
    driver.set_autopilot(True)
    driver.step()
    assert driver.t == 5 and driver.moves[-1] is None
    ended = drive.CartPoleDriver(tiny_cartpole(done_bias=20.0), starts)
    ended.step([drive.LEFT])
    assert ended.done and ended.dream_end == 1 and ended.score == 1


# --- the widget -------------------------------------------------------------------------------------------

def test_widget_keys_tau_reset_and_autopilot(car):
    view = controls.DriveWidget(car)
    image, status = view.image.value, view.status.value
    view.on_key({"event": "keydown", "key": drive.UP})
    assert car.t == 1 and view.image.value != image and view.status.value != status and view.held == {drive.UP}
    view.on_key({"event": "keyup", "key": drive.UP})
    view.on_key({"event": "keydown", "key": "a"})          # not an arrow: ignored
    assert view.held == set() and car.t == 1
    for _ in range(3):
        view.tick()
    before = view.image.value
    view.tau.value = 2.0                                    # the slider re-dreams the drive at the new temperature
    assert car.tau == 2.0 and view.image.value != before
    view.buttons[drive.LEFT].click()
    assert car.t == 4 + view.burst
    view.autopilot.value = True
    assert car.autopilot
    view.world.value = "dream"
    view.reset.click()
    assert car.t == 0 and car.score == 0
    assert view.errors.outputs == ()                        # nothing went wrong


def test_a_callback_that_raises_shows_its_traceback_in_the_widget(car):
    view = controls.DriveWidget(car)

    def broken(keys=()):
        raise RuntimeError("the dream broke down")

    car.step = broken
    view.keyboard._handle_mouse_msg(view.keyboard, {"event": "keydown", "key": drive.UP}, [])  # as a browser message
    text = "".join(o.get("text", "") for o in view.errors.outputs)
    assert "RuntimeError: the dream broke down" in text and "Traceback" in text
    view.buttons[drive.UP].click()                          # a button too, and the first error stays visible
    shown = [o for o in view.errors.outputs if "the dream broke down" in o.get("text", "")]
    assert len(shown) == 2 and all(o["name"] == "stderr" for o in shown)


def test_the_clock_steps_in_the_kernel_until_stopped_and_stops_on_an_error(car):
    import time

    view = controls.DriveWidget(car, interval_ms=10)
    view.on_key({"event": "keydown", "key": drive.UP})
    assert car.t == 1
    view.clock.value = True
    time.sleep(0.8)
    view.clock.value = False
    stopped = car.t
    assert stopped > 3 and car.moves[-1].tolist() == [0, 1, 0]   # the held key drove every step
    time.sleep(0.1)
    assert car.t == stopped and view.fps > 0
    view.clock.value = True
    view.close()                                            # closing the widget stops its clock
    assert view._thread is None and not view.clock.value

    def broken(keys=()):
        raise RuntimeError("the clock broke")

    car.step = broken
    view.clock.value = True
    for _ in range(50):
        if not view.clock.value:
            break
        time.sleep(0.05)
    assert not view.clock.value and "RuntimeError: the clock broke" in view.errors.outputs[-1]["text"]


def test_guarded_passes_results_through_and_shows_errors():
    errors = controls.error_area()
    assert controls.guarded(errors, lambda x: x + 1)(1) == 2 and errors.outputs == ()
    assert controls.guarded(errors, lambda: 1 / 0)() is None
    assert "ZeroDivisionError" in errors.outputs[0]["text"]


def test_existing_widgets_show_callback_errors():
    v, m, frames, _, _ = tiny_world()
    dream = n03_temperature.TauDream(m, v, torch.zeros(4), torch.zeros(30, 3), frames, every=4, frames=3)

    def broken():
        raise ValueError("no dream today")

    dream.update = broken
    dream.tau.value = 0.5
    assert "ValueError: no dream today" in dream.errors.outputs[0]["text"]


def test_the_frame_rate_benchmark_measures_the_widgets_work(car):
    rate = drive.drive_frames_per_second(car, steps=10)
    assert 0 < rate < 1e5 and car.t >= 10
