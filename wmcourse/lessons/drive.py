"""Drive the dream yourself: a player's seat inside M's dream, and in the real game beside it.

The paper's interactive article ("World Models", Ha & Schmidhuber 2018) lets the reader watch its agent play
inside its dream and override it. Here the learner takes the wheel. Each step of CarRacing's dream:

    a_t           the keys held (steer, gas, brake), or C's action on [z_t, h_t] when C drives
    M             reads (z_t, a_t), updates its memory h, predicts r_t, P(done_t) and a mixture over z_{t+1}
    z_{t+1}       ~ the mixture at temperature tau (wmcourse.worldmodels.mdn.sample), exactly as in
                  wmcourse.worldmodels.dream
    frame         V decodes z_{t+1}: the picture M imagines

The score is the sum of M's reward head; the dream ends when M's done head says P(done) > 0.5. A dream starts
from V's code of a real frame. Every random draw comes from a generator seeded at reset, and every action is
recorded, so changing tau replays the same moves with the same dice at the new temperature: the dream you see
is the one M would have dreamed at that tau (as notebook 03's slider, but while you drive).

`CarDriver` also drives the real CarRacing-v3 (world "real"): the same keys, the real frame beside V's view of
it, the real reward, with M reading along (and saying what it would have paid). `CartPoleDriver` steps
CartPole's dream and the real physics in lockstep from the same start, under the same pushes, so a learner
sees the dream keep the pole up after reality (or the task's own rule) has ended the episode. `DoomDriver` is the
seat in Take Cover's dream (the paper's own dream, notebook 05): left, right or stay, one point for every step
survived, until M's done head ends the game.

These are plain classes with no widgets, tested directly; wmcourse.lessons.controls.DriveWidget is their view.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import gymnasium as gym
import numpy as np
import torch

from ..errors import SettingsError, ShapeError
from ..worldmodels import controller, mdn

LEFT, RIGHT, UP, DOWN = "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"
KEYS = (LEFT, RIGHT, UP, DOWN)
BRAKE = 0.8  # how hard the down arrow brakes (full braking locks CarRacing's wheels)


def car_action(keys: Iterable[str]) -> np.ndarray:
    """The keys held -> CarRacing's action (steer in [-1, 1], gas in [0, 1], brake in [0, 1]), float32 (3,)."""
    keys = set(keys)
    steer = (RIGHT in keys) - (LEFT in keys)
    return np.array([steer, float(UP in keys), BRAKE * (DOWN in keys)], np.float32)


def cart_push(keys: Iterable[str], default: int | None = None) -> int | None:
    """The keys held -> CartPole's action: 0 pushes left, 1 pushes right; `default` when neither (or both)."""
    keys = set(keys)
    if (LEFT in keys) == (RIGHT in keys):
        return default
    return 0 if LEFT in keys else 1


DOOM_KEYS = (LEFT, RIGHT)  # Take Cover: step left or right; no key (or both) is "stay"


def doom_move(keys: Iterable[str] | str) -> float:
    """The keys held -> Take Cover's action, as the game reads it in thirds: -1.0 (left), +1.0 (right), 0.0 (stay:
    neither key, or both). One key may be given as a string; a key that is not an arrow left or right is refused."""
    keys = {keys} if isinstance(keys, str) else set(keys)
    unknown = keys - set(DOOM_KEYS)
    if unknown:
        raise SettingsError(f"Take Cover is played with {LEFT!r} and {RIGHT!r} (no key: stay); got "
                            f"{sorted(map(str, unknown))}.")
    return float((RIGHT in keys) - (LEFT in keys))


