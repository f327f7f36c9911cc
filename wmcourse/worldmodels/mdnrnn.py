"""The MDN-RNN, M: an LSTM that remembers, and a mixture density head that predicts the next latent.

    h_{t+1}, c_{t+1} = LSTM([z_t, a_t], (h_t, c_t))
    p(z_{t+1} | z_t, a_t, h_t) = prod_d sum_k pi_dk N(z_{t+1,d}; mu_dk, sigma_dk^2), read from h_{t+1}
                                                                       (5 Gaussians per dimension)
    r_t = w_r . h_{t+1} + b_r                 (optional reward head, squared error; not in the paper)
    P(done_t) = sigmoid(w_d . h_{t+1} + b_d)  (optional done head, cross-entropy; done steps weigh x10, as Doom's)

Time indices: the controller reads h_t, the memory BEFORE it acts (a_t = C([z_t, h_t])); M then reads
[z_t, a_t] and its new memory h_{t+1} predicts z_{t+1}. No model in the paper had a reward head: its CarRacing
M predicted z only, its VizDoom M z and done. The course's CarRacing M adds a reward head so that a controller
can be evolved entirely in the dream (notebooks 04 and 06).

Parameter count. With z = 32, a = 3, hidden = 256, K = 5 and no reward or done head this model has
423,392 parameters; the paper reports 422,368 for CarRacing. The difference, 1,024 = 4 gates x 256, is one
bias vector: PyTorch's nn.LSTM keeps two (b_ih and b_hh) that only ever appear as their sum, where the
original TensorFlow cell (LayerNormBasicLSTMCell without layer norm) keeps one. Everything else agrees:
LSTM weights 4 * 256 * (35 + 256) = 297,984, biases 1,024 (TF) or 2,048 (PyTorch), and the output layer
256 * 480 + 480 = 123,360 (480 = 32 dimensions x 5 components x 3 numbers). `paper_parameter_count`
gives the TF count of any configuration.

M trains on encoded latents (wmcourse.worldmodels.latents, where the data format is described) with
wmcourse.worldmodels.train_mdnrnn; what it has learned is measured in wmcourse.worldmodels.probes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checkpoint import count_parameters, load_torch, save_torch
from ..errors import SettingsError, ShapeError
from . import mdn

if TYPE_CHECKING:
    from .latents import SequenceBatch

State = tuple[Tensor, Tensor]  # (h, c), each (B, hidden)
Masks = tuple[Tensor, Tensor]  # dropout masks of M's input [z, a] (B, Z + A) and of the heads' input h (B, hidden)
FORMAT = "wmcourse.mdnrnn/1"
TRAIN_COMMAND = "python -m wmcourse train-mdnrnn --data runs/CarRacing-v3/encoded --out {path}"


@dataclass
class MDNRNNConfig:
    """The MDN-RNN and its training, with the paper's CarRacing values as defaults.

    For Doom the paper used z_size=64, action_size=1, hidden=512, predict_done=True (done_weight=10).
    """

    z_size: int = 32
    action_size: int = 3
    hidden: int = 256
    K: int = 5                    # Gaussians per latent dimension
    lr: float = 1e-3
    grad_clip: float = 1.0        # every gradient element clipped to [-grad_clip, grad_clip]
    batch_size: int = 100
    seq_len: int = 1000           # steps per training window (the paper: whole 1000-step episodes)
    predict_reward: bool = False  # CarRacing: no (only the controller saw rewards)
    predict_done: bool = False    # Doom: yes
    done_weight: float = 10.0     # weight of the done = 1 steps in the done loss (the authors' code's restart_factor)
    reward_weight: float = 1.0
    reward_smoothing: int = 1     # reward target: the mean of the next k real rewards (1: the raw reward)
    dropout: float = 0.0          # a variant of Dropout's Dream Land: drop M's inputs [z, a] and what its heads
    #                               read (h), one mask a sequence (and a dream); DDL masks z and the recurrent h


class MDNRNNOutput(NamedTuple):
    """What M predicts per step: the mixture over z_{t+1} (..., Z, K) and, if asked, r_t and the done logit (...)."""

    log_pi: Tensor
    mu: Tensor
    log_sigma: Tensor
    reward: Tensor | None = None
    done_logit: Tensor | None = None


class MDNRNN(nn.Module):
    """LSTM over [z_t, a_t], a MixtureHead for z_{t+1}, and optional reward and done heads, all on h_{t+1}."""

    def __init__(self, config: MDNRNNConfig | None = None):
        super().__init__()
        self.config = c = config or MDNRNNConfig()
        if not 0.0 <= c.dropout < 1.0:
            raise SettingsError(f"MDNRNNConfig.dropout is the probability of dropping a unit: expected a number in "
                                f"[0, 1), got {c.dropout}.")
        self.lstm = nn.LSTM(c.z_size + c.action_size, c.hidden, batch_first=True)
        self.mdn = mdn.MixtureHead(c.hidden, c.z_size, c.K)
        self.reward_head = nn.Linear(c.hidden, 1) if c.predict_reward else None
        self.done_head = nn.Linear(c.hidden, 1) if c.predict_done else None

    def initial_state(self, batch_size: int, device: torch.device | str | None = None) -> State:
        """Zeros: the memory at the start of an episode."""
        device = device or self.lstm.weight_ih_l0.device
        h = torch.zeros(batch_size, self.config.hidden, device=device)
        return h, torch.zeros_like(h)

    def heads(self, h: Tensor) -> MDNRNNOutput:
        """The predictions read from hidden states h (..., hidden)."""
        log_pi, mu, log_sigma = self.mdn(h)
        reward = self.reward_head(h).squeeze(-1) if self.reward_head is not None else None
        done = self.done_head(h).squeeze(-1) if self.done_head is not None else None
        return MDNRNNOutput(log_pi, mu, log_sigma, reward, done)

    def dropout_masks(self, batch: int, generator: torch.Generator | None = None,
                      device: torch.device | str | None = None) -> Masks:
        """One dropout mask per sequence (or per dream) for M's input [z, a] and for what its heads read (h): a
        variant of Wellmer & Kwok's "Dropout's Dream Land" (2021), which masks z (not the action) and the recurrent
        h that feeds back into the LSTM. Each unit is kept with probability 1 - p and then scaled by 1 / (1 - p),

            mask = Bernoulli(1 - p) / (1 - p),   so E[mask] = 1.

        The same mask holds for every step of the sequence, so a dream under one mask is one sub-network of M.
        The memory the controller reads (h, c) is never masked."""
        c = self.config
        device = device or self.lstm.weight_ih_l0.device
        keep = 1.0 - c.dropout

        def draw(size: int) -> Tensor:
            return torch.bernoulli(torch.full((batch, size), keep, device=device), generator=generator) / keep
        return draw(c.z_size + c.action_size), draw(c.hidden)

    def forward(self, z: Tensor, actions: Tensor, state: State | None = None,
                masks: Masks | None = None) -> tuple[MDNRNNOutput, State]:
        """Run over whole sequences: z (B, T, Z) and actions (B, T, A) -> predictions for every step, final state.

        masks (dropout_masks) multiply M's input and the heads' input at every step; in training mode an M with
        dropout draws fresh ones for each sequence of the batch. The final state is never masked."""
        c = self.config
        if z.ndim != 3 or actions.ndim != 3 or z.shape[:2] != actions.shape[:2] \
                or z.shape[-1] != c.z_size or actions.shape[-1] != c.action_size:
            raise ShapeError(
                f"Expected z of shape (B, T, {c.z_size}) and actions of shape (B, T, {c.action_size}), got "
                f"{tuple(z.shape)} and {tuple(actions.shape)}. One step of a batch goes through step(); "
                "discrete actions must be one-hot."
            )
        if masks is None and self.training and c.dropout > 0:
            masks = self.dropout_masks(z.shape[0], device=z.device)
        inputs = torch.cat([z, actions], dim=-1)
        if masks is not None:
            inputs = inputs * masks[0].unsqueeze(1)
        hx = None if state is None else (state[0].unsqueeze(0), state[1].unsqueeze(0))
        hs, (h, cell) = self.lstm(inputs, hx)
        return self.heads(hs if masks is None else hs * masks[1].unsqueeze(1)), (h.squeeze(0), cell.squeeze(0))

    def step(self, z: Tensor, action: Tensor, state: State | None = None,
             masks: Masks | None = None) -> tuple[MDNRNNOutput, State]:
        """One step for a batch of dreams: z (B, Z), action (B, A), state (h, c) each (B, hidden), and each
        dream's dropout masks (dropout_masks) if it dreams under one.

        The batch can be a whole CMA-ES population times its rollouts: one LSTM call steps them all.
        """
        if z.ndim != 2 or action.ndim != 2:
            raise ShapeError(f"step() takes one step of a batch: z (B, Z) and action (B, A), "
                             f"got {tuple(z.shape)} and {tuple(action.shape)}.")
        out, state = self.forward(z.unsqueeze(1), action.unsqueeze(1), state, masks)
        return MDNRNNOutput(*(None if t is None else t.squeeze(1) for t in out)), state

    def loss(self, batch: SequenceBatch) -> dict[str, Tensor]:
        """The loss terms on a batch of windows, each a mean over the unmasked steps.

            z_nll      = mean NLL per latent dimension of z_{t+1} under the mixture (mdn.mdn_log_prob)
            reward_mse = (r_hat_t - r_t)^2                                    (if predict_reward)
            done_bce   = -[w d_t log p_t + (1 - d_t) log(1 - p_t)], w = done_weight  (if predict_done)
            loss       = z_nll + reward_weight * reward_mse + done_bce
        """
        c = self.config
        out, _ = self(batch.z, batch.actions)
        mask = batch.mask
        n = mask.sum().clamp(min=1)

        def masked_mean(x: Tensor) -> Tensor:  # where(), not a product: a NaN in padding cannot leak in
            return torch.where(mask, x, torch.zeros_like(x)).sum() / n

        nll = -mdn.mdn_log_prob(out.log_pi, out.mu, out.log_sigma, batch.next_z).mean(dim=-1)
        terms = {"z_nll": masked_mean(nll)}
        total = terms["z_nll"]
        if out.reward is not None:
            terms["reward_mse"] = masked_mean((out.reward - batch.rewards) ** 2)
            total = total + c.reward_weight * terms["reward_mse"]
        if out.done_logit is not None:
            weight = torch.tensor(c.done_weight, device=batch.dones.device)
            bce = F.binary_cross_entropy_with_logits(out.done_logit, batch.dones, pos_weight=weight, reduction="none")
            terms["done_bce"] = masked_mean(bce)
            total = total + terms["done_bce"]
        terms["loss"] = total
        return terms


def paper_parameter_count(config: MDNRNNConfig) -> int:
    """What the original TensorFlow code would count for this configuration: one LSTM bias, not two.

        4 H (Z + A + H) + 4 H  +  (H + 1) 3 Z K  [+ (H + 1) per reward / done head]
    """
    H, inputs = config.hidden, config.z_size + config.action_size
    heads = int(config.predict_reward) + int(config.predict_done)
    return 4 * H * (inputs + H) + 4 * H + (H + 1) * 3 * config.z_size * config.K + (H + 1) * heads


def parameter_breakdown(model: MDNRNN) -> dict[str, int]:
    """Trainable numbers by part: LSTM weights, LSTM biases (two vectors in PyTorch), mixture head, extra heads."""
    parts = {
        "LSTM weights": model.lstm.weight_ih_l0.numel() + model.lstm.weight_hh_l0.numel(),
        "LSTM biases (b_ih + b_hh)": model.lstm.bias_ih_l0.numel() + model.lstm.bias_hh_l0.numel(),
        "mixture head": count_parameters(model.mdn),
    }
    if model.reward_head is not None:
        parts["reward head"] = count_parameters(model.reward_head)
    if model.done_head is not None:
        parts["done head"] = count_parameters(model.done_head)
    return parts


# --- saving and loading ------------------------------------------------------------------------------------

def save_mdnrnn(model: MDNRNN, path: str | Path, **extra: object) -> Path:
    """Save config and weights (plus any extras, e.g. optimizer state and history) to a .pt file, atomically."""
    return save_torch(path, FORMAT, model.config, model=model.state_dict(), **extra)


def read_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> dict:
    """The raw checkpoint save_mdnrnn wrote: {"format", "config", "model", and any extras (history, seed, ...)}."""
    return load_torch(path, FORMAT, TRAIN_COMMAND.format(path=path), device, kind="MDN-RNN")


def load_mdnrnn(path: str | Path, device: torch.device | str = "cpu") -> MDNRNN:
    """Load a model saved by save_mdnrnn (or a training checkpoint), in eval mode."""
    ckpt = read_checkpoint(path, device)
    model = MDNRNN(MDNRNNConfig(**ckpt["config"])).to(device)
    model.load_state_dict(ckpt["model"])
    return model.eval()
