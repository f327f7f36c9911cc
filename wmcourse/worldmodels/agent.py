"""The World Models agent in the real environment: V sees, M remembers, C acts.

Each real step, for a batch of environment copies:

    z_t = mu(x_t)                      V encodes the preprocessed frame (the mean of q(z | x))
    a_t = C([z_t, h_t])                the controller acts on what it sees and what it remembers
    h_t+1 = LSTM(h_t, [z_t, a_t])      M updates its memory with what happened

This is the same loop as the dream (wmcourse.worldmodels.dream), except that z_t+1 comes from the real next frame
instead of M's prediction. It follows evaluate.Policy, so evaluate.evaluate scores it over many episodes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..errors import ModelMismatchError
from ..real.envs import frames_to_tensor, preprocess_frames
from . import controller
from .latents import EncodedEpisodes
from .mdnrnn import MDNRNN
from .vae import ConvVAE


def mismatch(vae: ConvVAE, mdnrnn: MDNRNN, config: controller.ControllerConfig,
             names: tuple[str, str, str] = ("V", "M", "the controller")) -> str | None:
    """A sentence saying why V, M and C cannot act together (each named by `names`), or None when they can:
    V's codes must be M's input, and C must read M's [z, h] (or [z, h, c]) and act with M's action size."""
    v, m, c = names
    z, hidden = mdnrnn.config.z_size, mdnrnn.config.hidden
    if vae.config.z_size != z:
        return (f"V {v} and M {m} were not trained together: V makes codes z of size {vae.config.z_size}, M reads "
                f"z of size {z}. Pass the V that M was trained on (the one that encoded M's data).")
    if config.input_size not in (z + hidden, z + 2 * hidden):
        return (f"{c} was not evolved with M {m}: it reads {config.input_size} numbers, M gives [z, h] of size "
                f"{z + hidden} (or [z, h, c] of size {z + 2 * hidden}). Pass the M it was evolved in.")
    if config.action_size != mdnrnn.config.action_size:
        return (f"{c} was not evolved with M {m}: it makes {config.action_size} action numbers, M reads "
                f"{mdnrnn.config.action_size}.")
    return None


class WorldModelAgent:
    def __init__(self, vae: ConvVAE, mdnrnn: MDNRNN, params: np.ndarray, config: controller.ControllerConfig):
        why = mismatch(vae, mdnrnn, config)
        if why:
            raise ModelMismatchError(why)
        # Take Cover's [z, h, c]
        self.include_cell = config.input_size == mdnrnn.config.z_size + 2 * mdnrnn.config.hidden
        self.vae, self.mdnrnn, self.config = vae.eval(), mdnrnn.eval(), config
        self.params = torch.as_tensor(np.asarray(params), dtype=torch.float32).view(1, -1)
        self.state: tuple[torch.Tensor, torch.Tensor] | None = None

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        z, _ = self.vae.encode(frames_to_tensor(preprocess_frames(obs)))
        if self.state is None or self.state[0].shape[0] != len(z):
            self.state = self.mdnrnn.initial_state(len(z))
        features = torch.cat([z, *self.state] if self.include_cell else [z, self.state[0]], dim=-1)
        actions = controller.act(self.params, features.unsqueeze(0), self.config)[0]
        _, self.state = self.mdnrnn.step(z, actions.float(), self.state)
        return actions.numpy()

    def reset(self, done: np.ndarray) -> None:
        if self.state is not None:
            mask = torch.as_tensor(np.asarray(done), dtype=torch.bool)
            self.state = tuple(s.masked_fill(mask.unsqueeze(1), 0.0) for s in self.state)


def load_agent(controller_path: str | Path, vae_path: str | Path, mdnrnn_path: str | Path) -> WorldModelAgent:
    """The controller saved at `controller_path` acting through the V and M saved at the other two paths; a V, M
    and C that were not made together are refused before anything runs, with a sentence naming the files."""
    from .mdnrnn import load_mdnrnn
    from .vae import load_vae

    params, config, _ = controller.load_controller(controller_path)
    v, m = load_vae(vae_path), load_mdnrnn(mdnrnn_path)
    why = mismatch(v, m, config, (str(vae_path), str(mdnrnn_path), f"The controller {controller_path}"))
    if why:
        raise ModelMismatchError(why)
    return WorldModelAgent(v, m, params, config)


def start_latents(data: EncodedEpisodes) -> torch.Tensor:
    """The latent of each episode's first real frame: where dreams begin."""
    firsts = torch.cumsum(data.lengths + 1, 0) - (data.lengths + 1)
    return data.mu[firsts]


