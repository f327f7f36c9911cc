"""Environments and preprocessing: the real worlds that the course learns models of.

CarRacing-v3 gives 96x96x3 frames; as in the authors' code we keep the top 84 rows (the dashboard below
is dropped) and resize to 64x64x3. CartPole-v1 gives a 4-number state (and a rendered frame on request).
CarRacing is built as QuickRoadCarRacing (wmcourse.real.quick_road): the game's own frames, pixel for pixel, at
less than half the cost of a step; `as_shipped=True` gives gymnasium's class itself.
VizdoomTakeCover-v1 (the `vizdoom` package) gives 240x320x3 screens with no status bar drawn (its config sets
render_hud false), resized whole to 64x64x3; the authors' Doom code cropped the screen before resizing. The
paper's game ran at a harder skill level than vizdoom's default configuration, which the course uses. The course wraps
it so that it looks like the paper's: the observation is the screen alone, the action is one number a in [-1, 1] read in
thirds (a < -1/3: move left, a > 1/3: move right, else stay), and an episode is cut at 2,100 steps (the paper's limit;
the game itself has none). The reward is +1 for every step survived.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import threading
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F

from ..errors import SettingsError, ShapeError, UnknownEnvironmentError

SUPPORTED_ENVS: dict[str, str] = {
    "CarRacing-v3": "pixels: 96x96x3 frames, 3 continuous actions (steer, gas, brake)",
    "CartPole-v1": "state: 4 numbers (cart position, velocity, pole angle, angular velocity), 2 actions",
    "VizdoomTakeCover-v1": "pixels: 240x320x3 screens, 1 action in [-1, 1] read in thirds (left, stay, right)",
}
RAW_FRAME_SHAPE = (96, 96, 3)
CROP_ROWS = 84
FRAME_SIZE = 64
TAKE_COVER = "VizdoomTakeCover-v1"
DOOM_FRAME_SHAPE = (240, 320, 3)
TAKE_COVER_MAX_STEPS = 2100  # the paper's cap on an episode (its "solved" threshold is 750 steps survived)
# vizdoom's Discrete(3) for Take Cover: every combination of MOVE_LEFT, MOVE_RIGHT with at most one pressed,
# in the order (none, right, left); the course's thirds (left, stay, right) map onto these indices.
TAKE_COVER_BUTTONS = {-1: 2, 0: 0, 1: 1}
# vizdoom's engine writes its settings file (_vizdoom.ini) and a folder of its own (_vizdoom/) into the folder it
# starts in; the course starts it in this cache folder instead, so nothing appears beside the learner's notebooks
VIZDOOM_HOME_ENV = "WMCOURSE_VIZDOOM_HOME"
_CHDIR_LOCK = threading.Lock()


def vizdoom_home() -> Path:
    """The folder vizdoom's engine starts in and writes its files to: $WMCOURSE_VIZDOOM_HOME, else
    $XDG_CACHE_HOME/wmcourse/vizdoom (~/.cache/wmcourse/vizdoom). Created on first use."""
    folder = os.environ.get(VIZDOOM_HOME_ENV)
    if not folder:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        folder = Path(cache) / "wmcourse" / "vizdoom"
    folder = Path(folder).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def in_vizdoom_home():
    """Run the block with vizdoom_home() as the working folder, then return to the one before. The engine is a
    process that vizdoom starts when its game is first reset (DoomGame.init) and it keeps the folder it started in,
    so only that start needs the change. The working folder belongs to the whole Python process: a lock keeps two
    starts from interleaving."""
    with _CHDIR_LOCK:
        here = os.getcwd()
        os.chdir(vizdoom_home())
        try:
            yield
        finally:
            os.chdir(here)


def thirds(a: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """One number per step in [-1, 1] -> -1 (left), 0 (stay) or +1 (right), by thirds of the range:

        thirds(a) = -1 if a < -1/3,  +1 if a > 1/3,  else 0
    """
    if isinstance(a, torch.Tensor):
        return (a > 1 / 3).to(a.dtype) - (a < -1 / 3).to(a.dtype)
    a = np.asarray(a, np.float32)
    return ((a > 1 / 3).astype(np.float32) - (a < -1 / 3).astype(np.float32))


class TakeCoverWrapper(gym.Wrapper):
    """vizdoom's Take Cover as the paper saw it: the screen alone, one action in [-1, 1] read in thirds."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.observation_space = env.observation_space["screen"]
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, **kwargs):
        game = getattr(self.env.unwrapped, "game", None)
        if game is not None and not game.is_running():  # the first reset starts vizdoom's engine: in its own folder
            with in_vizdoom_home():
                obs, info = self.env.reset(**kwargs)
        else:
            obs, info = self.env.reset(**kwargs)
        return obs["screen"], info

    def step(self, action):
        button = TAKE_COVER_BUTTONS[int(thirds(np.asarray(action, np.float32).reshape(-1)[0]))]
        obs, reward, terminated, truncated, info = self.env.step(button)
        return obs["screen"], reward, terminated, truncated, info


def make_take_cover(render_mode: str | None = None, max_steps: int = TAKE_COVER_MAX_STEPS) -> gym.Env:
    """The real VizDoom Take Cover (needs `pip install vizdoom`), wrapped as TakeCoverWrapper and cut at max_steps."""
    try:
        import vizdoom.gymnasium_wrapper  # noqa: F401  (registers the Vizdoom* ids with gymnasium)
    except ImportError as e:
        raise UnknownEnvironmentError("VizdoomTakeCover-v1 needs the vizdoom package: pip install -r requirements.txt "
                                      "(it pins vizdoom).") from e
    # the engine's settings file in the course's cache folder, not in the working folder (see in_vizdoom_home)
    env = gym.make(TAKE_COVER, render_mode=render_mode, doom_config_path=str(vizdoom_home() / "_vizdoom.ini"))
    return gym.wrappers.TimeLimit(TakeCoverWrapper(env), max_episode_steps=max_steps)


