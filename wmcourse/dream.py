"""The dream: the MDN-RNN used as an environment, with no real physics or pixels.

One dream step, for a batch of B dreams at once:

    features_t = [z_t, h_t]                       what the controller sees
    a_t        = C(features_t)
    M reads (z_t, a_t), makes (h_{t+1}, c_{t+1}), and from h_{t+1} predicts r_t, done_t and a mixture over z_{t+1}
    z_{t+1}    ~ mixture with temperature tau    (mdn.sample)

A dream starts from the latent z_0 of a real frame (a pool of real start latents) and a zero memory.
It ends when M's done head says so (probability above 0.5, as the paper thresholded Doom's done) or at
max_steps. `BatchedDream` steps a whole CMA-ES population times its rollouts in one tensor;
`DreamEnv` wraps a single dream as a `gymnasium.Env`, so anything that runs on a real env runs on it.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from . import controller, mdn
from .errors import ShapeError
from .mdnrnn import MDNRNN


class BatchedDream:
    """B dreams stepped together through one MDN-RNN."""

    def __init__(self, model: MDNRNN, start_z: Tensor, tau: float = 1.0, max_steps: int = 1000,
                 generator: torch.Generator | None = None):
        c = model.config
        if start_z.ndim != 2 or start_z.shape[1] != c.z_size:
            raise ShapeError(f"Expected a pool of start latents of shape (N, {c.z_size}), got {tuple(start_z.shape)}.")
        if not (c.predict_reward and c.predict_done):
            raise ValueError("A dream needs an MDN-RNN with reward and done heads: train it with "
                             "--predict-reward --predict-done.")
        self.model, self.start_z, self.tau, self.max_steps = model.eval(), start_z, tau, max_steps
        self.generator = generator

    @property
    def feature_size(self) -> int:
        return self.model.config.z_size + self.model.config.hidden

    @torch.no_grad()
    def reset(self, batch: int) -> Tensor:
        """Start `batch` dreams from random real start latents; return their features (batch, z + hidden)."""
        pick = torch.randint(len(self.start_z), (batch,), generator=self.generator, device=self.start_z.device)
        self.z = self.start_z[pick]
        self.state = self.model.initial_state(batch, self.z.device)
        self.t = 0
        return self.features()

    def features(self) -> Tensor:
        return torch.cat([self.z, self.state[0]], dim=-1)

    @torch.no_grad()
    def step(self, actions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Advance every dream one step: actions (B, A) -> features (B, z + hidden), reward (B,), done (B,)."""
        out, self.state = self.model.step(self.z, actions.to(self.z.dtype), self.state)
        self.z = mdn.sample(out.log_pi, out.mu, out.log_sigma, self.tau, self.generator)
        self.t += 1
        done = torch.sigmoid(out.done_logit) > 0.5
        if self.t >= self.max_steps:
            done = torch.ones_like(done)
        return self.features(), out.reward, done


@torch.no_grad()
def rollout_returns(dream: BatchedDream, params: Tensor, config: controller.ControllerConfig,
                    rollouts: int) -> Tensor:
    """Dream return of each of P candidate controllers in each of `rollouts` dreams: (P, n) -> (P, rollouts).

    All P x rollouts dreams run as one batch; a dream that has ended stops earning reward.
    """
    population = params.shape[0]
    features = dream.reset(population * rollouts)
    total = torch.zeros(population * rollouts, device=features.device)
    alive = torch.ones_like(total, dtype=torch.bool)
    for _ in range(dream.max_steps):
        actions = controller.act(params, features.view(population, rollouts, -1), config)
        features, reward, done = dream.step(actions.reshape(population * rollouts, -1))
        total += torch.where(alive, reward, torch.zeros_like(reward))
        alive &= ~done
        if not alive.any():
            break
    return total.view(population, rollouts)


def population_returns(dream: BatchedDream, params: Tensor, config: controller.ControllerConfig,
                       rollouts: int) -> Tensor:
    """Mean dream return of each of P candidate controllers over `rollouts` dreams each: (P, n) -> (P,)."""
    return rollout_returns(dream, params, config, rollouts).mean(dim=1)


class DreamEnv(gym.Env):
    """One dream as a gymnasium environment: observation [z, h], CarRacing's action space, M's reward and done."""

    metadata = {"render_modes": []}

    def __init__(self, model: MDNRNN, start_z: Tensor, tau: float = 1.0, max_steps: int = 1000,
                 action_space: gym.spaces.Box | None = None):
        self.dream = BatchedDream(model, start_z, tau, max_steps, torch.Generator().manual_seed(0))
        n = self.dream.feature_size
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (n,), np.float32)
        self.action_space = action_space or gym.spaces.Box(np.array([-1, 0, 0], np.float32),
                                                           np.array([1, 1, 1], np.float32))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.dream.generator.manual_seed(seed)
        return self.dream.reset(1)[0].numpy().astype(np.float32), {}

    def step(self, action):
        action = torch.as_tensor(np.asarray(action, np.float32)).view(1, -1)
        features, reward, done = self.dream.step(action)
        truncated = bool(done[0]) and self.dream.t >= self.dream.max_steps
        return features[0].numpy().astype(np.float32), float(reward[0]), bool(done[0]) and not truncated, truncated, {}
