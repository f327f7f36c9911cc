"""The MDN-RNN, M: an LSTM that remembers, and a mixture density head that predicts the next latent.

    h_{t+1}, c_{t+1} = LSTM([z_t, a_t], (h_t, c_t))
    p(z_{t+1} | z_t, a_t, h_t) = prod_d sum_k pi_dk N(z_{t+1,d}; mu_dk, sigma_dk^2), read from h_{t+1}
                                                                       (5 Gaussians per dimension)
    r_t = w_r . h_{t+1} + b_r                 (optional reward head, squared error; not in the paper)
    P(done_t) = sigmoid(w_d . h_{t+1} + b_d)  (optional done head, cross-entropy; done steps weigh x10, as Doom's)

Time indices: the controller reads h_t, the memory BEFORE it acts (a_t = C([z_t, h_t])); M then reads
[z_t, a_t] and its new memory h_{t+1} predicts z_{t+1}. No model in the paper had a reward head: its CarRacing
M predicted z only, its VizDoom M z and done. The course's CarRacing M adds a reward head so that a controller
can be evolved entirely in the dream (notebooks 04 and 05).

Parameter count. With z = 32, a = 3, hidden = 256, K = 5 and no reward or done head this model has
423,392 parameters; the paper reports 422,368 for CarRacing. The difference, 1,024 = 4 gates x 256, is one
bias vector: PyTorch's nn.LSTM keeps two (b_ih and b_hh) that only ever appear as their sum, where the
original TensorFlow cell (LayerNormBasicLSTMCell without layer norm) keeps one. Everything else agrees:
LSTM weights 4 * 256 * (35 + 256) = 297,984, biases 1,024 (TF) or 2,048 (PyTorch), and the output layer
256 * 480 + 480 = 123,360 (480 = 32 dimensions x 5 components x 3 numbers). `paper_parameter_count`
gives the TF count of any configuration.

Training follows the paper's code: Adam at lr 1e-3, batch 100, each gradient element clipped to
[-1, 1] (tf.clip_by_value in the original, not a norm clip), and every batch draws z = mu + sigma * eps
afresh from the stored mu and log sigma^2 of the VAE, so M never sees the same sample twice.

Encoded-data format (`save_encoded` writes it, `load_encoded` reads a file or a folder of files).
One .npz holds E episodes back to back; episode i has T_i steps and T_i + 1 observations:

    mu       float32 (sum_i (T_i + 1), Z)  the VAE's mean of every observation, the final one included
    logvar   float32 (sum_i (T_i + 1), Z)  its log sigma^2
    actions  float32 (sum_i T_i, A)        the action taken at observation t (one-hot when discrete)
    rewards  float32 (sum_i T_i,)          the reward received for it
    dones    bool    (sum_i T_i,)          True where the episode terminated after it (a time-limit
                                           truncation is not a done: the world did not end)
    lengths  int64   (E,)                  T_i

Step t of an episode feeds [z_t, a_t] and is scored on z_{t+1}, r_t and done_t. Episodes of different
lengths are cut into windows of seq_len steps and padded; padded steps and any step after a done are
masked out of every loss term.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import mdn
from .errors import CourseError, MissingArtefactError, ShapeError
from .runtime import pick_device

State = tuple[Tensor, Tensor]  # (h, c), each (B, hidden)
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
    done_weight: float = 10.0     # weight of the done = 1 steps in the done loss (the paper's restart_factor)
    reward_weight: float = 1.0
    reward_smoothing: int = 1     # reward target: the mean of the next k real rewards (1: the raw reward)


class MDNRNNOutput(NamedTuple):
    """What M predicts at each step: the mixture over z_{t+1} (..., Z, K) and, if asked for, r_t and the done logit (...)."""

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

    def forward(self, z: Tensor, actions: Tensor, state: State | None = None) -> tuple[MDNRNNOutput, State]:
        """Run over whole sequences: z (B, T, Z) and actions (B, T, A) -> predictions for every step, final state."""
        c = self.config
        if z.ndim != 3 or actions.ndim != 3 or z.shape[:2] != actions.shape[:2] \
                or z.shape[-1] != c.z_size or actions.shape[-1] != c.action_size:
            raise ShapeError(
                f"Expected z of shape (B, T, {c.z_size}) and actions of shape (B, T, {c.action_size}), got "
                f"{tuple(z.shape)} and {tuple(actions.shape)}. One step of a batch goes through step(); "
                "discrete actions must be one-hot."
            )
        hx = None if state is None else (state[0].unsqueeze(0), state[1].unsqueeze(0))
        hs, (h, cell) = self.lstm(torch.cat([z, actions], dim=-1), hx)
        return self.heads(hs), (h.squeeze(0), cell.squeeze(0))

    def step(self, z: Tensor, action: Tensor, state: State | None = None) -> tuple[MDNRNNOutput, State]:
        """One step for a batch of dreams: z (B, Z), action (B, A), state (h, c) each (B, hidden).

        The batch can be a whole CMA-ES population times its rollouts: one LSTM call steps them all.
        """
        if z.ndim != 2 or action.ndim != 2:
            raise ShapeError(f"step() takes one step of a batch: z (B, Z) and action (B, A), "
                             f"got {tuple(z.shape)} and {tuple(action.shape)}.")
        out, state = self.forward(z.unsqueeze(1), action.unsqueeze(1), state)
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


def parameter_count(model: nn.Module) -> int:
    """Number of trainable numbers in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def paper_parameter_count(config: MDNRNNConfig) -> int:
    """What the original TensorFlow code would count for this configuration: one LSTM bias, not two.

        4 H (Z + A + H) + 4 H  +  (H + 1) 3 Z K  [+ (H + 1) per reward / done head]
    """
    H, inputs = config.hidden, config.z_size + config.action_size
    heads = int(config.predict_reward) + int(config.predict_done)
    return 4 * H * (inputs + H) + 4 * H + (H + 1) * 3 * config.z_size * config.K + (H + 1) * heads