@torch.no_grad()
def drive_real(wm: WorldModelAgent, seed: int, max_steps: int = 1000,
               env_id: str = "CarRacing-v3") -> dict[str, np.ndarray]:
    """One real episode (CarRacing unless env_id says otherwise) driven by the agent: the preprocessed frames it saw
    (T, 64, 64, 3) uint8, its codes z (T, Z), actions (T, A), rewards (T,), and M's predicted reward at each step (T,),
    read from the same memory the agent acts with (what the dream would have paid along this real drive)."""
    from ..real.envs import make_env

    env = make_env(env_id)
    obs, _ = env.reset(seed=seed)
    wm.state = None
    frames, codes, actions, rewards, predicted, done_prob = [], [], [], [], [], []
    for _ in range(max_steps):
        frame = preprocess_frames(obs[None])
        z, _ = wm.vae.encode(frames_to_tensor(frame))
        action = wm.act(obs[None])
        out = wm.mdnrnn.heads(wm.state[0])  # M's guess about the step just taken
        obs, reward, terminated, truncated, _ = env.step(action[0])
        frames.append(frame[0])
        codes.append(z[0].numpy())
        actions.append(action[0])
        rewards.append(reward)
        predicted.append(float(out.reward[0]) if out.reward is not None else np.nan)
        done_prob.append(float(torch.sigmoid(out.done_logit[0])) if out.done_logit is not None else np.nan)
        if terminated or truncated:
            break
    env.close()
    return {"frames": np.stack(frames), "z": np.stack(codes), "actions": np.stack(actions),
            "rewards": np.asarray(rewards, np.float32), "predicted_rewards": np.asarray(predicted, np.float32),
            "predicted_done": np.asarray(done_prob, np.float32)}


@torch.no_grad()
def drive_dream(mdnrnn: MDNRNN, params: np.ndarray, config: controller.ControllerConfig, z0: torch.Tensor,
                tau: float = 1.0, max_steps: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """One dream driven by the controller from the code z0 (Z,) of a real frame: the dream's codes (T + 1, Z),
    actions (T, A), M's rewards (T,) and done flags (T,). Decode the codes with V to see it."""
    from .dream import BatchedDream

    include_cell = config.input_size == mdnrnn.config.z_size + 2 * mdnrnn.config.hidden  # Take Cover's [z, h, c]
    world = BatchedDream(mdnrnn, z0.view(1, -1), tau=tau, max_steps=max_steps,
                         generator=torch.Generator().manual_seed(seed), include_cell=include_cell)
    p = torch.as_tensor(np.asarray(params), dtype=torch.float32).view(1, -1)
    features = world.reset(1)
    codes, actions, rewards, dones = [world.z[0].clone()], [], [], []
    for _ in range(max_steps):
        action = controller.act(p, features.view(1, 1, -1), config)[0]
        features, reward, done = world.step(action)
        codes.append(world.z[0].clone())
        actions.append(action[0])
        rewards.append(float(reward[0]))
        dones.append(bool(done[0]))
        if done[0]:
            break
    return {"z": torch.stack(codes).numpy(), "actions": torch.stack(actions).numpy(),
            "rewards": np.asarray(rewards, np.float32), "dones": np.asarray(dones)}


class NoisyPolicy:
    """Another policy's actions plus Gaussian noise, clipped to the action space: for collecting new data
    around what the current controller does (the paper's iterative training), not only exactly on it."""

    def __init__(self, policy, low: np.ndarray, high: np.ndarray, noise: float = 0.1, seed: int = 0,
                 snap: Callable[[np.ndarray], np.ndarray] | None = None):
        self.policy, self.low, self.high, self.noise, self.snap = policy, low, high, noise, snap
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """With `snap` (Take Cover: `envs.thirds`) the noisy action is stored as the game reads it."""
        actions = self.policy.act(obs)
        noisy = np.clip(actions + self.noise * self.rng.standard_normal(actions.shape), self.low, self.high)
        return (noisy if self.snap is None else self.snap(noisy)).astype(np.float32)

    def reset(self, done: np.ndarray) -> None:
        self.policy.reset(done)
