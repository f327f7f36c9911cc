"""The World Models agent in the real environment: V sees, M remembers, C acts.

Each real step, for a batch of environment copies:

    z_t = mu(x_t)                      V encodes the preprocessed frame (the mean of q(z | x))
    a_t = C([z_t, h_t])                the controller acts on what it sees and what it remembers
    h_t+1 = LSTM(h_t, [z_t, a_t])      M updates its memory with what happened

This is the same loop as the dream (wmcourse.dream), except that z_t+1 comes from the real next frame
instead of M's prediction. It follows evaluate.Policy, so evaluate.evaluate scores it over many episodes.
"""

from __future__ import annotations

import numpy as np
import torch

from . import controller
from .envs import frames_to_tensor, preprocess_frames
from .mdnrnn import MDNRNN, EncodedEpisodes
from .vae import ConvVAE


class WorldModelAgent:
    def __init__(self, vae: ConvVAE, mdnrnn: MDNRNN, params: np.ndarray, config: controller.ControllerConfig):
        expected = mdnrnn.config.z_size + mdnrnn.config.hidden
        if config.input_size != expected:
            raise ValueError(f"The controller reads [z, h] of size {expected} for this V and M, "
                             f"but its config says input_size={config.input_size}.")
        self.vae, self.mdnrnn, self.config = vae.eval(), mdnrnn.eval(), config
        self.params = torch.as_tensor(np.asarray(params), dtype=torch.float32).view(1, -1)
        self.state: tuple[torch.Tensor, torch.Tensor] | None = None

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        z, _ = self.vae.encode(frames_to_tensor(preprocess_frames(obs)))
        if self.state is None or self.state[0].shape[0] != len(z):
            self.state = self.mdnrnn.initial_state(len(z))
        features = torch.cat([z, self.state[0]], dim=-1)
        actions = controller.act(self.params, features.unsqueeze(0), self.config)[0]
        _, self.state = self.mdnrnn.step(z, actions.float(), self.state)
        return actions.numpy()

    def reset(self, done: np.ndarray) -> None:
        if self.state is not None:
            mask = torch.as_tensor(np.asarray(done), dtype=torch.bool)
            self.state = tuple(s.masked_fill(mask.unsqueeze(1), 0.0) for s in self.state)


def start_latents(data: EncodedEpisodes) -> torch.Tensor:
    """The latent of each episode's first real frame: where dreams begin."""
    firsts = torch.cumsum(data.lengths + 1, 0) - (data.lengths + 1)
    return data.mu[firsts]
