"""A compact DQN (Mnih et al. 2015): the model-free baseline, learning from real steps only.

A network Q(s, .) gives one value per action: the return expected after taking it in s. It learns from a
replay buffer of real transitions (s, a, r, s', done) by regression on the one-step target

    y = r + gamma (1 - done) max_a' Q_target(s', a')       loss = Huber(Q(s, a) - y)

where Q_target is a copy of Q refreshed now and then (it keeps the target still while Q chases it).
It acts epsilon-greedily: a random action with probability epsilon (1 falling to 0.04 over the first 16%
of training), else argmax_a Q(s, a). The defaults are rl-baselines3-zoo's tuned CartPole-v1 settings for
stable-baselines3's DQN (50,000 steps, 256-256 MLP, lr 2.3e-3, 128 gradient steps every 256 env steps,
target refreshed every 10 env steps), so it is a fair baseline at the World Model's budget.
A time-limit cut (truncation at 500 steps) is not a done: the target still bootstraps there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..errors import SettingsError
from ..real.envs import make_env
from ..real.evaluate import evaluate


@dataclass(frozen=True)
class DQNConfig:
    steps: int = 50_000             # real environment steps
    hidden: int = 256
    lr: float = 2.3e-3
    gamma: float = 0.99
    batch_size: int = 64
    buffer_size: int = 100_000
    learning_starts: int = 1000     # random actions before the first update
    train_freq: int = 256           # env steps between bursts of updates
    gradient_steps: int = 128       # updates per burst
    target_update: int = 10         # env steps between copies of Q into Q_target
    exploration_fraction: float = 0.16
    epsilon_final: float = 0.04
    max_grad_norm: float = 10.0


def q_network(obs_size: int = 4, actions: int = 2, hidden: int = 256) -> nn.Sequential:
    """s (B, obs_size) -> Q(s, .) (B, actions): an MLP with two ReLU layers."""
    return nn.Sequential(nn.Linear(obs_size, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, actions))


def epsilon_at(step: int, config: DQNConfig) -> float:
    """Linear decay from 1 to epsilon_final over the first exploration_fraction of the steps, then flat."""
    progress = min(step / max(config.exploration_fraction * config.steps, 1), 1.0)
    return 1.0 + progress * (config.epsilon_final - 1.0)


def td_loss(q: nn.Module, q_target: nn.Module, batch: dict[str, torch.Tensor], gamma: float) -> torch.Tensor:
    """Huber(Q(s, a) - [r + gamma (1 - done) max_a' Q_target(s', a')]), mean over the batch."""
    with torch.no_grad():
        target = batch["reward"] + gamma * (1.0 - batch["done"]) * q_target(batch["next_obs"]).max(dim=1).values
    chosen = q(batch["obs"]).gather(1, batch["action"].unsqueeze(1)).squeeze(1)
    return F.smooth_l1_loss(chosen, target)


class GreedyPolicy:
    """argmax_a Q(s, a) for a batch of observations (wmcourse.real.evaluate.Policy)."""

    def __init__(self, q: nn.Module):
        self.q = q.eval()

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.q(torch.as_tensor(np.asarray(obs), dtype=torch.float32)).argmax(dim=1).numpy()

    def reset(self, done: np.ndarray) -> None:
        pass


def train_dqn(env_id: str = "CartPole-v1", config: DQNConfig = DQNConfig(), seed: int = 0, eval_every: int = 5000,
              eval_episodes: int = 20, progress: bool = True) -> tuple[nn.Module, list[dict]]:
    """Train Q for config.steps real steps. Every eval_every steps the greedy policy is scored over
    eval_episodes separate real episodes (not counted in the budget). Returns (Q, learning curve rows
    {"steps", "mean", "std", "epsilon"})."""
    if config.steps < 1 or eval_every < 1:
        raise SettingsError(f"steps and eval_every must be positive, got {config.steps} and {eval_every}.")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = make_env(env_id)
    n_obs, n_act = env.observation_space.shape[0], int(env.action_space.n)
    q, q_target = q_network(n_obs, n_act, config.hidden), q_network(n_obs, n_act, config.hidden)
    q_target.load_state_dict(q.state_dict())
    opt = torch.optim.Adam(q.parameters(), lr=config.lr)
    size = min(config.buffer_size, config.steps)
    buffer = {"obs": np.zeros((size, n_obs), np.float32), "next_obs": np.zeros((size, n_obs), np.float32),
              "action": np.zeros(size, np.int64), "reward": np.zeros(size, np.float32),
              "done": np.zeros(size, np.float32)}
    curve: list[dict] = []
    obs, _ = env.reset(seed=seed)
    for step in tqdm(range(1, config.steps + 1), desc="DQN", unit="step", disable=not progress, mininterval=1):
        epsilon = 1.0 if step <= config.learning_starts else epsilon_at(step, config)
        if rng.random() < epsilon:
            action = int(rng.integers(n_act))
        else:
            with torch.no_grad():
                action = int(q(torch.as_tensor(obs[None], dtype=torch.float32)).argmax())
        next_obs, reward, terminated, truncated, _ = env.step(action)
        i = (step - 1) % size
        for key, value in (("obs", obs), ("next_obs", next_obs), ("action", action), ("reward", reward),
                           ("done", float(terminated))):
            buffer[key][i] = value
        obs = env.reset()[0] if terminated or truncated else next_obs
        if step > config.learning_starts and step % config.train_freq == 0:
            q.train()
            for _ in range(config.gradient_steps):
                pick = rng.integers(0, min(step, size), config.batch_size)
                batch = {k: torch.as_tensor(v[pick]) for k, v in buffer.items()}
                loss = td_loss(q, q_target, batch, config.gamma)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(q.parameters(), config.max_grad_norm)
                opt.step()
        if step % config.target_update == 0:
            q_target.load_state_dict(q.state_dict())
        if step % eval_every == 0 or step == config.steps:
            result = evaluate(env_id, GreedyPolicy(q), eval_episodes, seed=10_000 + step, num_envs=10, progress=False)
            curve.append({"steps": step, "mean": result.mean, "std": result.std, "epsilon": epsilon})
            q.train()
    env.close()
    return q.eval(), curve