# --- dreaming ----------------------------------------------------------------------------------------

@torch.no_grad()
def dream_sequence(mdnrnn: MDNRNN, z0: Tensor, actions: Tensor, tau: float = 1.0,
                   generator: torch.Generator | None = None) -> Tensor:
    """Roll M forward from z0 under given actions, feeding each sampled latent back in:

        h_{t+1} = LSTM([z_t, a_t], h_t),   z_{t+1} ~ sum_k pi_k(tau) N(mu_k, sigma_k^2 tau)   (per dimension)

    z0 (Z,) or (B, Z); actions (T, A) or (B, T, A). Returns the latents (T + 1, Z) or (B, T + 1, Z),
    z0 first, like an encoded episode: decode them with the VAE to watch the dream.
    """
    c = mdnrnn.config
    single = z0.ndim == 1
    z, acts = (z0[None], actions[None]) if single else (z0, actions)
    if z.ndim != 2 or acts.ndim != 3 or z.shape[0] != acts.shape[0] \
            or z.shape[1] != c.z_size or acts.shape[2] != c.action_size:
        raise ShapeError(
            f"Expected z0 (Z,) with actions (T, A), or z0 (B, Z) with actions (B, T, A), for Z = {c.z_size} and "
            f"A = {c.action_size}; got {tuple(z0.shape)} and {tuple(actions.shape)}."
        )
    state = mdnrnn.initial_state(z.shape[0], z.device)
    zs = [z]
    for t in range(acts.shape[1]):
        out, state = mdnrnn.step(z, acts[:, t], state)
        z = mdn.sample(out.log_pi, out.mu, out.log_sigma, tau, generator)
        zs.append(z)
    dream = torch.stack(zs, dim=1)
    return dream[0] if single else dream


@torch.no_grad()
def dream_steps_per_second(mdnrnn: MDNRNN, batch_size: int = 1024, steps: int = 100, tau: float = 1.0,
                           seed: int = 0) -> float:
    """Measured dream steps per second (LSTM step + mixture sampling) for a batch of parallel dreams."""
    c = mdnrnn.config
    device = mdnrnn.lstm.weight_ih_l0.device
    g = torch.Generator(device=device).manual_seed(seed)
    z = torch.randn(batch_size, c.z_size, generator=g, device=device)
    a = torch.rand(batch_size, c.action_size, generator=g, device=device) * 2 - 1
    state = mdnrnn.initial_state(batch_size, device)
    for i in range(steps + 5):  # 5 warm-up steps
        if i == 5:
            start = time.perf_counter()
        out, state = mdnrnn.step(z, a, state)
        z = mdn.sample(out.log_pi, out.mu, out.log_sigma, tau, g)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - start)


# --- encoded episodes --------------------------------------------------------------------------------

_KEYS = ("mu", "logvar", "actions", "rewards", "dones", "lengths")


