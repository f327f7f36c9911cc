"""A World Model of CartPole: the state is only 4 numbers, so V is a normaliser and M does all the work.

CartPole-v1 observes s = (x, x_dot, theta, theta_dot). The episode ends ("done") when |x| > 2.4 or
|theta| > 12 degrees, and is cut (not done) at 500 steps; every step alive pays 1.

    V:  z_t = (s_t - mean) / std                      a fixed normaliser, fitted to the data once
    M:  h_{t+1} = LSTM([z_t, onehot(a_t)], h_t)       wmcourse.worldmodels.mdnrnn.MDNRNN with z_size 4, 2 actions
        p(z_{t+1} | z_t, a_t, h_t) = prod_d sum_k pi_dk N(z_{t+1,d}; mu_dk, sigma_dk^2), read from h_{t+1}
        P(done_t) = sigmoid(w . h_{t+1} + b)          the learned done head (optional)
    C:  a_t = [w . f_t + b > 0]                       one linear output, its sign picks left or right;
                                                      f_t = z_t ("state") or [z_t, h_t] ("state+memory")

Without a done head the dream ends by the task's own rule applied to M's predicted state (`done_rule`):
the dream is then only as right about "the pole fell" as M is about the state. Every dream step pays 1, as
the real game does, so a controller's dream score is the number of steps its dreams last (at most 500).

This module holds the pieces: real episodes and their collection, the world model and its training
(through mdnrnn_training.train_mdnrnn), the batched dream (`controller_dream`, in which evolve.evolve_in_dream
evolves C and dream.controller_returns scores it), and the agent in the real game.
wmcourse.experiments.cartpole runs the experiment.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ..checkpoint import save_torch
from ..errors import CourseError, MissingArtefactError, SettingsError, ShapeError
from ..real.envs import make_vector_env
from . import controller, evolve, latents, mdn, mdnrnn, probes
from . import train_mdnrnn as mdnrnn_training

ENV_ID = "CartPole-v1"
STATE_NAMES = ("cart position x", "cart velocity x_dot", "pole angle theta", "pole angular velocity theta_dot")
X_LIMIT = 2.4                               # |x| beyond this ends the episode
THETA_LIMIT = 12 * 2 * math.pi / 360        # 0.2094 rad: |theta| beyond this ends the episode
MAX_STEPS = 500                             # CartPole-v1's time limit (a cut, not a done)
FEATURES = ("state", "state+memory")
FORMAT = "wmcourse.cartpole/1"


# --- real episodes -----------------------------------------------------------------------------------

@dataclass
class Episodes:
    """Real CartPole episodes back to back. Episode i has T_i steps and T_i + 1 states:

        states   float32 (sum_i (T_i + 1), 4)   every state, the final one included
        actions  int64   (sum_i T_i,)           0 pushes left, 1 pushes right
        dones    bool    (sum_i T_i,)           True on the step after which the pole fell or the cart left
        lengths  int64   (E,)                   T_i
    """

    states: np.ndarray
    actions: np.ndarray
    dones: np.ndarray
    lengths: np.ndarray

    def __post_init__(self) -> None:
        self.states = np.asarray(self.states, np.float32)
        self.actions, self.dones = np.asarray(self.actions, np.int64), np.asarray(self.dones, bool)
        self.lengths = np.asarray(self.lengths, np.int64)
        steps, E = int(self.lengths.sum()), len(self.lengths)
        if (self.states.shape != (steps + E, 4) or self.actions.shape != (steps,) or self.dones.shape != (steps,)
                or E == 0 or (self.lengths < 1).any()):
            raise ShapeError(f"Episodes need states ({steps + E}, 4), actions and dones ({steps},) for lengths "
                             f"{self.lengths.tolist()[:5]}...; got {self.states.shape}, {self.actions.shape}, "
                             f"{self.dones.shape}.")

    @classmethod
    def join(cls, parts: list[Episodes]) -> Episodes:
        return cls(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("states", "actions", "dones", "lengths")))

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def num_steps(self) -> int:
        return int(self.lengths.sum())

    @property
    def first_states(self) -> np.ndarray:
        """The state each episode started from, (E, 4)."""
        return self.states[np.concatenate([[0], np.cumsum(self.lengths + 1)[:-1]])]

    def episode(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(states (T+1, 4), actions (T,), dones (T,)) of episode i."""
        s = int(self.lengths[:i].sum())
        return self.states[s + i:s + i + self.lengths[i] + 1], self.actions[s:s + self.lengths[i]], \
            self.dones[s:s + self.lengths[i]]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **asdict(self))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Episodes:
        if not Path(path).exists():
            raise MissingArtefactError(f"No CartPole episodes at {path}: make them with `python -m wmcourse cartpole`.")
        with np.load(path) as f:
            return cls(f["states"], f["actions"], f["dones"], f["lengths"])


