"""Encoded latents: rollouts as V sees them (mu and log sigma^2 of every frame), the data M trains on.

V encodes each rollout episode once (`encode_episodes`, `encode_rollouts`); M then trains on the codes,
never on pixels, in windows of episodes (`epoch_windows`, `make_batch`) with a fresh z = mu + sigma * eps each time.

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

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..checkpoint import atomic_write_bytes
from ..errors import MissingArtefactError, SettingsError, ShapeError
from .vae import ConvVAE, encode_frames


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A compressed .npz of the arrays, in memory (written with atomic_write_bytes: never half a file)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


# --- encoding rollouts with V -----------------------------------------------------------------------------

def encode_episodes(model: ConvVAE, episodes: list, num_actions: int | None = None) -> dict[str, np.ndarray]:
    """Rollout episodes (wmcourse.real.rollouts.Episode) -> the encoded format M trains on (module docstring):

        mu, logvar  (sum (T_i + 1), Z)  every observation of each episode, its final one included
        actions     (sum T_i, A)        float32 (one-hot when discrete)
        rewards, dones (sum T_i,)       dones = terminated (a time-limit cut is not the end of the world)
        lengths     (E,)

    num_actions: size of a discrete action space (default: the largest action seen + 1, at least 2).
    """
    mus, logvars = zip(*(encode_frames(model, np.concatenate([e.obs, e.final_obs[None]])) for e in episodes))
    actions = [np.asarray(e.action, np.float32) for e in episodes]
    if actions[0].ndim == 1:  # discrete actions: one-hot
        n = num_actions or max(2, int(max(a.max() for a in actions)) + 1)
        actions = [np.eye(n, dtype=np.float32)[a.astype(np.int64)] for a in actions]
    return {"mu": np.concatenate(mus), "logvar": np.concatenate(logvars), "actions": np.concatenate(actions),
            "rewards": np.concatenate([e.reward for e in episodes]).astype(np.float32),
            "dones": np.concatenate([e.terminated for e in episodes]),
            "lengths": np.array([len(e) for e in episodes], np.int64)}


def encode_rollouts(model: ConvVAE, rollout_dir: str | Path, out_dir: str | Path, progress: bool = True) -> list[Path]:
    """Encode every rollout shard into out_dir/encoded_00000.npz, ... (shards already encoded are skipped)."""
    from ..real.rollouts import list_shards, load_shard

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard in tqdm(list_shards(rollout_dir), desc="encode rollouts", unit="shard", disable=not progress):
        path = out_dir / shard.name.replace("shard_", "encoded_")
        if not path.exists():
            atomic_write_bytes(path, _npz_bytes(encode_episodes(model, load_shard(shard))))  # via *.partial
        paths.append(path)
    return paths


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
            problems.append(f"mu and logvar must both be (sum (T_i + 1), Z) = ({steps + E}, Z), "
                            f"with the final observation of each episode, got {tuple(self.mu.shape)} and "
                            f"{tuple(self.logvar.shape)}")
        if self.actions.ndim != 2 or len(self.actions) != steps:
            problems.append(f"actions must be (sum T_i, A) = ({steps}, A), got {tuple(self.actions.shape)}")
        if self.rewards.shape != (steps,) or self.dones.shape != (steps,):
            problems.append(f"rewards and dones must be ({steps},), "
                            f"got {tuple(self.rewards.shape)} and {tuple(self.dones.shape)}")
        if problems:
            raise ShapeError("Encoded episodes not in the expected format: " + "; ".join(problems)
                             + ". See wmcourse.worldmodels.latents's docstring.")

    @classmethod
    def from_episodes(cls, episodes: Sequence[Mapping[str, np.ndarray | Tensor]]) -> EncodedEpisodes:
        """Join episodes given one by one.

        Each is a mapping with mu, logvar (T+1, Z), actions (T, A), rewards, dones (T,)."""
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
    return atomic_write_bytes(path, _npz_bytes({k: getattr(data, k).cpu().numpy() for k in _KEYS}))


def load_encoded(path: str | Path) -> EncodedEpisodes:
    """Read encoded episodes from one .npz, or from every .npz in a folder (joined in name order)."""
    path = Path(path)
    files = sorted(path.glob("*.npz")) if path.is_dir() else [path]
    if not path.exists() or not files:
        raise MissingArtefactError(
            f"No encoded episodes at {path} (expected an .npz file or a folder of them). Encode rollouts with "
            f"the VAE first:\n    python -m wmcourse encode --out {path}\n"
            "(the format is in wmcourse.worldmodels.latents's docstring)."
        )
    parts = []
    for f in files:
        with np.load(f) as npz:
            missing = [k for k in _KEYS if k not in npz.files]
            if missing:
                raise ShapeError(f"{f} lacks the arrays {missing}: encoded episodes need {list(_KEYS)} "
                                 "(see wmcourse.worldmodels.latents).")
            parts.append(EncodedEpisodes(**{k: torch.from_numpy(npz[k]) for k in _KEYS}))
    return join_encoded(parts)


def join_encoded(parts: list[EncodedEpisodes]) -> EncodedEpisodes:
    """One set of episodes from several (e.g. the random rollouts and an iterative round's), in the given order."""
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
        raise SettingsError(f"reward smoothing k must be at least 1 (1 = raw rewards), got {k}.")
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
    """One epoch of windows, shuffled: ceil(T_i / seq_len) of episode i, each starting at a random step,
    except that one window of every episode ends at its last step (starts at T_i - seq_len).

    The last step is the only one whose done target can be 1: with random starts alone, an episode much
    longer than seq_len would show it to the done head in few epochs. An episode no longer than seq_len
    gives one window that starts at 0 and holds all of it.
    Returns episode ids and start steps (CPU tensors; the generator must be a CPU one).
    """
    lengths = data.lengths.cpu()
    counts = (lengths + seq_len - 1) // seq_len
    ids = torch.repeat_interleave(torch.arange(len(lengths)), counts)
    room = (lengths[ids] - seq_len).clamp(min=0) + 1
    starts = (torch.rand(len(ids), generator=generator) * room).long()
    first = torch.cumsum(counts, 0) - counts  # the first window of each episode becomes its end-aligned one
    starts[first] = room[first] - 1
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

