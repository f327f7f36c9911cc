"""Environments and preprocessing: the real worlds that the course learns models of.

CarRacing-v3 gives 96x96x3 frames; as in the paper's code we keep the top 84 rows (the dashboard below
is dropped) and resize to 64x64x3. CartPole-v1 gives a 4-number state (and a rendered frame on request).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F

from .errors import ShapeError, UnknownEnvironmentError

SUPPORTED_ENVS: dict[str, str] = {
    "CarRacing-v3": "pixels: 96x96x3 frames, 3 continuous actions (steer, gas, brake)",
    "CartPole-v1": "state: 4 numbers (cart position, velocity, pole angle, angular velocity), 2 actions",
}
RAW_FRAME_SHAPE = (96, 96, 3)
CROP_ROWS = 84
FRAME_SIZE = 64


def check_env_id(env_id: str) -> str:
    """Return env_id if the course supports it, else raise an error that lists the ones it does."""
    if env_id not in SUPPORTED_ENVS:
        known = ", ".join(repr(k) for k in SUPPORTED_ENVS)
        hint = next((k for k in SUPPORTED_ENVS if k.lower() == str(env_id).lower()), None)
        extra = f" Did you mean {hint!r}? Ids are case-sensitive." if hint else ""
        raise UnknownEnvironmentError(f"Unknown environment id {env_id!r}: the course supports {known}.{extra}")
    return env_id


def make_env(env_id: str, render_mode: str | None = None, **kwargs) -> gym.Env:
    """Make one real environment by its gymnasium id (see SUPPORTED_ENVS)."""
    return gym.make(check_env_id(env_id), render_mode=render_mode, **kwargs)


def make_vector_env(env_id: str, num_envs: int, asynchronous: bool | None = None) -> gym.vector.VectorEnv:
    """Several copies of a real environment stepped together.

    CarRacing is slow (Box2D physics and rendering each frame), so its copies run in worker processes;
    CartPole is so cheap that processes would cost more than they save.
    An episode that ends is reset within the same step (its last observation is in info["final_obs"]).
    """
    check_env_id(env_id)
    if num_envs < 1:
        raise ValueError(f"num_envs must be at least 1, got {num_envs}.")
    if asynchronous is None:
        asynchronous = env_id == "CarRacing-v3" and num_envs > 1
    return gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="async" if asynchronous else "sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
    )


def preprocess_frames(frames: np.ndarray) -> np.ndarray:
    """Crop CarRacing frames to their top 84 rows and resize to 64x64 (bilinear): uint8 (..., 96, 96, 3) -> uint8 (..., 64, 64, 3).

    One frame or a batch of any leading shape; the result stays uint8 so it stores compactly.
    """
    frames = np.asarray(frames)
    if frames.shape[-3:] != RAW_FRAME_SHAPE or frames.dtype != np.uint8:
        raise ShapeError(
            f"Expected CarRacing frames of shape (..., 96, 96, 3) and dtype uint8 (what env.step returns), "
            f"got shape {frames.shape} and dtype {frames.dtype}. Frames that are already 64x64 need no preprocessing."
        )
    lead = frames.shape[:-3]
    x = torch.from_numpy(frames.reshape(-1, *RAW_FRAME_SHAPE)[:, :CROP_ROWS]).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(FRAME_SIZE, FRAME_SIZE), mode="bilinear", antialias=True, align_corners=False)
    out = x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return out.reshape(*lead, FRAME_SIZE, FRAME_SIZE, 3)


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 frames (N, 64, 64, 3) -> float tensor (N, 3, 64, 64) in [0, 1], the VAE's input."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[1:] != (FRAME_SIZE, FRAME_SIZE, 3):
        raise ShapeError(
            f"Expected preprocessed frames of shape (N, 64, 64, 3), got {frames.shape}. "
            "Raw 96x96 CarRacing frames go through wmcourse.envs.preprocess_frames first; a single frame needs frame[None]."
        )
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(255.0)