def collect_episodes(policy, steps: int, seed: int = 0, num_envs: int = 8, epsilon: float = 0.0) -> Episodes:
    """Play `policy` (None: uniformly random) in `num_envs` real CartPoles for exactly `steps` real steps.

    With probability epsilon each action is replaced by a random one (exploration around the policy's path).
    Episodes still running when the budget is spent are kept, cut short and not done.
    policy follows wmcourse.real.evaluate.Policy: act(obs (n, 4)) -> actions (n,), reset(done mask).
    """
    if steps < 1 or num_envs < 1 or not 0 <= epsilon <= 1:
        raise SettingsError(f"Need steps >= 1, num_envs >= 1 and 0 <= epsilon <= 1, "
                            f"got {steps}, {num_envs}, {epsilon}.")
    rng = np.random.default_rng(seed)
    envs = make_vector_env(ENV_ID, num_envs)
    obs, _ = envs.reset(seed=seed)
    if policy is not None:
        policy.reset(np.ones(num_envs, bool))
    running = [{"states": [o], "actions": [], "dones": []} for o in obs]
    finished: list[dict] = []
    taken = 0
    while taken < steps:
        n_act = min(num_envs, steps - taken)
        actions = rng.integers(0, 2, num_envs) if policy is None else np.asarray(policy.act(obs)).astype(np.int64)
        explore = rng.random(num_envs) < epsilon
        actions = np.where(explore, rng.integers(0, 2, num_envs), actions)
        obs, _, terminated, truncated, info = envs.step(actions)
        ended = terminated | truncated
        for i in range(n_act):
            ep = running[i]
            ep["actions"].append(actions[i])
            ep["dones"].append(bool(terminated[i]))
            ep["states"].append(info["final_obs"][i] if ended[i] else obs[i])
            if ended[i]:
                finished.append(ep)
                running[i] = {"states": [obs[i]], "actions": [], "dones": []}
        if policy is not None:
            policy.reset(ended)
        taken += n_act
    envs.close()
    episodes = finished + [ep for ep in running if ep["actions"]]
    return Episodes(np.concatenate([np.stack(e["states"]) for e in episodes]),
                    np.concatenate([np.array(e["actions"]) for e in episodes]),
                    np.concatenate([np.array(e["dones"]) for e in episodes]),
                    np.array([len(e["actions"]) for e in episodes]))


def done_rule(states: np.ndarray | Tensor):
    """The task's own end rule: |x| > 2.4 or |theta| > 12 degrees, for states (..., 4)."""
    return (abs(states[..., 0]) > X_LIMIT) | (abs(states[..., 2]) > THETA_LIMIT)


# --- the world model ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorldModelConfig:
    """M for CartPole and its training. The defaults are small: the world has 4 numbers and 2 actions."""

    hidden: int = 64
    K: int = 5                    # Gaussians per state dimension (K = 1: a single Gaussian)
    done_head: bool = True        # learn P(done | h); without it the dream applies done_rule to M's state
    done_weight: float = 10.0     # done = 1 steps weigh this much (the paper's factor for Doom)
    seq_len: int = 32             # an LSTM's cost on a CPU grows with the window, hardly with the batch
    batch_size: int = 64
    lr: float = 1e-3
    train_steps: int = 3000       # optimizer steps (epochs are derived from the data size)
    input_noise: float = 0.0      # std of noise added to the normalised states M reads (0: none)

    def mdnrnn_config(self) -> mdnrnn.MDNRNNConfig:
        return mdnrnn.MDNRNNConfig(z_size=4, action_size=2, hidden=self.hidden, K=self.K, batch_size=self.batch_size,
                                   seq_len=self.seq_len, lr=self.lr, predict_reward=False,
                                   predict_done=self.done_head, done_weight=self.done_weight)