def _strip(frames: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """Frames of one height side by side, white gaps between them."""
    h = frames[0].shape[0]
    parts = []
    for i, frame in enumerate(frames):
        if i:
            parts.append(np.full((h, gap, 3), 255, np.uint8))
        parts.append(np.asarray(frame, np.uint8))
    return np.concatenate(parts, axis=1)


class DreamDriver:
    """What every driver shares: C's params and the "C drives" switch, the start of each episode (the next start,
    the dice seeded afresh), the moves recorded since the last reset, and the temperature switch. Setting `tau`
    (positive) dreams those moves again at the new temperature, with the same dice (_replay), while the driver is
    in the dream (_dreaming). A subclass calls _seat in its __init__ and makes reset, _c_move and _advance."""

    _tau: float
    C_NEEDS = "params and config"  # what a driver must be given to let C drive

    def _seat(self, params: np.ndarray | None, tau: float, seed: int) -> None:
        """C's params as a (1, n) float tensor (None: no C), the keys driving, the temperature, the seed, no reset."""
        self.params = None if params is None else torch.as_tensor(np.asarray(params), dtype=torch.float32).view(1, -1)
        self.autopilot, self._tau, self.seed, self.resets = False, _positive(tau), seed, 0

    @property
    def tau(self) -> float:
        """The temperature M samples the dream at (wmcourse.worldmodels.mdn.sample)."""
        return self._tau

    @tau.setter
    def tau(self, value: float) -> None:
        """A new temperature: the dream since the last reset is dreamed again at it (same moves, same dice)."""
        self._tau = _positive(value)
        if self._dreaming():
            self._replay()

    def _dreaming(self) -> bool:
        return True

    def set_autopilot(self, on: bool) -> None:
        """C drives (True) or the keys do (False)."""
        if on:
            self._need_c()
        self.autopilot = bool(on)

    def _need_c(self) -> None:
        if self.params is None:
            raise SettingsError(f"No controller was given to this driver: pass {self.C_NEEDS} to let C drive.")

    def _next_start(self, starts):
        """An episode begins: count the reset, seed the dice for it, record no moves yet; returns the next of
        `starts` (each reset takes the next, round and round)."""
        self.resets += 1
        self.generator = torch.Generator().manual_seed(self.seed + self.resets)
        self.moves: list = []  # None: C chose (recomputed on a replay)
        return starts[(self.resets - 1) % len(starts)]

    def _play(self, move) -> None:
        """One step with this move (None: C's, chosen now), recorded for a replay."""
        self.moves.append(move)
        self._advance(self._c_move() if move is None else move)

    @torch.no_grad()
    def _replay(self) -> None:
        """Dream again from the same start with the same recorded moves and a generator seeded as at reset."""
        moves = self.moves
        self.resets -= 1
        self.reset()
        for move in moves:
            if self.done:
                break
            self._play(move)

    def reset(self) -> np.ndarray:
        raise NotImplementedError

    def _c_move(self):
        raise NotImplementedError

    def _advance(self, move) -> None:
        raise NotImplementedError


def _positive(tau: float) -> float:
    if not tau > 0:
        raise SettingsError(f"tau must be positive, got {tau}.")
    return float(tau)


class CarDriver(DreamDriver):
    """The learner's seat in CarRacing: in M's dream (world "dream") or in the real game (world "real").

    vae, mdnrnn: the shipped V and M (M needs its reward and done heads). start_frames: real preprocessed frames
    (N, 64, 64, 3) uint8; each reset starts the dream from the next one. params, config: the controller C, for
    the "C drives" switch (optional). The state after each step: t, score, reward, p_done, done, frame.
    """

    WORLDS = ("dream", "real")
    ZOOM_STEPS = 50  # the real game opens with a zoom; the real world skips it (no action) at each reset

    def __init__(self, vae, mdnrnn, start_frames: np.ndarray, params: np.ndarray | None = None,
                 config: controller.ControllerConfig | None = None, tau: float = 1.0, seed: int = 0,
                 track_seed: int = 1000, max_steps: int = 1000):
        start_frames = np.asarray(start_frames)
        if start_frames.ndim != 4 or start_frames.shape[1:] != (64, 64, 3) or start_frames.dtype != np.uint8:
            raise ShapeError(f"Expected real start frames of shape (N, 64, 64, 3), uint8, got {start_frames.shape} "
                             f"{start_frames.dtype}: preprocess raw frames with wmcourse.real.envs.preprocess_frames.")
        c = mdnrnn.config
        if not (c.predict_reward and c.predict_done):
            raise SettingsError("Driving the dream needs an M with reward and done heads (they keep the score and end "
                                "the dream): train it with --predict-reward --predict-done, or use the shipped M.")
        if params is not None and config is None:
            raise SettingsError("Give the controller's config with its params "
                                "(wmcourse.shipped.catalogue.load_shipped_controller).")
        self.vae, self.mdnrnn = vae.eval(), mdnrnn.eval()
        self.start_frames, self.max_steps = start_frames, max_steps
        self._seat(params, tau, seed)
        self.config, self.world, self.track_seed = config, "dream", track_seed
        self._env = None
        self.reset()

    # --- switches ---------------------------------------------------------------------------------------------

    def _dreaming(self) -> bool:
        return self.world == "dream"  # in the real game a new tau waits for the next dream

    def set_world(self, world: str) -> None:
        """Switch between M's dream and the real game; either starts afresh."""
        if world not in self.WORLDS:
            raise SettingsError(f"Unknown world {world!r}: expected one of {self.WORLDS}.")
        self.world = world
        self.reset()

    # --- the game ---------------------------------------------------------------------------------------------

    @torch.no_grad()
    def reset(self) -> np.ndarray:
        """Start again from a real frame (the next start frame in the dream; the next track in the real game)."""
        start = self._next_start(self.start_frames)
        self.t, self.score, self.predicted_score, self.reward, self.p_done, self.done = 0, 0.0, 0.0, 0.0, 0.0, False
        self.state = self.mdnrnn.initial_state(1)
        if self.world == "dream":
            self.start = start
            self.z = self._encode(self.start)
            self.frame = self._decode(self.z)
        else:
            from ..real.envs import make_env, preprocess_frames

            if self._env is None:
                self._env = make_env("CarRacing-v3")
            obs, _ = self._env.reset(seed=self.track_seed + self.resets - 1)
            for _ in range(self.ZOOM_STEPS):
                obs, *_ = self._env.step(np.zeros(3, np.float32))
            self.real_frame = preprocess_frames(obs)
            self.z = self._encode(self.real_frame)
            self.frame, self.v_view = self.real_frame, self._decode(self.z)
        return self.view()

    def action(self, keys: Iterable[str] = ()) -> np.ndarray:
        """What is done this step: C's action on [z, h] when C drives, else the keys' (car_action)."""
        if self.autopilot:
            return self._c_move()
        return car_action(keys)

    @torch.no_grad()
    def step(self, keys: Iterable[str] = ()) -> np.ndarray:
        """One step with the keys held (or C's action); returns the picture to show. A finished episode stays."""
        if self.done:
            return self.view()
        self._play(None if self.autopilot else car_action(keys))
        return self.view()

    def view(self) -> np.ndarray:
        """The picture: the dreamed frame (decoded by V); in the real game, the real frame beside V's view of it."""
        if self.world == "dream":
            return self.frame
        return _strip([self.real_frame, self.v_view])

    def status(self) -> dict[str, float | int | bool | str]:
        status = {"world": self.world, "step": self.t, "score": self.score, "reward": self.reward,
                  "P(done)": self.p_done, "done": self.done, "tau": self.tau, "C drives": self.autopilot}
        if self.world == "real":  # in the dream the score IS M's; in reality, M reads along and says what it would pay
            status["M's score"] = self.predicted_score
        return status

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None

    # --- inside -----------------------------------------------------------------------------------------------

    @torch.no_grad()
    def _encode(self, frame: np.ndarray) -> torch.Tensor:
        from ..real.envs import frames_to_tensor

        mu, _ = self.vae.encode(frames_to_tensor(np.asarray(frame)[None]))
        return mu

    @torch.no_grad()
    def _decode(self, z: torch.Tensor) -> np.ndarray:
        x = self.vae.decode(z)[0]
        return (x.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)

    def _c_move(self) -> np.ndarray:
        self._need_c()
        features = torch.cat([self.z, self.state[0]], dim=-1).view(1, 1, -1)
        return controller.act(self.params, features, self.config)[0, 0].numpy().astype(np.float32)

    @torch.no_grad()
    def _advance(self, action: np.ndarray) -> None:
        a = torch.as_tensor(np.asarray(action, np.float32)).view(1, -1)
        out, self.state = self.mdnrnn.step(self.z, a, self.state)
        predicted = float(out.reward[0])
        self.p_done = float(torch.sigmoid(out.done_logit[0]))
        self.predicted_score += predicted
        self.t += 1
        if self.world == "dream":
            self.z = mdn.sample(out.log_pi, out.mu, out.log_sigma, self._tau, self.generator)
            self.reward, self.done = predicted, self.p_done > 0.5
            self.frame = self._decode(self.z)
        else:
            from ..real.envs import preprocess_frames

            obs, reward, terminated, truncated, _ = self._env.step(a[0].numpy())
            self.real_frame = preprocess_frames(obs)
            self.z = self._encode(self.real_frame)
            self.reward, self.done = float(reward), bool(terminated or truncated)
            self.frame, self.v_view = self.real_frame, self._decode(self.z)
        self.score += self.reward
        self.done = self.done or self.t >= self.max_steps


class CartPoleDriver(DreamDriver):
    """Push CartPole in M's dream and in the real physics at once, from the same real start state.

    model: a CartPole World Model (wmcourse.worldmodels.cartpole.StateWorldModel, with a done head);
    start_states (N, 4): real states to start from (each reset takes the next). Both worlds get the same push each
    step. The real world ends by the task's rule (|x| > 2.4 or |theta| > 12 degrees) but its physics keeps running,
    so you see the pole fall while the dream may keep it up; the dream ends when M's done head says P(done) > 0.5.
    params, features: the controller C for the "C drives" switch (it acts on the dream's state, as it trained).
    """

    C_NEEDS = "params"

    def __init__(self, model, start_states: np.ndarray, params: np.ndarray | None = None, features: str = "state",
                 tau: float = 1.0, seed: int = 0, max_steps: int = 500):
        from ..worldmodels import cartpole

        start_states = np.asarray(start_states, np.float32)
        if start_states.ndim != 2 or start_states.shape[1] != 4:
            raise ShapeError(f"Expected real CartPole start states of shape (N, 4), got {start_states.shape}.")
        if model.m.done_head is None:
            raise SettingsError("This M has no done head: drive a World Model trained with done_head=True "
                                "(both shipped CartPole models have one).")
        self.model, self.start_states, self.max_steps = model.eval(), start_states, max_steps
        self.features = features
        self.config = cartpole.ControllerSettings(features=features).controller_config(model.config.hidden)
        self._seat(params, tau, seed)
        self._physics = gym.make(cartpole.ENV_ID).unwrapped  # its step is the real physics; its state is set each step
        self._physics.reset(seed=seed)
        self.reset()

    @torch.no_grad()
    def reset(self) -> np.ndarray:
        """Start both worlds again from the next real start state."""
        self.start = self._next_start(self.start_states)
        self.real = self.start.astype(np.float64).copy()
        self.z = self.model.encode(self.start[None])
        self.dreamed = self.start.copy()
        self.state = self.model.m.initial_state(1)
        self.t, self.p_done = 0, 0.0
        self.real_end: int | None = None      # the step at which the task's rule ended the real episode
        self.dream_end: int | None = None     # the step at which M's done head ended the dream
        self.rule_end: int | None = None      # the step at which the task's rule would end the DREAMED state
        return self.view()

    @property
    def done(self) -> bool:
        return self.dream_end is not None or self.t >= self.max_steps

    @property
    def score(self) -> int:
        """The dream's score: steps until M's done head ended it (CartPole pays 1 a step)."""
        return self.dream_end if self.dream_end is not None else self.t

    @property
    def real_score(self) -> int:
        return self.real_end if self.real_end is not None else self.t

    @torch.no_grad()
    def step(self, keys: Iterable[str] = ()) -> np.ndarray:
        """One push in both worlds: the keys' (left or right; a key must be held) or C's."""
        if self.done:
            return self.view()
        push = None if self.autopilot else cart_push(keys)
        if push is None and not self.autopilot:
            return self.view()  # CartPole has no "no push": wait for a key
        self._play(push)
        return self.view()

    def view(self) -> np.ndarray:
        """Reality (left, tinted red once the task's rule ended it) beside the dream (right)."""
        from .cartpole_plots import cartpole_image

        return _strip([cartpole_image(self.real, ended=self.real_end is not None),
                       cartpole_image(self.dreamed, ended=self.dream_end is not None)], gap=4)

    def status(self) -> dict[str, float | int | bool | str | None]:
        return {"step": self.t, "score": self.score, "real score": self.real_score, "P(done)": self.p_done,
                "done": self.done, "reality ended at": self.real_end, "rule on dreamed state at": self.rule_end,
                "tau": self.tau, "C drives": self.autopilot}

    def _c_move(self) -> int:
        self._need_c()
        f = self.z if self.features == "state" else torch.cat([self.z, self.state[0]], dim=-1)
        return int(controller.act(self.params, f.unsqueeze(0), self.config)[0, 0])

    @torch.no_grad()
    def _advance(self, push: int) -> None:
        from ..worldmodels import cartpole

        self.real = _cartpole_physics(self._physics, self.real, push)
        onehot = torch.nn.functional.one_hot(torch.tensor([push]), 2).float()
        out, self.state = self.model.m.step(self.z, onehot, self.state)
        self.z = mdn.sample(out.log_pi, out.mu, out.log_sigma, self._tau, self.generator)
        self.dreamed = self.model.decode(self.z)[0].numpy()
        self.p_done = float(torch.sigmoid(out.done_logit[0]))
        self.t += 1
        if self.real_end is None and bool(cartpole.done_rule(self.real)):
            self.real_end = self.t
        if self.rule_end is None and bool(cartpole.done_rule(self.dreamed)):
            self.rule_end = self.t
        if self.dream_end is None and self.p_done > 0.5:
            self.dream_end = self.t


class DoomDriver(DreamDriver):
    """The learner's seat in Take Cover's dream: step left, right or stay while M imagines the fireballs.

    vae, mdnrnn: the shipped Take Cover V and M (M needs its done head; it has no reward head: a step survived is
    one point). start_z (N, z_size): V's codes of real first frames (wmcourse.experiments.takecover.
    load_shipped_models gives them); each reset starts the dream from the next one. params, config: a controller C
    for the "C drives" switch (optional; Take Cover's C reads [z, h, c]). The state after each step: t, score (the
    steps survived, the last one included), p_done, done, and the picture V decodes from the dreamed code.
    """

    def __init__(self, vae, mdnrnn, start_z, params: np.ndarray | None = None,
                 config: controller.ControllerConfig | None = None, tau: float = 1.15, seed: int = 0,
                 max_steps: int = 2100):
        c = mdnrnn.config
        start_z = torch.as_tensor(np.asarray(start_z), dtype=torch.float32)
        if start_z.ndim != 2 or start_z.shape[1] != c.z_size:
            raise ShapeError(f"Expected start codes of shape (N, {c.z_size}) (V's codes of real first frames), got "
                             f"{tuple(start_z.shape)}.")
        if vae.config.z_size != c.z_size:
            raise ShapeError(f"V makes codes of size {vae.config.z_size}, M reads {c.z_size}: pass the V that M was "
                             "trained with.")
        if not c.predict_done:
            raise SettingsError("Driving Take Cover's dream needs an M with a done head (it ends the game): train it "
                                "with --predict-done, or use the shipped M.")
        if params is not None:
            if config is None:
                raise SettingsError("Give the controller's config with its params "
                                    "(wmcourse.experiments.takecover.load_shipped_controller).")
            if config.input_size not in (c.z_size + c.hidden, c.z_size + 2 * c.hidden) or config.action_size != 1:
                raise ShapeError(f"This controller reads {config.input_size} numbers and makes {config.action_size} "
                                 f"actions; Take Cover's C reads [z, h, c] ({c.z_size + 2 * c.hidden}) or [z, h] "
                                 f"({c.z_size + c.hidden}) of this M and makes 1.")
        self.vae, self.mdnrnn, self.start_z, self.max_steps = vae.eval(), mdnrnn.eval(), start_z, max_steps
        self._seat(params, tau, seed)
        self.config = config
        self.include_cell = config is not None and config.input_size == c.z_size + 2 * c.hidden
        self.reset()

    @torch.no_grad()
    def reset(self) -> np.ndarray:
        """Start a new dream from the next real start code."""
        self.start = self._next_start(self.start_z)
        self.z = self.start.view(1, -1).clone()
        self.state = self.mdnrnn.initial_state(1)
        self.t, self.p_done, self.done = 0, 0.0, False
        self._frame = None
        return self.view()

    @property
    def score(self) -> int:
        """Steps survived in the dream (Take Cover pays one point a step, the last one included)."""
        return self.t

    def action(self, keys: Iterable[str] | str = ()) -> float:
        """What is done this step: C's move on [z, h, c] when C drives, else the keys' (doom_move)."""
        return self._c_move() if self.autopilot else doom_move(keys)

    @torch.no_grad()
    def step(self, keys: Iterable[str] | str = ()) -> np.ndarray:
        """One step with the keys held (left, right, or none: stay), or C's move; returns the picture. A dream that
        has ended stays as it is."""
        move = None if self.autopilot else doom_move(keys)  # a bad key is refused even after the end
        if self.done:
            return self.view()
        self._play(move)
        return self.view()

    @torch.no_grad()
    def play(self, keys: Iterable[str] | str = (), steps: int | None = None) -> int:
        """Hold `keys` (or let C play, when C drives) for `steps` steps, or until the dream ends (steps=None),
        without drawing the frames on the way (V's decoding is most of a step's time); returns the score."""
        move = None if self.autopilot else doom_move(keys)
        for _ in range(self.max_steps if steps is None else steps):
            if self.done:
                break
            self._play(move)
        return self.score

    @torch.no_grad()
    def view(self) -> np.ndarray:
        """The dreamed frame, as V decodes M's code (framed in red once M has ended the game)."""
        if self._frame is None:
            x = self.vae.decode(self.z)[0]
            frame = (x.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            if self.done:
                for edge in (np.s_[:2], np.s_[-2:], np.s_[:, :2], np.s_[:, -2:]):
                    frame[edge] = (220, 38, 38)
            self._frame = frame
        return self._frame

    def status(self) -> dict[str, float | int | bool | str]:
        return {"step": self.t, "score": self.score, "P(done)": self.p_done, "done": self.done, "tau": self.tau,
                "C drives": self.autopilot}

    def _c_move(self) -> float:
        self._need_c()
        parts = [self.z, self.state[0]] + ([self.state[1]] if self.include_cell else [])
        features = torch.cat(parts, dim=-1).view(1, 1, -1)
        return float(controller.act(self.params, features, self.config)[0, 0, 0])

    @torch.no_grad()
    def _advance(self, move: float) -> None:
        a = torch.tensor([[float(move)]], dtype=self.z.dtype)
        out, self.state = self.mdnrnn.step(self.z, a, self.state)
        self.z = mdn.sample(out.log_pi, out.mu, out.log_sigma, self._tau, self.generator)
        self.p_done = float(torch.sigmoid(out.done_logit[0]))
        self.t += 1
        self.done = self.p_done > 0.5 or self.t >= self.max_steps
        self._frame = None


def _cartpole_physics(env, state: np.ndarray, push: int) -> np.ndarray:
    """One step of CartPole-v1's own physics (gymnasium's CartPoleEnv.step, Euler) from any state, on an
    unwrapped env: it keeps running after the episode has ended, so a learner sees where the pole goes."""
    env.state = np.asarray(state, np.float64)
    env.steps_beyond_terminated = None  # we step past the end on purpose: no warning each time
    env.step(int(push))
    return np.asarray(env.state, np.float64).copy()


# --- how fast the drive runs (python -m wmcourse bench --drive) ----------------------------------------

def drive_frames_per_second(driver, steps: int = 200, keys: tuple[str, ...] = ("ArrowUp",), scale: int = 1,
                            threads: int | None = 1) -> float:
    """Frames a second of the drive-the-dream widget's work, without a browser: one step of the driver
    (wmcourse.lessons.drive: M's step and sample, V's decode; or the real game), then the picture encoded as the PNG
    the widget sends (wmcourse.lessons.animate.png_bytes; at its own size, the browser enlarges it), on `threads`
    torch threads as the widget runs it (None: torch's own choice). A finished episode is reset (not counted)."""
    from ..runtime import torch_threads

    with torch_threads(threads):
        return _drive_rate(driver, steps, keys, scale)


def _drive_rate(driver, steps: int, keys: tuple[str, ...], scale: int) -> float:
    from .animate import png_bytes

    driver.reset()
    for _ in range(5):  # warm-up: first calls allocate
        png_bytes(driver.step(keys), scale)
    done, start = 0, time.perf_counter()
    while done < steps:
        if driver.done:
            paused = time.perf_counter()
            driver.reset()
            start += time.perf_counter() - paused
        png_bytes(driver.step(keys), scale)
        done += 1
    return steps / (time.perf_counter() - start)


def drive_rates(steps: int = 200, threads: int | None = 1) -> dict[str, float]:
    """drive_frames_per_second for the shipped CarRacing V and M (dream, then the real game) and the shipped
    CartPole World Model, as notebooks 06 and 07 drive them."""
    from ..experiments import cartpole as cartpole_experiment
    from ..shipped import catalogue as shipped

    car = CarDriver(shipped.load_shipped_vae(), shipped.load_shipped_mdnrnn(), shipped.pick_heldout_frames(8))
    rates = {"CarRacing dream (M steps, V decodes)": drive_frames_per_second(car, steps, threads=threads)}
    car.set_world("real")
    rates["real CarRacing (the game steps, V encodes and decodes)"] = drive_frames_per_second(car, steps,
                                                                                            threads=threads)
    car.close()
    model, _, _, data = cartpole_experiment.load_shipped("failure")
    pole = CartPoleDriver(model, data.first_states[:16])
    rates["CartPole dream beside its real physics"] = drive_frames_per_second(pole, steps, ("ArrowLeft",),
                                                                              threads=threads)
    return rates
