"""The dream: the MDN-RNN used as an environment, with no real physics or pixels.

One dream step, for a batch of B dreams at once:

    features_t = [z_t, h_t]  (or [z_t, h_t, c_t])  what the controller sees
    a_t        = C(features_t)
    M reads (z_t, a_t), makes (h_{t+1}, c_{t+1}), and from h_{t+1} predicts r_t, done_t and a mixture over z_{t+1}
    z_{t+1}    ~ mixture with temperature tau    (mdn.sample)

An M without a reward head (the paper's Doom M predicts only z and done) pays r_t = 1 for every step
survived, so a dream's return is its length: Take Cover's own reward.

A dream starts from the latent z_0 of a real frame (a pool of real start latents) and a zero memory.
It ends when M's done head says so (probability above 0.5, as the paper thresholded Doom's done) or at
max_steps. `BatchedDream` steps a whole CMA-ES population times its rollouts in one tensor;
`DreamEnv` wraps a single dream as a `gymnasium.Env`, so anything that runs on a real env runs on it.
`dream_sequence` replays M under given actions (to decode and watch), `dream_steps_per_second` times it
(in fp32, bfloat16 or compiled; `dream_statistics_gaps` checks that another precision dreams the same).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from ..errors import SettingsError, ShapeError
from . import controller, mdn
from .mdnrnn import MDNRNN


class BatchedDream:
    """B dreams stepped together through one MDN-RNN."""

    def __init__(self, model: MDNRNN, start_z: Tensor, tau: float = 1.0, max_steps: int = 1000,
                 generator: torch.Generator | None = None, include_cell: bool = False):
        c = model.config
        if start_z.ndim != 2 or start_z.shape[1] != c.z_size:
            raise ShapeError(f"Expected a pool of start latents of shape (N, {c.z_size}), got {tuple(start_z.shape)}.")
        if not c.predict_done:
            raise SettingsError("A dream needs an MDN-RNN with a done head (without one it never ends): train it with "
                             "--predict-done.")
        self.model, self.start_z, self.tau, self.max_steps = model.eval(), start_z, tau, max_steps
        self.generator, self.include_cell = generator, include_cell

    @property
    def feature_size(self) -> int:
        """Inputs of the controller: z + hidden, plus hidden more with the LSTM cell."""
        return self.model.config.z_size + self.model.config.hidden * (2 if self.include_cell else 1)

    @torch.no_grad()
    def reset(self, batch: int) -> Tensor:
        """Start `batch` dreams from random real start latents; return their features (batch, z + hidden)."""
        pick = torch.randint(len(self.start_z), (batch,), generator=self.generator, device=self.start_z.device)
        self.z = self.start_z[pick]
        self.state = self.model.initial_state(batch, self.z.device)
        # an M with dropout: each dream keeps one mask, so each dreams with its own sub-network of M
        self.masks = (self.model.dropout_masks(batch, self.generator, self.z.device) if self.model.config.dropout > 0
                      else None)
        self.t = 0
        return self.features()

    def features(self) -> Tensor:
        parts = [self.z, self.state[0]] + ([self.state[1]] if self.include_cell else [])
        return torch.cat(parts, dim=-1)

    def keep(self, mask: Tensor) -> None:
        """Drop the dreams where mask (B,) is False (finished ones) from the batch."""
        self.z, self.state = self.z[mask], (self.state[0][mask], self.state[1][mask])
        if self.masks is not None:
            self.masks = (self.masks[0][mask], self.masks[1][mask])

    @torch.no_grad()
    def step(self, actions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Advance every dream one step: actions (B, A) -> features (B, feature_size), reward (B,), done (B,).

        The reward is M's prediction, or 1 (a step survived) when M has no reward head."""
        out, self.state = self.model.step(self.z, actions.to(self.z.dtype), self.state, self.masks)
        self.z = mdn.sample(out.log_pi, out.mu, out.log_sigma, self.tau, self.generator)
        self.t += 1
        done = torch.sigmoid(out.done_logit) > 0.5
        if self.t >= self.max_steps:
            done = torch.ones_like(done)
        reward = out.reward if out.reward is not None else torch.ones_like(out.done_logit)
        return self.features(), reward, done