class StateWorldModel(nn.Module):
    """V (a fixed normaliser z = (s - mean) / std) and M (an MDN-RNN over [z, onehot(a)])."""

    def __init__(self, config: WorldModelConfig, mean: np.ndarray, std: np.ndarray):
        super().__init__()
        self.config = config
        self.m = mdnrnn.MDNRNN(config.mdnrnn_config())
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean), dtype=torch.float32).reshape(4))
        self.register_buffer("std", torch.as_tensor(np.asarray(std), dtype=torch.float32).reshape(4))

    def encode(self, states: np.ndarray | Tensor) -> Tensor:
        """z = (s - mean) / std."""
        return (torch.as_tensor(np.asarray(states), dtype=torch.float32) - self.mean) / self.std

    def decode(self, z: Tensor) -> Tensor:
        """s = mean + std z."""
        return self.mean + self.std * z


def normaliser(episodes: Episodes) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of every state in the data (std floored at 1e-3)."""
    return episodes.states.mean(axis=0), np.maximum(episodes.states.std(axis=0), 1e-3)


def pieces(episodes: Episodes, length: int) -> Episodes:
    """Cut every episode into pieces of at most `length` steps, aligned to its END: the last piece holds the
    last `length` steps (and the done), the one before the `length` steps before those, and so on.

    Why: M trains on windows of seq_len steps, and latents.epoch_windows starts a window of a long episode at a
    random step, so the final step, the only one that teaches the done head, would be in a window only once
    in about seq_len. As pieces, every step, the final one included, is trained on once per epoch.
    """
    if length < 1:
        raise SettingsError(f"length must be at least 1, got {length}.")
    states, actions, dones, lengths = [], [], [], []
    for i in range(len(episodes)):
        s, a, d = episodes.episode(i)
        ends = list(range(len(a), 0, -length))
        for end in reversed(ends):
            start = max(end - length, 0)
            states.append(s[start:end + 1])
            actions.append(a[start:end])
            dones.append(d[start:end])
            lengths.append(end - start)
    return Episodes(np.concatenate(states), np.concatenate(actions), np.concatenate(dones), np.array(lengths))


def to_encoded(episodes: Episodes, model: StateWorldModel) -> latents.EncodedEpisodes:
    """Real episodes in the format M trains on (wmcourse.worldmodels.latents), cut into pieces of seq_len steps:
    mu = normalised states, one-hot actions, reward 1 a step, the dones."""
    episodes = pieces(episodes, model.config.seq_len)
    z = model.encode(episodes.states)
    noise = max(model.config.input_noise, 1e-4)
    return latents.EncodedEpisodes(
        mu=z, logvar=torch.full_like(z, 2 * math.log(noise)),
        actions=torch.nn.functional.one_hot(torch.as_tensor(episodes.actions), 2).float(),
        rewards=torch.ones(episodes.num_steps), dones=torch.as_tensor(episodes.dones),
        lengths=torch.as_tensor(episodes.lengths))


def train_world_model(episodes: Episodes, config: WorldModelConfig = WorldModelConfig(), seed: int = 0,
                      progress: bool = False) -> tuple[StateWorldModel, list[dict]]:
    """Fit V's normaliser to the data, then train M for about config.train_steps optimizer steps
    (mdnrnn_training.train_mdnrnn: Adam, gradient values clipped to 1, fresh windows each epoch).
    Returns (model, history)."""
    model = StateWorldModel(config, *normaliser(episodes))
    data = to_encoded(episodes, model)
    epochs = max(1, math.ceil(config.train_steps / math.ceil(len(data) / config.batch_size)))
    m, history = mdnrnn_training.train_mdnrnn(data, config.mdnrnn_config(), epochs=epochs, seed=seed, device="cpu",
                                              held_out=0.0, progress=progress)
    model.m = m
    return model.eval(), history


def save_world_model(model: StateWorldModel, path: str | Path) -> Path:
    """Write V's normaliser, M's weights and the config to a .pt file (load_world_model reads it)."""
    return save_torch(path, FORMAT, model.config, model=model.state_dict())


def load_world_model(path: str | Path) -> StateWorldModel:
    """The world model saved by save_world_model, in eval mode."""
    if not Path(path).exists():
        raise MissingArtefactError(f"No CartPole world model at {path}: make it with `python -m wmcourse cartpole`.")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CourseError(f"{path} is not a CartPole world model written by "
                          "wmcourse.worldmodels.cartpole.save_world_model.")
    model = StateWorldModel(WorldModelConfig(**ckpt["config"]), np.zeros(4), np.ones(4))
    model.load_state_dict(ckpt["model"])
    return model.eval()


# --- the dream ---------------------------------------------------------------------------------------

class CartPoleDream:
    """B dreams of CartPole stepped together through M: the interface of dream.BatchedDream
    (reset(batch) -> features, step(actions) -> features, reward, done), so dream.population_returns runs it.

    Each step pays 1. A dream ends when M's done head gives P(done) > 0.5 (or, without a done head, when
    done_rule holds for M's predicted state), or at max_steps.
    """

    def __init__(self, model: StateWorldModel, start_states: np.ndarray, features: str = "state", tau: float = 1.0,
                 max_steps: int = MAX_STEPS, generator: torch.Generator | None = None, done_threshold: float = 0.5):
        if features not in FEATURES:
            raise SettingsError(f"Unknown features {features!r}: expected one of {FEATURES}.")
        start_states = np.asarray(start_states, np.float32)
        if start_states.ndim != 2 or start_states.shape[1] != 4:
            raise ShapeError(f"Expected a pool of real start states of shape (N, 4), got {start_states.shape}.")
        self.model, self.features_kind, self.tau, self.max_steps = model.eval(), features, tau, max_steps
        self.done_threshold = done_threshold
        self.start_z = model.encode(start_states)
        self.generator = generator

    @property
    def feature_size(self) -> int:
        return 4 + (self.model.config.hidden if self.features_kind == "state+memory" else 0)

    def features(self) -> Tensor:
        return self.z if self.features_kind == "state" else torch.cat([self.z, self.state[0]], dim=-1)

    @torch.no_grad()
    def reset(self, batch: int) -> Tensor:
        """Start `batch` dreams from start states drawn at random from the pool; return their features."""
        return self.reset_to(torch.randint(len(self.start_z), (batch,), generator=self.generator))

    @torch.no_grad()
    def reset_to(self, pick: Tensor) -> Tensor:
        """Start one dream from each chosen start state (indices into the pool); return their features."""
        self.z = self.start_z[pick]
        self.state = self.model.m.initial_state(len(pick))
        self.t = 0
        return self.features()

    @torch.no_grad()
    def step(self, actions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """actions (B,) or (B, 1) of 0/1 -> features, reward (B,) (always 1), done (B,) bool."""
        onehot = torch.nn.functional.one_hot(actions.reshape(-1).long(), 2).float()
        out, self.state = self.model.m.step(self.z, onehot, self.state)
        self.z = mdn.sample(out.log_pi, out.mu, out.log_sigma, self.tau, self.generator)
        self.t += 1
        self.last_done_logit = out.done_logit
        if out.done_logit is not None:
            done = torch.sigmoid(out.done_logit) > self.done_threshold
        else:
            done = done_rule(self.model.decode(self.z))
        if self.t >= self.max_steps:
            done = torch.ones_like(done)
        return self.features(), torch.ones(len(done)), done


# --- the controller, in the dream and in reality -----------------------------------------------------

@dataclass(frozen=True)
class ControllerSettings:
    """C and how CMA-ES evolves it in the dream."""

    features: str = "state"
    tau: float = 1.0
    population: int = 32
    rollouts: int = 8
    generations: int = 30
    sigma_init: float = 0.5
    max_steps: int = MAX_STEPS    # a dream is cut here, as the real game is at 500

    def controller_config(self, hidden: int) -> controller.ControllerConfig:
        size = 4 + (hidden if self.features == "state+memory" else 0)
        return controller.ControllerConfig(input_size=size, action_size=1, squash="discrete")


def controller_dream(model: StateWorldModel, start_states: np.ndarray,
                     settings: ControllerSettings = ControllerSettings(), seed: int = 0
                     ) -> tuple[CartPoleDream, controller.ControllerConfig]:
    """M's batched dream from real start states (its random draws seeded by `seed`) and the controller that acts
    in it: what evolve.evolve_in_dream evolves C in, and dream.controller_returns scores C in."""
    world = CartPoleDream(model, start_states, settings.features, settings.tau, settings.max_steps,
                          torch.Generator().manual_seed(seed))
    return world, settings.controller_config(model.config.hidden)


def evolve_settings(settings: ControllerSettings, seed: int = 0) -> evolve.EvolveConfig:
    """CMA-ES's settings for C (population, rollouts, sigma, generations), seeded by `seed`."""
    return evolve.EvolveConfig(population=settings.population, rollouts=settings.rollouts,
                               sigma_init=settings.sigma_init, generations=settings.generations, seed=seed)