@dataclass
class EncodedEpisodes:
    """Encoded episodes back to back, in the format of the module docstring, as tensors."""

    mu: Tensor       # (sum (T_i + 1), Z)
    logvar: Tensor   # (sum (T_i + 1), Z)
    actions: Tensor  # (sum T_i, A)
    rewards: Tensor  # (sum T_i,)
    dones: Tensor    # (sum T_i,) bool
    lengths: Tensor  # (E,) int64

    def __post_init__(self) -> None:
        self.mu, self.logvar = self.mu.float(), self.logvar.float()
        self.actions, self.rewards = self.actions.float(), self.rewards.float()
        self.dones, self.lengths = self.dones.bool(), self.lengths.long()
        E, steps = len(self.lengths), int(self.lengths.sum())
        problems = []
        if self.lengths.ndim != 1 or E == 0 or (self.lengths < 1).any():
            problems.append(f"lengths must list at least one episode, each of at least 1 step, "
                            f"got {self.lengths.tolist()[:10]}")
        if self.mu.ndim != 2 or self.mu.shape != self.logvar.shape or len(self.mu) != steps + E:
            problems.append(f"mu and logvar must both be (sum (T_i + 1), Z) = ({steps + E}, Z), with the final observation "
                            f"of each episode, got {tuple(self.mu.shape)} and {tuple(self.logvar.shape)}")
        if self.actions.ndim != 2 or len(self.actions) != steps:
            problems.append(f"actions must be (sum T_i, A) = ({steps}, A), got {tuple(self.actions.shape)}")
        if self.rewards.shape != (steps,) or self.dones.shape != (steps,):
            problems.append(f"rewards and dones must be ({steps},), "
                            f"got {tuple(self.rewards.shape)} and {tuple(self.dones.shape)}")
        if problems:
            raise ShapeError("Encoded episodes not in the expected format: " + "; ".join(problems)
                             + ". See wmcourse.mdnrnn's docstring.")

    @classmethod
    def from_episodes(cls, episodes: Sequence[Mapping[str, np.ndarray | Tensor]]) -> EncodedEpisodes:
        """Join episodes given one by one: each a mapping with mu, logvar (T+1, Z), actions (T, A), rewards, dones (T,)."""
        if len(episodes) == 0:
            raise ShapeError("Expected at least one episode, got none.")
        cat = {k: torch.cat([torch.as_tensor(e[k]) for e in episodes]) for k in _KEYS[:-1]}
        lengths = torch.tensor([len(e["actions"]) for e in episodes])
        return cls(**cat, lengths=lengths)

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def z_size(self) -> int:
        return self.mu.shape[1]

    @property
    def action_size(self) -> int:
        return self.actions.shape[1]

    @property
    def num_steps(self) -> int:
        return int(self.lengths.sum())

    @property
    def step_offsets(self) -> Tensor:
        """Row of each episode's first step in actions, rewards and dones."""
        return self.lengths.cumsum(0) - self.lengths

    @property
    def latent_offsets(self) -> Tensor:
        """Row of each episode's first observation in mu and logvar (one more row per earlier episode)."""
        return self.step_offsets + torch.arange(len(self), device=self.lengths.device)

    def episode(self, i: int) -> dict[str, Tensor]:
        """Episode i as a dict of tensors: mu, logvar (T+1, Z), actions (T, A), rewards, dones (T,)."""
        s, z, T = int(self.step_offsets[i]), int(self.latent_offsets[i]), int(self.lengths[i])
        return {"mu": self.mu[z:z + T + 1], "logvar": self.logvar[z:z + T + 1], "actions": self.actions[s:s + T],
                "rewards": self.rewards[s:s + T], "dones": self.dones[s:s + T]}

    def subset(self, indices: Sequence[int] | Tensor) -> EncodedEpisodes:
        return EncodedEpisodes.from_episodes([self.episode(int(i)) for i in indices])

    def to(self, device: torch.device | str) -> EncodedEpisodes:
        return EncodedEpisodes(**{k: getattr(self, k).to(device) for k in _KEYS})


def synthetic_episodes(num_episodes: int, z_size: int = 4, action_size: int = 2, min_len: int = 10,
                       max_len: int = 40, seed: int = 0) -> EncodedEpisodes:
    """A tiny made-up world in the encoded format, for tests and quick demos (no VAE needed).

        z_{t+1} = 0.8 z_t + 0.5 tanh(W a_t) + 0.5 s_t + 0.05 eps,  s_t = +-1 at random (two futures)
        r_t = -mean(z_{t+1}^2);  half of the episodes terminate (done on the last step), half are truncated.
    The encoder's sigma is 0.05 (logvar = 2 log 0.05). Episode lengths are uniform in [min_len, max_len].
    """
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(z_size, action_size, generator=g)
    episodes = []
    for _ in range(num_episodes):
        T = int(torch.randint(min_len, max_len + 1, (), generator=g))
        a = torch.rand(T, action_size, generator=g) * 2 - 1
        z = [torch.randn(z_size, generator=g)]
        for t in range(T):
            side = torch.randint(0, 2, (z_size,), generator=g).float() * 2 - 1
            z.append(0.8 * z[-1] + 0.5 * torch.tanh(W @ a[t]) + 0.5 * side + 0.05 * torch.randn(z_size, generator=g))
        mu = torch.stack(z)
        dones = torch.zeros(T, dtype=torch.bool)
        dones[-1] = bool(torch.rand((), generator=g) < 0.5)
        episodes.append({"mu": mu, "logvar": torch.full_like(mu, 2 * math.log(0.05)), "actions": a,
                         "rewards": -(mu[1:] ** 2).mean(dim=1), "dones": dones})
    return EncodedEpisodes.from_episodes(episodes)