@torch.no_grad()
def rollout_returns(dream: BatchedDream, params: Tensor, config: controller.ControllerConfig,
                    rollouts: int) -> Tensor:
    """Dream return of each of P candidate controllers in each of `rollouts` dreams: (P, n) -> (P, rollouts).

    All P x rollouts dreams run as one batch; a dream that has ended stops earning reward. A world with a
    keep(mask) method (BatchedDream) also drops its finished dreams from the batch, so a step costs only the
    dreams still running: with Take Cover's dreams of 100 to 2,100 steps that is most of the work saved.
    """
    population = params.shape[0]
    features = dream.reset(population * rollouts)
    total = torch.zeros(population * rollouts, device=features.device)
    rows = torch.arange(population * rollouts, device=features.device)  # the dream each batch row belongs to
    alive = torch.ones_like(total, dtype=torch.bool)
    compact = hasattr(dream, "keep")
    for _ in range(dream.max_steps):
        if compact:
            actions = controller.act(params[rows // rollouts], features.unsqueeze(1), config)[:, 0]
        else:
            actions = controller.act(params, features.view(population, rollouts, -1), config)
        features, reward, done = dream.step(actions.reshape(len(rows), -1))
        if compact:
            total[rows] += reward
            if done.all():
                break
            if done.any():
                rows, features = rows[~done], features[~done]
                dream.keep(~done)
            continue
        total += torch.where(alive, reward, torch.zeros_like(reward))
        alive &= ~done
        if not alive.any():
            break
    return total.view(population, rollouts)


def population_returns(dream: BatchedDream, params: Tensor, config: controller.ControllerConfig,
                       rollouts: int) -> Tensor:
    """Mean dream return of each of P candidate controllers over `rollouts` dreams each: (P, n) -> (P,)."""
    return rollout_returns(dream, params, config, rollouts).mean(dim=1)


def worst_member_returns(worlds: list, params: Tensor, config: controller.ControllerConfig, rollouts: int) -> Tensor:
    """An ensemble's pessimistic score of P candidates, (P, n) -> (P,): each candidate's mean return over `rollouts`
    dreams of each member's world, then the lowest of those means,

        score(c) = min_k  mean over the dreams of worlds[k] of the return of c.

    A controller that exploits one M's mistake gets what the other members say it earns."""
    if not worlds:
        raise SettingsError("an ensemble needs at least one member's dream: give one world per M")
    return torch.stack([population_returns(w, params, config, rollouts) for w in worlds]).min(dim=0).values


def controller_returns(world, params: np.ndarray, config: controller.ControllerConfig, episodes: int) -> np.ndarray:
    """The returns of ONE controller in `episodes` fresh dreams of `world`, (episodes,): what the dream believes
    it scores. `world` is any batched dream (reset(batch), step(actions), max_steps): a BatchedDream of an
    MDN-RNN (CarRacing, Take Cover) or CartPole's (wmcourse.worldmodels.cartpole.CartPoleDream)."""
    p = torch.as_tensor(np.asarray(params), dtype=torch.float32).view(1, -1)
    return rollout_returns(world, p, config, episodes)[0].numpy()


def controller_dream(model: MDNRNN, start_z: Tensor, tau: float = 1.0, max_steps: int = 1000, seed: int = 0,
                     squash: str = "carracing", include_cell: bool = False
                     ) -> tuple[BatchedDream, controller.ControllerConfig]:
    """M's batched dream (its random draws seeded by `seed`) and the linear controller that acts in it.

    squash and include_cell choose the task's controller: CarRacing's (defaults) reads [z, h] into three
    actions; Take Cover's ("thirds", include_cell=True) reads [z, h, c] into one action read in thirds."""
    world = BatchedDream(model, start_z, tau=tau, max_steps=max_steps, generator=torch.Generator().manual_seed(seed),
                         include_cell=include_cell)
    config = controller.ControllerConfig(input_size=world.feature_size, action_size=model.config.action_size,
                                         squash=squash)
    return world, config


def dream_score(model: MDNRNN, start_z: Tensor, params: np.ndarray, config: controller.ControllerConfig,
                tau: float, episodes: int, max_steps: int, seed: int = 1) -> np.ndarray:
    """The returns of one controller in `episodes` fresh dreams of M at temperature tau, (episodes,).
    A controller that reads z + 2 hidden inputs sees the LSTM cell too ([z, h, c], Take Cover's)."""
    include_cell = config.input_size == model.config.z_size + 2 * model.config.hidden
    world = BatchedDream(model, start_z, tau=tau, max_steps=max_steps,
                         generator=torch.Generator().manual_seed(seed), include_cell=include_cell)
    return controller_returns(world, params, config, episodes)


class DreamEnv(gym.Env):
    """One dream as a gymnasium environment: observation [z, h] (or [z, h, c]), CarRacing's action space unless
    told otherwise, M's reward (1 a step without a reward head) and done."""

    metadata = {"render_modes": []}

    def __init__(self, model: MDNRNN, start_z: Tensor, tau: float = 1.0, max_steps: int = 1000,
                 action_space: gym.spaces.Box | None = None, include_cell: bool = False):
        self.dream = BatchedDream(model, start_z, tau, max_steps, torch.Generator().manual_seed(0), include_cell)
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


# --- M dreaming under given actions --------------------------------------------------------------------

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


PRECISIONS = ("fp32", "bf16", "compiled")  # how the bench can step the dream (dream_steps_per_second)
SAME_DREAMS = 2.0  # another precision dreams the same when its statistics gap is at most this times fp32's own


def _stepper(mdnrnn: MDNRNN, precision: str):
    """M's step in one of PRECISIONS, and the dtype its inputs take: fp32 as trained; bf16, a bfloat16 copy of M
    (fast only where the CPU computes in bfloat16, e.g. AVX-512 BF16); compiled, torch.compile of the fp32 step."""
    if precision not in PRECISIONS:
        raise SettingsError(f"Unknown precision {precision!r}: expected one of {', '.join(PRECISIONS)}.")
    if precision == "bf16":
        return copy.deepcopy(mdnrnn).to(torch.bfloat16).step, torch.bfloat16
    if precision == "compiled":
        return torch.compile(mdnrnn.step, dynamic=False), torch.float32
    return mdnrnn.step, torch.float32


def _dream_batch(mdnrnn: MDNRNN, batch_size: int, steps: int, tau: float, seed: int, precision: str = "fp32",
                 warmup: int = 0, draws_seed: int | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> tuple[Tensor, float]:
    """Step `batch_size` dreams for `steps` steps under random actions: the final codes (float32) and the seconds
    the steps after the first `warmup` took by `clock`. `seed` draws the starts and actions, `draws_seed` (default:
    the same) the mixture's samples, which are drawn in float32 whatever the precision of M."""
    c = mdnrnn.config
    device = mdnrnn.lstm.weight_ih_l0.device
    step, dtype = _stepper(mdnrnn, precision)
    g = torch.Generator(device=device).manual_seed(seed)
    z = torch.randn(batch_size, c.z_size, generator=g, device=device)
    a = (torch.rand(batch_size, c.action_size, generator=g, device=device) * 2 - 1).to(dtype)
    state = tuple(s.to(dtype) for s in mdnrnn.initial_state(batch_size, device))
    if draws_seed is not None:
        g = torch.Generator(device=device).manual_seed(draws_seed)
    start = clock()
    for i in range(warmup + steps):
        if i == warmup:
            start = clock()
        out, state = step(z.to(dtype), a, state)
        z = mdn.sample(out.log_pi.float(), out.mu.float(), out.log_sigma.float(), tau, g)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return z, clock() - start


@torch.no_grad()
def dream_steps_per_second(mdnrnn: MDNRNN, batch_size: int = 1024, steps: int = 100, tau: float = 1.0,
                           seed: int = 0, precision: str = "fp32",
                           clock: Callable[[], float] = time.perf_counter) -> float:
    """Measured dream steps per second of `clock` (LSTM step + mixture sampling) for a batch of parallel dreams,
    with M in one of PRECISIONS (5 warm-up steps are not counted; a compiled step compiles in them)."""
    _, seconds = _dream_batch(mdnrnn, batch_size, steps, tau, seed, precision, warmup=5, clock=clock)
    return steps * batch_size / seconds


@torch.no_grad()
def dream_statistics_gaps(mdnrnn: MDNRNN, precisions: Sequence[str], batch_size: int = 4096, steps: int = 20,
                          tau: float = 1.0, seed: int = 0) -> dict[str, float]:
    """How far the dreams of M in each precision lie from one batch of M's fp32 dreams: after `steps` steps of
    `batch_size` dreams each (the same starts, other random draws), the largest gap over latent dimensions between
    their means or their standard deviations, in units of the fp32 dreams' standard deviation. "fp32" is always
    among the answers: its gap is the sampling noise alone, and another precision dreams the same when its gap is
    about that."""
    reference, _ = _dream_batch(mdnrnn, batch_size, steps, tau, seed)
    scale = reference.std(dim=0).clamp(min=1e-6)
    gaps = {}
    for precision in dict.fromkeys(("fp32", *precisions)):
        other, _ = _dream_batch(mdnrnn, batch_size, steps, tau, seed, precision, draws_seed=seed + 1)
        mean_gap = (other.mean(dim=0) - reference.mean(dim=0)).abs() / scale
        std_gap = (other.std(dim=0) - reference.std(dim=0)).abs() / scale
        gaps[precision] = float(torch.maximum(mean_gap, std_gap).max())
    return gaps