class WorldModelPolicy:
    """C in the real game: it reads z = V(s) (and M's memory h, which M updates from the real states)."""

    def __init__(self, model: StateWorldModel, params: np.ndarray, features: str = "state"):
        if features not in FEATURES:
            raise SettingsError(f"Unknown features {features!r}: expected one of {FEATURES}.")
        self.model, self.features = model.eval(), features
        self.config = ControllerSettings(features=features).controller_config(model.config.hidden)
        self.params = torch.as_tensor(np.asarray(params), dtype=torch.float32).view(1, -1)
        if self.params.shape[1] != self.config.n_params:
            raise ShapeError(f"A {features!r} controller for this M has {self.config.n_params} parameters, "
                             f"got {self.params.shape[1]}.")
        self.state = None

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        z = self.model.encode(obs)
        if self.features == "state":
            return controller.act(self.params, z.unsqueeze(0), self.config)[0].numpy()
        if self.state is None or self.state[0].shape[0] != len(z):
            self.state = self.model.m.initial_state(len(z))
        actions = controller.act(self.params, torch.cat([z, self.state[0]], -1).unsqueeze(0), self.config)[0]
        _, self.state = self.model.m.step(z, torch.nn.functional.one_hot(actions, 2).float(), self.state)
        return actions.numpy()

    def reset(self, done: np.ndarray) -> None:
        """Forget the memory of the copies whose episode ended (all of it when the number of copies changes)."""
        mask = torch.as_tensor(np.asarray(done), dtype=torch.bool).reshape(-1, 1)
        if self.state is not None and self.state[0].shape[0] != len(mask):
            self.state = None
        if self.state is not None:
            self.state = tuple(s.masked_fill(mask, 0.0) for s in self.state)