def save_encoded(path: str | Path, data: EncodedEpisodes) -> Path:
    """Write encoded episodes to one compressed .npz (the format of the module docstring)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{k: getattr(data, k).cpu().numpy() for k in _KEYS})
    return path


def load_encoded(path: str | Path) -> EncodedEpisodes:
    """Read encoded episodes from one .npz, or from every .npz in a folder (joined in name order)."""
    path = Path(path)
    files = sorted(path.glob("*.npz")) if path.is_dir() else [path]
    if not path.exists() or not files:
        raise MissingArtefactError(
            f"No encoded episodes at {path} (expected an .npz file or a folder of them). Encode rollouts with "
            f"the VAE first:\n    python -m wmcourse encode --out {path}\n(the format is in wmcourse.mdnrnn's docstring)."
        )
    parts = []
    for f in files:
        with np.load(f) as npz:
            missing = [k for k in _KEYS if k not in npz.files]
            if missing:
                raise ShapeError(f"{f} lacks the arrays {missing}: encoded episodes need {list(_KEYS)} "
                                 "(see wmcourse.mdnrnn).")
            parts.append(EncodedEpisodes(**{k: torch.from_numpy(npz[k]) for k in _KEYS}))
    if len(parts) == 1:
        return parts[0]
    return EncodedEpisodes(**{k: torch.cat([getattr(p, k) for p in parts]) for k in _KEYS})


# --- batches -----------------------------------------------------------------------------------------

@dataclass
class SequenceBatch:
    """Windows of S steps: inputs z, actions; targets next_z, rewards, dones; mask True on real steps."""

    z: Tensor        # (B, S, Z)  sampled z_t
    actions: Tensor  # (B, S, A)
    next_z: Tensor   # (B, S, Z)  sampled z_{t+1}
    rewards: Tensor  # (B, S)
    dones: Tensor    # (B, S) float
    mask: Tensor     # (B, S) bool

    def replace(self, **changes: Tensor) -> SequenceBatch:
        return SequenceBatch(**{f.name: changes.get(f.name, getattr(self, f.name)) for f in fields(self)})


def smooth_rewards(data: EncodedEpisodes, k: int) -> EncodedEpisodes:
    """The same episodes with each reward replaced by the mean of the next k (fewer at an episode's end):

        r~_t = (r_t + r_{t+1} + ... + r_{t+k-1}) / k

    CarRacing pays +1000/N at the exact step a tile is crossed, which M cannot time from a 64x64 frame; the
    smoothed reward is a rate (how fast the car eats track) that it can read from speed and road, and an
    episode's sum barely changes. k = 1 returns the data unchanged.
    """
    if k < 1:
        raise ValueError(f"reward smoothing k must be at least 1 (1 = raw rewards), got {k}.")
    if k == 1:
        return data
    smoothed = torch.empty_like(data.rewards)
    for start, length in zip(data.step_offsets.tolist(), data.lengths.tolist()):
        r = data.rewards[start:start + length]
        total = torch.cat([r.new_zeros(1), r.cumsum(0)])
        t = torch.arange(length)
        end = (t + k).clamp(max=length)
        smoothed[start:start + length] = (total[end] - total[t]) / (end - t)
    return replace(data, rewards=smoothed)


def epoch_windows(data: EncodedEpisodes, seq_len: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """One epoch of windows, shuffled: ceil(T_i / seq_len) of episode i, each starting at a random step.

    An episode no longer than seq_len gives one window that starts at 0 and holds all of it.
    Returns episode ids and start steps (CPU tensors; the generator must be a CPU one).
    """
    lengths = data.lengths.cpu()
    counts = (lengths + seq_len - 1) // seq_len
    ids = torch.repeat_interleave(torch.arange(len(lengths)), counts)
    room = (lengths[ids] - seq_len).clamp(min=0) + 1
    starts = (torch.rand(len(ids), generator=generator) * room).long()
    order = torch.randperm(len(ids), generator=generator)
    return ids[order], starts[order]


def make_batch(data: EncodedEpisodes, ids: Tensor, starts: Tensor, seq_len: int,
               generator: torch.Generator | None = None) -> SequenceBatch:
    """Gather windows of seq_len steps and sample their latents: z = mu + exp(logvar / 2) * eps.

    One sample per observation, so the target z_{t+1} of step t is the input of step t + 1. Steps past an
    episode's end repeat its last values and are masked, as is every step after a done.
    """
    device = data.mu.device
    ids, starts = ids.to(device), starts.to(device)
    L = data.lengths[ids].unsqueeze(1)
    t = starts.unsqueeze(1) + torch.arange(seq_len + 1, device=device)    # observation index, (B, S + 1)
    rows = data.latent_offsets[ids].unsqueeze(1) + t.minimum(L)
    eps = torch.randn(rows.shape + (data.z_size,), generator=generator, device=device)
    z = data.mu[rows] + torch.exp(0.5 * data.logvar[rows]) * eps
    step_t = t[:, :-1]
    steps = data.step_offsets[ids].unsqueeze(1) + step_t.minimum(L - 1)
    valid = step_t < L
    dones = (data.dones[steps] & valid).float()
    after_done = (dones.cumsum(dim=1) - dones) > 0
    return SequenceBatch(z=z[:, :-1], actions=data.actions[steps], next_z=z[:, 1:], rewards=data.rewards[steps],
                         dones=dones, mask=valid & ~after_done)


# --- training ----------------------------------------------------------------------------------------

@torch.no_grad()
def evaluate_mdnrnn(model: MDNRNN, data: EncodedEpisodes, seq_len: int | None = None, batch_size: int | None = None,
                    seed: int = 0) -> dict[str, float]:
    """Loss terms on every step of `data` (windows from the start of each episode; z sampled with `seed`)."""
    c = model.config
    seq_len, batch_size = seq_len or c.seq_len, batch_size or c.batch_size
    counts = (data.lengths.cpu() + seq_len - 1) // seq_len
    ids = torch.repeat_interleave(torch.arange(len(data)), counts)
    starts = torch.cat([torch.arange(int(n)) * seq_len for n in counts])
    g = torch.Generator(device=data.mu.device).manual_seed(seed)
    model.eval()
    sums: dict[str, float] = {}
    total = 0.0
    for b in range(0, len(ids), batch_size):
        batch = make_batch(data, ids[b:b + batch_size], starts[b:b + batch_size], seq_len, g)
        n = float(batch.mask.sum())
        for k, v in model.loss(batch).items():
            sums[k] = sums.get(k, 0.0) + float(v) * n
        total += n
    return {k: v / total for k, v in sums.items()}


def split_episodes(data: EncodedEpisodes, held_out: float, seed: int) -> tuple[EncodedEpisodes, EncodedEpisodes | None]:
    """Random split by episode: (training, held-out); held-out is None when held_out is 0 or there is one episode."""
    if not 0 <= held_out < 1:
        raise ValueError(f"held_out is the fraction of episodes kept for evaluation, in [0, 1), got {held_out}.")
    n_held = min(max(round(len(data) * held_out), 1 if held_out > 0 else 0), len(data) - 1)
    if n_held == 0:
        return data, None
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    return data.subset(order[n_held:].sort().values), data.subset(order[:n_held].sort().values)


def save_mdnrnn(model: MDNRNN, path: str | Path, **extra: object) -> Path:
    """Save config and weights (plus any extras, e.g. optimizer state and history) to a .pt file, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "config": asdict(model.config), "model": model.state_dict(), **extra}, tmp)
    os.replace(tmp, path)
    return path


