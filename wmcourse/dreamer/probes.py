"""Dreamer's dream measured against reality (notebook 08, section 9): the score the actor gets entirely inside
the world model, how far a dream fed the real actions drifts from the real states, and one real episode to
compare with. Each takes a trained agent (wmcourse.dreamer.agent.Dreamer; the shipped one: dreamer_training.load_agent).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ShapeError
from ..real.envs import make_env
from .agent import Dreamer, DreamerPolicy
from .rssm import sample_one_hot, symexp


@torch.no_grad()
def dream_returns(agent: Dreamer, start_obs: np.ndarray, max_steps: int = 500, seed: int = 0) -> np.ndarray:
    """The scores the actor gets entirely inside the world model's dream, one per real start observation.

    Each dream starts from the posterior of a real first observation, then runs on the prior alone: the actor
    picks actions, the reward head pays, and the dream ends when a draw from the continue head says so
    (or at max_steps, CartPole's time limit). Compare with the real score to see the dream/real gap."""
    start_obs = np.asarray(start_obs, np.float32)
    if start_obs.ndim != 2 or start_obs.shape[1] != agent.config.rssm.obs_size:
        raise ShapeError(f"Expected start observations (n, {agent.config.rssm.obs_size}), got {start_obs.shape}.")
    g = torch.Generator().manual_seed(seed)
    n, wm = len(start_obs), agent.world_model
    state, _ = wm.observe_step(wm.initial(n), torch.zeros(n, agent.config.rssm.action_size),
                               torch.as_tensor(start_obs), torch.ones(n, dtype=torch.bool), g)
    total, alive = torch.zeros(n), torch.ones(n, dtype=torch.bool)
    for _ in range(max_steps):
        action = sample_one_hot(agent.policy_logits(agent.feat(state)), g)
        state = wm.imagine_step(state, action, g)
        reward, cont = wm.heads(agent.feat(state))
        total += reward * alive
        alive &= torch.rand(n, generator=g) < cont
        if not alive.any():
            break
    return total.numpy()


@torch.no_grad()
def open_loop_error(agent: Dreamer, obs: np.ndarray, actions: np.ndarray, context: int = 5,
                    seed: int = 0) -> np.ndarray:
    """How far the dream drifts from reality: observe the first `context` real states of an episode, then
    predict the rest from the prior alone, fed the actions that were really taken. Returns the absolute error
    of each decoded state, (T - context, obs_size), in the task's units (symexp of the decoder)."""
    return np.abs(open_loop_states(agent, obs, actions, context, seed) - np.asarray(obs, np.float32)[context:])


@torch.no_grad()
def open_loop_states(agent: Dreamer, obs: np.ndarray, actions: np.ndarray, context: int = 5,
                     seed: int = 0) -> np.ndarray:
    """The dreamed states of open_loop_error (the RSSM's decoded prior after `context` real observations, fed
    the real actions), (T - context, obs_size), to set beside the real states obs[context:]."""
    obs, actions = np.asarray(obs, np.float32), np.asarray(actions)
    if obs.ndim != 2 or len(actions) != len(obs) - 1 or len(obs) <= context:
        raise ShapeError(f"Expected states (T + 1, obs) and actions (T,) with T + 1 > context = {context}, got "
                         f"{obs.shape} and {actions.shape}.")
    g = torch.Generator().manual_seed(seed)
    wm, A = agent.world_model, agent.config.rssm.action_size
    one_hot = torch.eye(A)[torch.as_tensor(actions, dtype=torch.long)]
    state, prev = wm.initial(1), torch.zeros(1, A)
    for t in range(context):
        state, _ = wm.observe_step(state, prev, torch.as_tensor(obs[t : t + 1]), torch.tensor([t == 0]), g)
        prev = one_hot[t : t + 1]
    predicted = []
    for t in range(context, len(obs)):
        state = wm.imagine_step(state, prev, g)
        predicted.append(symexp(wm.decoder(agent.feat(state)))[0])
        if t < len(actions):
            prev = one_hot[t : t + 1]
    return torch.stack(predicted).numpy()


def play_episode(agent: Dreamer, env_id: str = "CartPole-v1", seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """One real episode of the actor: (states (T + 1, obs), actions (T,), return)."""
    env = make_env(env_id)
    policy = DreamerPolicy(agent, "sample", seed)
    obs, _ = env.reset(seed=seed)
    policy.reset(np.array([True]))
    states, actions, total, done = [obs], [], 0.0, False
    while not done:
        action = int(policy.act(obs[None])[0])
        obs, reward, terminated, truncated, _ = env.step(action)
        states.append(obs)
        actions.append(action)
        total += float(reward)
        done = terminated or truncated
    env.close()
    return np.stack(states), np.array(actions), total


def drift_report(states: np.ndarray, error: np.ndarray, names=("x", "x_dot", "theta", "theta_dot"),
                 at: int = 15) -> list[str]:
    """One line per state number: its open-loop error `at` dreamed steps (open_loop_error of the episode
    `states`), and after how many dreamed steps the error first exceeds that number's spread (std) over the
    whole real episode, when the dream has lost track of it."""
    spread = np.asarray(states).std(axis=0)
    lines = []
    for i, name in enumerate(names):
        lost = np.nonzero(error[:, i] > spread[i])[0]
        lines.append(f"{name:>9s}: error at {at} steps {error[min(at - 1, len(error) - 1), i]:.3f}; first larger than "
                     f"its spread over the episode ({spread[i]:.3f}) after {lost[0] + 1 if len(lost) else 'no'} "
                     "dreamed steps")
    return lines