# --- looking inside: what the data covers, where dream and reality part, the done signal -------------

END_CAUSES = ("pole fell", "cart left the track", "still up (cut or unfinished)")


def end_causes(episodes: Episodes) -> dict[str, int]:
    """How each episode ended: the pole past 12 degrees, the cart past 2.4, or neither (time limit, or cut)."""
    counts = dict.fromkeys(END_CAUSES, 0)
    for i in range(len(episodes)):
        states, _, dones = episodes.episode(i)
        last = states[-1]
        if dones[-1] and abs(last[2]) > THETA_LIMIT:
            counts[END_CAUSES[0]] += 1
        elif dones[-1]:
            counts[END_CAUSES[1]] += 1
        else:
            counts[END_CAUSES[2]] += 1
    return counts


COVERAGE_CELL = (0.2, 0.2, 0.02, 0.2)  # cell sizes for x, x_dot, theta (rad), theta_dot


def coverage(reference: np.ndarray, states: np.ndarray, cell: tuple[float, ...] = COVERAGE_CELL,
             min_count: int = 3) -> float:
    """Share of `states` (N, 4) whose grid cell holds at least `min_count` states of `reference` (M, 4).

    The state space is cut into boxes of size `cell` (0.2 in x, 0.2 in x_dot, about 1 degree in theta, 0.2 in
    theta_dot). A state in a box that the training data hardly visited is one M can only extrapolate to.
    """
    reference, states = np.asarray(reference), np.asarray(states)
    if reference.ndim != 2 or states.ndim != 2 or reference.shape[1] != 4 or states.shape[1] != 4:
        raise ShapeError(f"Expected two state arrays of shape (N, 4), got {reference.shape} and {states.shape}.")
    size = np.asarray(cell, float)
    cells, counts = np.unique(np.floor(reference / size).astype(np.int64), axis=0, return_counts=True)
    known = {tuple(c) for c in cells[counts >= min_count]}
    return float(np.mean([tuple(c) in known for c in np.floor(states / size).astype(np.int64)]))