def _read_checkpoint(path: str | Path, device: torch.device | str) -> dict:
    path = Path(path)
    if not path.exists():
        raise MissingArtefactError(f"No MDN-RNN checkpoint at {path}. Make it with:\n    {TRAIN_COMMAND.format(path=path)}")
    ckpt = torch.load(path, map_location=device, weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CourseError(f"{path} is not an MDN-RNN checkpoint written by wmcourse.mdnrnn.save_mdnrnn.")
    return ckpt


def load_mdnrnn(path: str | Path, device: torch.device | str = "cpu") -> MDNRNN:
    """Load a model saved by save_mdnrnn (or a training checkpoint), in eval mode."""
    ckpt = _read_checkpoint(path, device)
    model = MDNRNN(MDNRNNConfig(**ckpt["config"])).to(device)
    model.load_state_dict(ckpt["model"])
    return model.eval()


def train_mdnrnn(dataset: EncodedEpisodes | str | Path, config: MDNRNNConfig | None = None,
                 out_path: str | Path | None = None, epochs: int = 20, seed: int = 0, device: str = "auto",
                 held_out: float = 0.05, resume: bool = True, progress: bool = True) -> tuple[MDNRNN, list[dict]]:
    """Train M on encoded episodes; returns the model and one history row per epoch.

    Each epoch visits every training episode once (ceil(T / seq_len) random windows of it), in batches of
    config.batch_size, with a fresh z = mu + sigma * eps per batch. After each epoch it scores the held-out
    episodes and, with out_path, writes a checkpoint there; calling again with the same arguments resumes
    from it (a larger `epochs` trains on). config=None takes the paper's defaults with Z and A from the data.
    """
    data = dataset if isinstance(dataset, EncodedEpisodes) else load_encoded(dataset)
    c = config or MDNRNNConfig(z_size=data.z_size, action_size=data.action_size)
    if (c.z_size, c.action_size) != (data.z_size, data.action_size):
        raise ShapeError(f"The config expects z_size={c.z_size} and action_size={c.action_size} but the data has "
                         f"{data.z_size} and {data.action_size}: build the config with those.")
    dev = pick_device(device)
    data = smooth_rewards(data, c.reward_smoothing)
    train, held = split_episodes(data, held_out, seed)
    train, held = train.to(dev), held.to(dev) if held is not None else None

    torch.manual_seed(seed)
    model = MDNRNN(c).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=c.lr)
    index_gen = torch.Generator().manual_seed(seed)
    noise_gen = torch.Generator(device=dev).manual_seed(seed + 1)
    history: list[dict] = []
    if out_path is not None and resume and Path(out_path).exists():
        ckpt = _read_checkpoint(out_path, dev)
        if {**asdict(MDNRNNConfig()), **ckpt["config"]} != asdict(c) or ckpt.get("seed") != seed:
            raise CourseError(f"The checkpoint {out_path} was made with another config or seed: delete it, "
                              "choose another out path, or pass resume=False (--no-resume) to start over.")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        index_gen.set_state(ckpt["index_generator"].cpu())  # generator states are CPU byte tensors
        noise_gen.set_state(ckpt["noise_generator"].cpu())
        history = list(ckpt["history"])

    n_windows = int(((train.lengths + c.seq_len - 1) // c.seq_len).sum())
    n_batches = math.ceil(n_windows / c.batch_size)
    bar = tqdm(total=max(epochs - len(history), 0) * n_batches, desc="MDN-RNN", unit="batch", disable=not progress)
    for epoch in range(len(history), epochs):
        model.train()
        ids, starts = epoch_windows(train, c.seq_len, index_gen)
        sums: dict[str, float] = {}
        steps, start = 0.0, time.perf_counter()
        for b in range(0, len(ids), c.batch_size):
            batch = make_batch(train, ids[b:b + c.batch_size], starts[b:b + c.batch_size], c.seq_len, noise_gen)
            terms = model.loss(batch)
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward()
            nn.utils.clip_grad_value_(model.parameters(), c.grad_clip)
            opt.step()
            n = float(batch.mask.sum())
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + v.item() * n
            steps += n
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, z_nll=f"{terms['z_nll'].item():.3f}")
        seconds = time.perf_counter() - start
        row = {"epoch": epoch + 1, **{k: v / steps for k, v in sums.items()},
               "timesteps_per_s": steps / seconds, "seconds": seconds}
        if held is not None:
            row.update({f"held_out_{k}": v for k, v in evaluate_mdnrnn(model, held, seed=seed).items()})
        history.append(row)
        if out_path is not None:
            save_mdnrnn(model, out_path, optimizer=opt.state_dict(), history=history, seed=seed,
                        index_generator=index_gen.get_state(), noise_generator=noise_gen.get_state())
    bar.close()
    return model.eval(), history


# --- the shipped model and what it predicts (notebooks 02 and 03) -------------------------------------

SHIPPED_NAME = "mdnrnn_carracing.pt"
SHIPPED_COMMAND = "bash scripts/train_carracing_models.sh && python scripts/ship_carracing_models.py"
HELDOUT_ENCODED_NAME = "carracing_heldout_encoded.npz"  # the held-out episodes (data/carracing_heldout), encoded by V
HELDOUT_ROLLOUTS = "carracing_heldout"


def load_shipped_mdnrnn(device: torch.device | str = "cpu", iteration: int = 0) -> MDNRNN:
    """The MDN-RNN shipped in data/ (trained on encoded CarRacing rollouts), in eval mode. iteration 1: the same M
    trained on, after one round of real episodes collected with the controller (scripts/iterate_carracing.py)."""
    from .artefacts import require

    name = SHIPPED_NAME if iteration == 0 else SHIPPED_NAME.replace(".pt", f"_iter{iteration}.pt")
    return load_mdnrnn(require(name, SHIPPED_COMMAND), device)


def load_shipped_heldout_encoded() -> EncodedEpisodes:
    """The held-out CarRacing episodes (never trained on) encoded by the shipped VAE: M's test set."""
    from .artefacts import require

    return load_encoded(require(HELDOUT_ENCODED_NAME, SHIPPED_COMMAND))


def load_heldout_episode(index: int = 0):
    """One held-out real CarRacing episode (wmcourse.rollouts.Episode: obs (T, 64, 64, 3) uint8, action (T, 3), ...)."""
    from .artefacts import require
    from .rollouts import load_episodes

    folder = require(f"{HELDOUT_ROLLOUTS}/shard_00000.npz", SHIPPED_COMMAND).parent
    episodes = load_episodes(folder, max_episodes=index + 1)
    if index >= len(episodes):
        raise ValueError(f"There are {len(episodes)} held-out episodes in {folder}; index {index} is out of range.")
    return episodes[index]


def shipped_training_record() -> dict:
    """How the shipped M was trained: its config, its per-epoch history (when the file keeps it) and the
    figures the manifest recorded for it (when there is a manifest entry). Missing parts are empty."""
    from .artefacts import load_manifest, require

    path = require(SHIPPED_NAME, SHIPPED_COMMAND)
    ckpt = _read_checkpoint(path, "cpu")
    entry = load_manifest(path.parent).get(SHIPPED_NAME, {})
    return {"config": ckpt["config"], "history": list(ckpt.get("history", [])), "seed": ckpt.get("seed"),
            "manifest": entry}


def parameter_breakdown(model: MDNRNN) -> dict[str, int]:
    """Trainable numbers by part: LSTM weights, LSTM biases (two vectors in PyTorch), the mixture head, the extra heads."""
    parts = {
        "LSTM weights": model.lstm.weight_ih_l0.numel() + model.lstm.weight_hh_l0.numel(),
        "LSTM biases (b_ih + b_hh)": model.lstm.bias_ih_l0.numel() + model.lstm.bias_hh_l0.numel(),
        "mixture head": parameter_count(model.mdn),
    }
    if model.reward_head is not None:
        parts["reward head"] = parameter_count(model.reward_head)
    if model.done_head is not None:
        parts["done head"] = parameter_count(model.done_head)
    return parts


PREDICTION_MODES = ("sample", "likeliest", "average")


def _next_latent(out: MDNRNNOutput, mode: str, tau: float, generator: torch.Generator | None) -> Tensor:
    """One latent from M's prediction: a sample, the mean of the likeliest component, or the mixture's average."""
    if mode == "sample":
        return mdn.sample(out.log_pi, out.mu, out.log_sigma, tau, generator)
    if mode == "likeliest":
        return out.mu.gather(-1, out.log_pi.argmax(dim=-1, keepdim=True)).squeeze(-1)
    if mode == "average":
        return (out.log_pi.exp() * out.mu).sum(dim=-1)
    raise ValueError(f"Unknown prediction mode {mode!r}: choose one of {', '.join(PREDICTION_MODES)}.")


def _check_episode(model: MDNRNN, z: Tensor, actions: Tensor) -> None:
    c = model.config
    if z.ndim != 2 or actions.ndim != 2 or len(z) != len(actions) + 1 \
            or z.shape[1] != c.z_size or actions.shape[1] != c.action_size:
        raise ShapeError(
            f"Expected one episode: latents z of shape (T + 1, {c.z_size}) and actions of shape (T, {c.action_size}), "
            f"got {tuple(z.shape)} and {tuple(actions.shape)} (EncodedEpisodes.episode(i) gives mu and actions in this form)."
        )


@torch.no_grad()
def teacher_forced_states(model: MDNRNN, z: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
    """M's memory along a real episode: after reading [z_t, a_t] for t = 0..T-1, its (h_{t+1}, c_{t+1}), each
    (T, hidden); row t is the memory made at step t.

    The prediction at step t (read from row t, h_{t+1}) is M's distribution over the real z_{t+1}.
    """
    _check_episode(model, z, actions)
    state, hs, cs = None, [], []
    for t in range(len(actions)):
        _, state = model.step(z[t:t + 1], actions[t:t + 1], state)
        hs.append(state[0][0])
        cs.append(state[1][0])
    return torch.stack(hs), torch.stack(cs)


@torch.no_grad()
def _open_loop(model: MDNRNN, state: State, actions: Tensor, horizon: int, mode: str, tau: float,
               generator: torch.Generator | None) -> Tensor:
    """From memories state (B, hidden) whose next prediction is z_{t+1}, feed M's own latents back in under the
    given actions (B, horizon - 1, A): returns the B x horizon predicted latents z_{t+1} .. z_{t+horizon}."""
    zs = []
    out = model.heads(state[0])
    for j in range(horizon):
        z_next = _next_latent(out, mode, tau, generator)
        zs.append(z_next)
        if j + 1 < horizon:
            out, state = model.step(z_next, actions[:, j], state)
    return torch.stack(zs, dim=1)


@torch.no_grad()
def predict_ahead(model: MDNRNN, z: Tensor, actions: Tensor, start: int, horizon: int, mode: str = "sample",
                  samples: int = 1, tau: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
    """M's guess of the next `horizon` latents of a real episode, from step `start` on:

        1. read the real z_0, a_0, ..., z_start, a_start (teacher forcing): M's memory now knows the past;
        2. predict z_{start+1}, feed that guess back with the real next action a_{start+1}, predict z_{start+2},
           ... up to z_{start+horizon} (open loop: M never sees the real latents after z_start).

    z (T + 1, Z) are the VAE's codes of the episode (its mu), actions (T, A). mode: "sample" draws from the
    mixture (at temperature tau; `samples` independent futures), "likeliest" takes each dimension's most
    probable component mean, "average" the mixture's mean sum_k pi_k mu_k (what a single Gaussian would
    predict). Returns (samples, horizon, Z): decode it with the VAE to compare with the real frames
    start + 1 .. start + horizon.
    """
    _check_episode(model, z, actions)
    T = len(actions)
    if horizon < 1 or not 0 <= start or start + horizon > T:
        raise ValueError(f"Need 0 <= start and 1 <= horizon with start + horizon <= T = {T} (the episode's steps), "
                         f"got start={start}, horizon={horizon}.")
    _, state = model(z[None, :start + 1], actions[None, :start + 1])
    state = (state[0].expand(samples, -1).contiguous(), state[1].expand(samples, -1).contiguous())
    future_actions = actions[start + 1:start + horizon].expand(samples, -1, -1)
    return _open_loop(model, state, future_actions, horizon, mode, tau, generator)


@torch.no_grad()
def horizon_errors(model: MDNRNN, z: Tensor, actions: Tensor, horizon: int, starts: Sequence[int] | None = None,
                   mode: str = "likeliest", samples: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Mean squared error per latent dimension between M's open-loop predictions and the real latents, by
    steps ahead (1 .. horizon), over many start steps of one episode; next to two baselines that know no
    dynamics: "copy last" (z_{t+k} = z_t) and "stand still in the mean" (z_{t+k} = the episode's mean latent).

    starts: default every step from 0 to T - horizon. mode "sample" averages over `samples` draws per start.
    Returns {"steps_ahead", "model", "copy_last", "mean_latent"}, arrays of length horizon.
    """
    _check_episode(model, z, actions)
    T = len(actions)
    starts = list(range(0, T - horizon + 1)) if starts is None else list(starts)
    if not starts or min(starts) < 0 or max(starts) + horizon > T:
        raise ValueError(f"Every start must satisfy 0 <= start <= T - horizon = {T - horizon}, got {starts[:5]}...")
    h, c = teacher_forced_states(model, z, actions)
    idx = torch.tensor(starts)
    n = samples if mode == "sample" else 1
    state = (h[idx].repeat_interleave(n, 0), c[idx].repeat_interleave(n, 0))
    offsets = idx[:, None] + torch.arange(1, horizon)                                 # (S, horizon - 1)
    future_actions = actions[offsets.clamp(max=T - 1)].repeat_interleave(n, 0)
    g = torch.Generator().manual_seed(seed)
    pred = _open_loop(model, state, future_actions, horizon, mode, 1.0, g)              # (S n, horizon, Z)
    real = z[idx[:, None] + torch.arange(1, horizon + 1)].repeat_interleave(n, 0)       # (S n, horizon, Z)
    last = z[idx].repeat_interleave(n, 0)[:, None]
    return {
        "steps_ahead": np.arange(1, horizon + 1),
        "model": ((pred - real) ** 2).mean(dim=(0, 2)).numpy(),
        "copy_last": ((last - real) ** 2).mean(dim=(0, 2)).numpy(),
        "mean_latent": ((z.mean(dim=0) - real) ** 2).mean(dim=(0, 2)).numpy(),
    }


@torch.no_grad()
def marginal_gaussian_nll(data: EncodedEpisodes, seed: int = 0) -> float:
    """A baseline for M's z_nll: nats per dimension of the next latent under one Gaussian per dimension fitted
    to all the latents at once (mean and spread, no memory, no actions). z is sampled from the stored mu and
    sigma with `seed`, as evaluate_mdnrnn samples it; the targets are every observation after the first of
    each episode."""
    g = torch.Generator().manual_seed(seed)
    z = data.mu + torch.exp(0.5 * data.logvar) * torch.randn(data.mu.shape, generator=g)
    first = torch.zeros(len(z), dtype=torch.bool)
    first[data.latent_offsets] = True
    target = z[~first]
    mu, log_sigma = target.mean(dim=0), target.std(dim=0).log()
    return float(-mdn.gaussian_log_prob(target, mu, log_sigma).mean())


@torch.no_grad()
def dream_spread(model: MDNRNN, z0: Tensor, actions: Tensor, taus: Sequence[float], dreams: int = 16,
                 seed: int = 0) -> dict[str, np.ndarray]:
    """How wild the dream is at each temperature, measured on `dreams` dreams from the same start z0 (Z,)
    under the same actions (T, A):

        step   = mean squared change per step, mean_t ||z_{t+1} - z_t||^2 / Z     (how jumpy one dream is)
        spread = variance across the dreams of the final latent, per dimension     (how far the futures diverge)

    Returns {"tau": taus, "step": ..., "spread": ...}; compare "step" with the same number on the real episode.
    """
    steps, spreads = [], []
    for tau in taus:
        g = torch.Generator().manual_seed(seed)
        zs = dream_sequence(model, z0.expand(dreams, -1), actions.expand(dreams, -1, -1), tau, g)  # (n, T + 1, Z)
        steps.append(float(((zs[:, 1:] - zs[:, :-1]) ** 2).mean()))
        spreads.append(float(zs[:, -1].var(dim=0).mean()))
    return {"tau": np.asarray(taus, float), "step": np.array(steps), "spread": np.array(spreads)}


def sampled_step_size(mu: Tensor, logvar: Tensor, seed: int = 0) -> float:
    """The "step" of dream_spread measured on a real encoded episode: mean_t ||z_{t+1} - z_t||^2 / Z with
    z = mu + sigma * eps sampled as M saw it in training (mu, logvar: (T + 1, Z))."""
    g = torch.Generator().manual_seed(seed)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=g)
    return float(((z[1:] - z[:-1]) ** 2).mean())
