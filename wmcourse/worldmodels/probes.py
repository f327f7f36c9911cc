"""Probes: measurements of what a trained V keeps of a frame and how far ahead a trained M sees.

V: the reconstruction error on held-out frames, and the KL per frame and per latent dimension (the
information the code carries, bounded from above). M: its memory along a real episode (teacher forcing),
open-loop predictions from any step, their error by steps ahead next to baselines that know no dynamics,
a memoryless baseline for its likelihood, and how jumpy and spread out its dreams get with temperature.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from ..errors import SettingsError, ShapeError
from ..real.envs import frames_to_tensor
from . import mdn
from .dream import dream_sequence
from .latents import EncodedEpisodes
from .mdnrnn import MDNRNN, MDNRNNOutput, State
from .vae import ConvVAE, encode_frames, kl_divergence

# --- V -----------------------------------------------------------------------------------------------------

@torch.no_grad()
def evaluate_reconstruction(model: ConvVAE, frames: np.ndarray, batch_size: int = 256) -> float:
    """Mean squared error per pixel value, in [0, 1] units, of decode(mu(x)) on held-out frames:

        MSE = mean over frames, pixels and channels of (x - x_hat)^2

    (times 64*64*3 = 12,288 it is the reconstruction term of the loss, without sampling).
    """
    x = frames_to_tensor(frames)
    if len(x) == 0:
        raise ShapeError("evaluate_reconstruction needs at least one frame, got none.")
    device, total = next(model.parameters()).device, 0.0
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size].to(device)
        mu, _ = model.encode(batch)
        total += float((model.decode(mu) - batch).pow(2).sum())
    return total / x.numel()


@torch.no_grad()
def mean_kl(model: ConvVAE, frames: np.ndarray, batch_size: int = 256) -> float:
    """Mean KL(q(z|x) || N(0, I)) per frame, in nats: an upper bound on the information z carries about the frame
    (E_x KL = I(x; z) + KL(q(z) || p(z)))."""
    mu, logvar = encode_frames(model, frames, batch_size)
    return float(kl_divergence(torch.from_numpy(mu), torch.from_numpy(logvar)).sum(-1).mean())



@torch.no_grad()
def kl_per_dimension(model: ConvVAE, frames: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Mean KL(q(z_j|x) || N(0, 1)) of each latent dimension j over the frames, in nats (z_size,).
    A dimension near 0 carries no information about the frame: the decoder ignores it. (Free bits floors the sum
    of these over j, per frame, not each one.)"""
    mu, logvar = encode_frames(model, frames, batch_size)
    return kl_divergence(torch.from_numpy(mu), torch.from_numpy(logvar)).mean(0).numpy()


# --- M -----------------------------------------------------------------------------------------------------

PREDICTION_MODES = ("sample", "likeliest", "average")


def _next_latent(out: MDNRNNOutput, mode: str, tau: float, generator: torch.Generator | None) -> Tensor:
    """One latent from M's prediction: a sample, the mean of the likeliest component, or the mixture's average."""
    if mode == "sample":
        return mdn.sample(out.log_pi, out.mu, out.log_sigma, tau, generator)
    if mode == "likeliest":
        return out.mu.gather(-1, out.log_pi.argmax(dim=-1, keepdim=True)).squeeze(-1)
    if mode == "average":
        return (out.log_pi.exp() * out.mu).sum(dim=-1)
    raise SettingsError(f"Unknown prediction mode {mode!r}: choose one of {', '.join(PREDICTION_MODES)}.")


def _check_episode(model: MDNRNN, z: Tensor, actions: Tensor) -> None:
    c = model.config
    if z.ndim != 2 or actions.ndim != 2 or len(z) != len(actions) + 1 \
            or z.shape[1] != c.z_size or actions.shape[1] != c.action_size:
        raise ShapeError(
            f"Expected one episode: latents z of shape (T + 1, {c.z_size}) and actions of shape (T, {c.action_size}), "
            f"got {tuple(z.shape)} and {tuple(actions.shape)} "
            "(EncodedEpisodes.episode(i) gives mu and actions in this form)."
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
        raise SettingsError(f"Need 0 <= start and 1 <= horizon with start + horizon <= T = {T} (the episode's steps), "
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
        raise SettingsError(f"Every start must satisfy 0 <= start <= T - horizon = {T - horizon}, got {starts[:5]}...")
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