@torch.no_grad()
def dream_along(model: StateWorldModel, states: np.ndarray, actions: np.ndarray, samples: int = 8,
                mode: str = "sample", tau: float = 1.0, seed: int = 0) -> np.ndarray:
    """M's open-loop guess of a real episode: from the real s_0, under the real actions a_0 .. a_{T-1},
    each predicted state fed back in (M never sees the real states after s_0).

    states (T + 1, 4), actions (T,). Returns (samples, T + 1, 4) in real units, s_0 first.
    mode as in probes.predict_ahead: "sample" (at temperature tau) or "likeliest".
    """
    states, actions = np.asarray(states, np.float32), np.asarray(actions)
    if states.ndim != 2 or states.shape[1] != 4 or actions.shape != (len(states) - 1,):
        raise ShapeError(f"Expected states (T + 1, 4) and actions (T,), got {states.shape} and {actions.shape}.")
    z = model.encode(states)
    onehot = torch.nn.functional.one_hot(torch.as_tensor(actions, dtype=torch.long), 2).float()
    g = torch.Generator().manual_seed(seed)
    n = samples if mode == "sample" else 1
    pred = probes.predict_ahead(model.m, z, onehot, 0, len(actions), mode=mode, samples=n, tau=tau, generator=g)
    out = torch.cat([z[:1].expand(n, 1, 4), pred], dim=1)
    return model.decode(out).numpy()


def parting_step(real: np.ndarray, dreamed: np.ndarray, model: StateWorldModel, threshold: float = 0.5) -> int | None:
    """First step at which the mean dreamed state is more than `threshold` (in units of the data's std, in
    any dimension) from the real one: where dream and reality part. None if they never do."""
    gap = np.abs(dreamed.mean(axis=0) - real) / model.std.numpy()
    far = np.flatnonzero((gap > threshold).any(axis=1))
    return int(far[0]) if len(far) else None