def check_env_id(env_id: str) -> str:
    """Return env_id if the course supports it, else raise an error that lists the ones it does."""
    if env_id not in SUPPORTED_ENVS:
        known = ", ".join(repr(k) for k in SUPPORTED_ENVS)
        hint = next((k for k in SUPPORTED_ENVS if k.lower() == str(env_id).lower()), None)
        extra = f" Did you mean {hint!r}? Ids are case-sensitive." if hint else ""
        raise UnknownEnvironmentError(f"Unknown environment id {env_id!r}: the course supports {known}.{extra}")
    return env_id


def spec(env_id: str, as_shipped: bool = False) -> gym.envs.registration.EnvSpec:
    """The gymnasium spec the course makes `env_id` from: CarRacing's builds QuickRoadCarRacing (the same frames,
    drawn faster) unless as_shipped; its id, time limit and wrappers are gymnasium's."""
    registered = gym.spec(check_env_id(env_id))
    if env_id == "CarRacing-v3" and not as_shipped:
        # by name, so Box2D and pygame load with the first CarRacing, as gymnasium's own entry point does
        return dataclasses.replace(registered, entry_point="wmcourse.real.quick_road:QuickRoadCarRacing")
    return registered


def make_env(env_id: str, render_mode: str | None = None, as_shipped: bool = False, **kwargs) -> gym.Env:
    """Make one real environment by its gymnasium id (see SUPPORTED_ENVS); as_shipped: CarRacing as gymnasium
    draws it (the same frames, twice the cost; see spec)."""
    if check_env_id(env_id) == TAKE_COVER:
        return make_take_cover(render_mode, **kwargs)
    return gym.make(spec(env_id, as_shipped), render_mode=render_mode, **kwargs)


def make_vector_env(env_id: str, num_envs: int, asynchronous: bool | None = None,
                    max_steps: int | None = None) -> gym.vector.VectorEnv:
    """Several copies of a real environment stepped together.

    CarRacing is slow (Box2D physics and rendering each frame), so its copies run in worker processes;
    CartPole is so cheap that processes would cost more than they save.
    An episode that ends is reset within the same step (its last observation is in info["final_obs"]).
    max_steps cuts every episode there (truncated, as the game's own limit does; None: the game's limit).
    """
    check_env_id(env_id)
    if num_envs < 1:
        raise SettingsError(f"num_envs must be at least 1, got {num_envs}.")
    if asynchronous is None:
        asynchronous = env_id == "CarRacing-v3" and num_envs > 1
    if max_steps is not None and max_steps < 1:
        raise SettingsError(f"max_steps must be at least 1 (or None: the game's own limit), got {max_steps}.")
    if env_id == TAKE_COVER:  # not a plain gymnasium id: each copy is built by make_take_cover
        kind = gym.vector.AsyncVectorEnv if asynchronous else gym.vector.SyncVectorEnv
        make = functools.partial(make_take_cover, max_steps=max_steps or TAKE_COVER_MAX_STEPS)
        return kind([make] * num_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    return gym.make_vec(
        spec(env_id),
        num_envs=num_envs,
        vectorization_mode="async" if asynchronous else "sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        **({} if max_steps is None else {"max_episode_steps": max_steps}),
    )


def preprocess_frames(frames: np.ndarray) -> np.ndarray:
    """Crop CarRacing frames to their top 84 rows and resize to 64x64 (bilinear):
    uint8 (..., 96, 96, 3) -> uint8 (..., 64, 64, 3). Take Cover screens (..., 240, 320, 3) are resized whole (the
    authors' Doom code cropped them first).

    One frame or a batch of any leading shape; the result stays uint8 so it stores compactly.
    """
    frames = np.asarray(frames)
    shape = frames.shape[-3:]
    if shape not in (RAW_FRAME_SHAPE, DOOM_FRAME_SHAPE) or frames.dtype != np.uint8:
        raise ShapeError(
            "Expected CarRacing frames of shape (..., 96, 96, 3) or Take Cover screens (..., 240, 320, 3), dtype "
            f"uint8 (what env.step returns), got shape {frames.shape} and dtype {frames.dtype}. "
            "Frames that are already 64x64 need no preprocessing."
        )
    lead = frames.shape[:-3]
    rows = CROP_ROWS if shape == RAW_FRAME_SHAPE else shape[0]
    x = torch.from_numpy(frames.reshape(-1, *shape)[:, :rows]).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(FRAME_SIZE, FRAME_SIZE), mode="bilinear", antialias=True, align_corners=False)
    out = x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return out.reshape(*lead, FRAME_SIZE, FRAME_SIZE, 3)


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 frames (N, 64, 64, 3) -> float tensor (N, 3, 64, 64) in [0, 1], the VAE's input."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[1:] != (FRAME_SIZE, FRAME_SIZE, 3):
        raise ShapeError(
            f"Expected preprocessed frames of shape (N, 64, 64, 3), got {frames.shape}. "
            "Raw 96x96 CarRacing frames go through wmcourse.real.envs.preprocess_frames first; "
            "a single frame needs frame[None]."
        )
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(255.0)