@torch.no_grad()
def done_along(model: StateWorldModel, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """P(done_t) from M's done head along a real episode (M reads the real states): its belief, at each step,
    that this step ends the episode. states (T + 1, 4), actions (T,) -> (T,)."""
    if model.m.done_head is None:
        raise SettingsError("This M has no done head (its dream ends by done_rule on the predicted state).")
    states, actions = np.asarray(states, np.float32), np.asarray(actions)
    if states.ndim != 2 or states.shape[1] != 4 or actions.shape != (len(states) - 1,):
        raise ShapeError(f"Expected states (T + 1, 4) and actions (T,), got {states.shape} and {actions.shape}.")
    onehot = torch.nn.functional.one_hot(torch.as_tensor(actions, dtype=torch.long), 2).float()
    out, _ = model.m(model.encode(states[:-1])[None], onehot[None])
    return torch.sigmoid(out.done_logit[0]).numpy()


def ending_example(episodes: Episodes) -> tuple[int, bool]:
    """The episode to read the done heads along (notebook 07, section 3c): the first one that ended with the cart
    leaving the track, else the first that ended at all. Returns (its index, whether the cart left the track)."""
    ends = [i for i in range(len(episodes)) if episodes.episode(i)[2][-1]
            and abs(episodes.episode(i)[0][-1, 0]) > X_LIMIT]
    if ends:
        return ends[0], True
    return int(np.argmax(episodes.dones[np.cumsum(episodes.lengths) - 1])), False


def done_detection(model: StateWorldModel, episodes: Episodes) -> dict[str, float]:
    """How well the done head reads real episodes: the share of real endings it flags (P > 0.5 on the final
    step of a terminated episode) and its false alarms (P > 0.5 on any other step)."""
    caught, alarms, others = [], 0, 0
    for i in range(len(episodes)):
        states, actions, dones = episodes.episode(i)
        p = done_along(model, states, actions) > 0.5
        if dones[-1]:
            caught.append(p[-1])
        alarms += int(p[~dones].sum())
        others += int((~dones).sum())
    return {"endings_caught": float(np.mean(caught)) if caught else float("nan"),
            "false_alarms": alarms / max(others, 1), "endings": len(caught)}


def survival_grid(n: int = 25, theta: float = 0.25,
                  theta_dot: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start states for `survival`: an n x n grid of pole angles in [-theta, theta] and angular velocities in
    [-theta_dot, theta_dot], the cart at rest in the middle. Returns (thetas (n,), theta_dots (n,), starts (n * n, 4)),
    the starts in the row order survival_maps reshapes to (theta_dot, theta)."""
    thetas, theta_dots = np.linspace(-theta, theta, n), np.linspace(-theta_dot, theta_dot, n)
    starts = np.zeros((n * n, 4), np.float32)
    mesh = np.meshgrid(thetas, theta_dots)
    starts[:, 2], starts[:, 3] = mesh[0].ravel(), mesh[1].ravel()
    return thetas, theta_dots, starts


def survival(model: StateWorldModel, params: np.ndarray, features: str, starts: np.ndarray, horizon: int = 100,
             tau: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """From each start state (N, 4), how many of `horizon` steps C survives (a) in the real game and (b) in
    M's dream (one sampled dream per start). Near the failure boundary these part first. Returns (real, dream)."""
    import gymnasium as gym

    starts = np.asarray(starts, np.float32)
    envs = [gym.make(ENV_ID).unwrapped for _ in starts]
    for env, s in zip(envs, starts):
        env.reset(seed=seed)
        env.state = s.astype(np.float64)
    policy = WorldModelPolicy(model, params, features)
    policy.reset(np.ones(len(starts), bool))
    obs, alive, real = starts.copy(), np.ones(len(starts), bool), np.zeros(len(starts), int)
    for _ in range(horizon):
        actions = policy.act(obs)
        for i in np.flatnonzero(alive):
            obs[i], _, terminated, _, _ = envs[i].step(int(actions[i]))
            real[i] += 1
            alive[i] = not terminated
    return real, dream_survival(model, params, features, starts, horizon, tau, seed)


@torch.no_grad()
def dream_survival(model: StateWorldModel, params: np.ndarray, features: str, starts: np.ndarray, horizon: int = 100,
                   tau: float = 1.0, seed: int = 0, done_threshold: float = 0.5) -> np.ndarray:
    """The dream half of `survival`: from each start state (N, 4), the steps of `horizon` that C survives in one
    sampled dream, which ends when M's done head says P(done) > done_threshold. (N,) ints."""
    starts = np.asarray(starts, np.float32)
    world = CartPoleDream(model, starts, features, tau, horizon, torch.Generator().manual_seed(seed), done_threshold)
    config = ControllerSettings(features=features).controller_config(model.config.hidden)
    features_t = world.reset_to(torch.arange(len(starts)))
    params_t = torch.as_tensor(np.asarray(params), dtype=torch.float32).view(1, -1)
    dreamed, alive_t = torch.zeros(len(starts), dtype=torch.long), torch.ones(len(starts), dtype=torch.bool)
    for _ in range(horizon):
        actions = controller.act(params_t, features_t.unsqueeze(0), config)[0]
        features_t, _, done = world.step(actions)
        dreamed += alive_t.long()
        alive_t &= ~done
    return dreamed.numpy()


# --- one episode of C, watched: in reality and in its dream ------------------------------------------

@torch.no_grad()
def play_real(model: StateWorldModel, params: np.ndarray, features: str = "state", seed: int = 0,
              max_steps: int = MAX_STEPS) -> np.ndarray:
    """One real CartPole-v1 episode of C (wmcourse.worldmodels.cartpole.WorldModelPolicy) from env.reset(seed): every
    state, (T + 1, 4), until the pole fell, the cart left or max_steps."""
    import gymnasium as gym

    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=seed)
    policy = WorldModelPolicy(model, params, features)
    states = [obs]
    for _ in range(max_steps):
        obs, _, terminated, truncated, _ = env.step(int(policy.act(obs[None])[0]))
        states.append(obs)
        if terminated or truncated:
            break
    env.close()
    return np.stack(states).astype(np.float32)


@torch.no_grad()
def play_dream(model: StateWorldModel, params: np.ndarray, start: np.ndarray, features: str = "state",
               tau: float = 1.0, seed: int = 0, max_steps: int = MAX_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """One dream of C from the real state `start` (4,), C acting on what M dreams: the dreamed states
    (T + 1, 4) and M's P(done) at each step (T,), until the done head said P > 0.5 or max_steps."""
    world = CartPoleDream(model, np.asarray(start, np.float32)[None], features, tau, max_steps,
                          torch.Generator().manual_seed(seed))
    config = ControllerSettings(features=features).controller_config(model.config.hidden)
    p = torch.as_tensor(np.asarray(params), dtype=torch.float32).view(1, -1)
    f = world.reset_to(torch.zeros(1, dtype=torch.long))
    states, p_done = [model.decode(world.z)[0]], []
    for _ in range(max_steps):
        f, _, done = world.step(controller.act(p, f.unsqueeze(0), config)[0])
        states.append(model.decode(world.z)[0])
        p_done.append(float(torch.sigmoid(world.last_done_logit[0])) if world.last_done_logit is not None else 0.0)
        if done[0]:
            break
    return torch.stack(states).numpy(), np.asarray(p_done, np.float32)
