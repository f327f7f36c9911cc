"""A minimal Dreamer-style agent (DreamerV3's recipe, small): a world model (wmcourse.dreamer.rssm) and an
actor-critic trained only in its imagination, alternating with real interaction.

    repeat until the budget of real steps is spent:
        1. act in the real environment with the actor, store each step in the replay buffer
        2. every `train_every` real steps: one world-model update on a batch of replayed sequences,
        3.   then imagine `horizon` steps from every posterior state of that batch with the actor,
             and update the actor and the critic on the imagined trajectories

Values in imagination. From a start state s_0 the actor picks a_0, the prior gives s_1, and so on to s_H.
The reward head gives r_t (for arriving at s_{t+1}), the continue head c_t = P(s_{t+1} is not terminal),
a slow copy of the critic gives v_t = V(s_t). The lambda-return blends the two ways to judge a state
(see lambda_returns):

    R_t = r_t + gamma * c_t * ((1 - lam) * v_{t+1} + lam * R_{t+1}),      R_H = v_H

Critic: regress V(s_t) on R_t in symlog space. Actor (discrete actions, REINFORCE as in DreamerV3):
maximise log pi(a_t | s_t) * sg((R_t - V(s_t)) / max(1, S)) + eta * H[pi(. | s_t)], where S is a running
estimate of the spread of returns (95th minus 5th percentile), so one entropy scale suits every task.
Every term is weighted by the imagined probability that the episode is still running at s_t.

This module is the model and its losses: to change the actor or the critic, read this file. The rest of Dreamer
lives beside it: wmcourse.dreamer.train (replay buffer, the loop above with resume, checkpoints and results
files), wmcourse.dreamer.probes (the dream measured against reality), wmcourse.lessons.n08_dreamer (notebook 08's
pictures) and wmcourse.experiments.dreamer_comparison (Dreamer next to World Models: notebook 08's tables).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checkpoint import count_parameters
from ..errors import SettingsError, ShapeError
from ..real.envs import check_env_id
from .rssm import RSSM, RSSMConfig, State, mlp, sample_one_hot, symexp, symlog, unimix_logits

# --- lambda-returns ---------------------------------------------------------------------------------------

def lambda_returns(rewards: Tensor, values: Tensor, continues: Tensor, gamma: float = 0.997,
                   lam: float = 0.95) -> Tensor:
    """The lambda-returns of an imagined trajectory, computed backwards from the horizon H:

        R_t = r_t + gamma * c_t * ((1 - lam) * v_{t+1} + lam * R_{t+1})   for t = H-1, ..., 0,   R_H = v_H

    rewards r_t (H, ...): the reward for the step from s_t to s_{t+1};
    continues c_t (H, ...): 1 if s_{t+1} is not terminal (or its predicted probability);
    values v_t (H + 1, ...): the critic's V(s_t) for s_0 ... s_H (v_0 is not used: it is R_0's baseline).
    lam = 0 gives one-step TD targets r_t + gamma c_t v_{t+1}, lam = 1 the discounted sum of rewards with
    v_H at the end. Returns R_0 ... R_{H-1}, shape (H, ...).
    """
    if rewards.shape != continues.shape or values.shape != (rewards.shape[0] + 1, *rewards.shape[1:]):
        raise ShapeError(f"Expected rewards and continues of shape (H, ...) and values of shape (H + 1, ...), got "
                         f"{tuple(rewards.shape)}, {tuple(continues.shape)} and {tuple(values.shape)}.")
    if not 0.0 <= lam <= 1.0 or not 0.0 <= gamma <= 1.0:
        raise SettingsError(f"gamma and lam must lie in [0, 1], got {gamma} and {lam}.")
    returns = []
    last = values[-1]
    for t in reversed(range(rewards.shape[0])):
        last = rewards[t] + gamma * continues[t] * ((1.0 - lam) * values[t + 1] + lam * last)
        returns.append(last)
    return torch.stack(returns[::-1])


# --- configuration --------------------------------------------------------------------------------------

@dataclass
class DreamerConfig:
    """Everything one run needs. DreamerV3's values where they fit; smaller networks and larger learning
    rates for a 4-number task on one CPU core."""

    env_id: str = "CartPole-v1"
    steps: int = 50_000           # real environment steps (the budget)
    seed: int = 0
    prefill: int = 1_000          # random-policy steps before the first update
    train_every: int = 5          # one update (world model, then actor-critic) every this many real steps
    batch: int = 16               # replayed sequences per update
    seq_len: int = 32             # their length
    horizon: int = 15             # imagination horizon (DreamerV3: 15)
    imagine_starts: int = 256     # posterior states the dream starts from, drawn from the batch (DreamerV3: all)
    gamma: float = 0.997          # DreamerV3's (an effective horizon of 333 steps; see notebook 08 for 0.99)
    lam: float = 0.95             # DreamerV3: 0.95
    model_lr: float = 6e-4
    actor_lr: float = 2e-4
    critic_lr: float = 2e-4
    grad_clip: float = 100.0
    entropy: float = 3e-4         # eta (DreamerV3: 3e-4)
    target_rate: float = 0.02     # the slow critic follows the critic at this rate per update
    return_decay: float = 0.99    # of the running return spread S
    eval_every: int = 2_500       # real steps between evaluations (evaluation episodes are extra, not training)
    eval_episodes: int = 10
    final_episodes: int = 100
    rssm: RSSMConfig = field(default_factory=RSSMConfig)

    def __post_init__(self) -> None:
        if isinstance(self.rssm, dict):
            self.rssm = RSSMConfig(**self.rssm)
        check_env_id(self.env_id)
        for name in ("steps", "train_every", "batch", "seq_len", "horizon", "imagine_starts", "eval_every",
                     "eval_episodes", "final_episodes"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}.")

    @classmethod
    def from_dict(cls, d: dict) -> DreamerConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


# --- the agent ------------------------------------------------------------------------------------------

class Dreamer(nn.Module):
    """World model + actor + critic (+ the critic's slow copy, which is not trained by gradients)."""

    def __init__(self, config: DreamerConfig):
        super().__init__()
        self.config = config
        c = config.rssm
        self.world_model = RSSM(c)
        self.actor = mlp(c.feat, c.action_size, c.hidden)
        self.critic = mlp(c.feat, 1, c.hidden)
        self.slow_critic = copy.deepcopy(self.critic).requires_grad_(False)

    def feat(self, state: State) -> Tensor:
        return torch.cat([state.h, state.z], -1)

    def policy_logits(self, feat: Tensor) -> Tensor:
        return unimix_logits(self.actor(feat), 0.01)

    def value(self, feat: Tensor, slow: bool = False) -> Tensor:
        """V(s) in the task's units: the critic predicts symlog(V), symexp brings it back."""
        return symexp((self.slow_critic if slow else self.critic)(feat).squeeze(-1))

    def parameter_counts(self) -> dict[str, int]:
        counts = {"world model": count_parameters(self.world_model), "actor": count_parameters(self.actor),
                  "critic": count_parameters(self.critic)}
        counts["total (trained)"] = sum(counts.values())
        return counts


class DreamerPolicy:
    """The actor in the real environment (wmcourse.real.evaluate.Policy): each step the world model folds the new
    observation into its state (posterior), then the actor picks an action from [h, z].

    mode "sample" draws from the actor's distribution (as in training), "greedy" takes its likeliest action."""

    def __init__(self, agent: Dreamer, mode: str = "sample", seed: int = 0):
        if mode not in ("sample", "greedy"):
            raise SettingsError(f"mode must be 'sample' or 'greedy', got {mode!r}.")
        self.agent, self.mode = agent, mode
        self.generator = torch.Generator().manual_seed(seed)
        self.state: State | None = None
        self.first: np.ndarray | None = None

    def reset(self, done: np.ndarray) -> None:
        done = np.asarray(done, bool)
        if self.first is None or len(self.first) != len(done):
            self.first = np.ones(len(done), bool)
        self.first |= done

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        obs_t = torch.as_tensor(np.asarray(obs), dtype=torch.float32)
        if obs_t.dim() != 2 or obs_t.shape[1] != self.agent.config.rssm.obs_size:
            raise ShapeError(f"Expected a batch of observations (n, {self.agent.config.rssm.obs_size}), "
                             f"got {tuple(obs_t.shape)}.")
        n = len(obs_t)
        wm = self.agent.world_model
        if self.state is None or self.state.h.shape[0] != n:
            self.state = wm.initial(n)
            self.prev_action = torch.zeros(n, self.agent.config.rssm.action_size)
            self.first = np.ones(n, bool)
        first = torch.as_tensor(self.first)
        self.state, _ = wm.observe_step(self.state, self.prev_action, obs_t, first, self.generator)
        logits = self.agent.policy_logits(self.agent.feat(self.state))
        if self.mode == "greedy":
            one_hot = F.one_hot(logits.argmax(-1), logits.shape[-1]).float()
        else:
            one_hot = sample_one_hot(logits, self.generator)
        self.prev_action = one_hot
        self.first = np.zeros(n, bool)
        return one_hot.argmax(-1).numpy()


# --- one update -----------------------------------------------------------------------------------------

class Learner:
    """The agent, its three optimizers, and the running return spread S."""

    def __init__(self, agent: Dreamer):
        c = agent.config
        self.agent = agent
        self.model_opt = torch.optim.Adam(agent.world_model.parameters(), lr=c.model_lr, eps=1e-8)
        self.actor_opt = torch.optim.Adam(agent.actor.parameters(), lr=c.actor_lr, eps=1e-5)
        self.critic_opt = torch.optim.Adam(agent.critic.parameters(), lr=c.critic_lr, eps=1e-5)
        self.return_scale = 0.0
        self.updates = 0

    def state_dict(self) -> dict[str, Any]:
        return {"model_opt": self.model_opt.state_dict(), "actor_opt": self.actor_opt.state_dict(),
                "critic_opt": self.critic_opt.state_dict(), "return_scale": self.return_scale,
                "updates": self.updates}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        for k in ("model_opt", "actor_opt", "critic_opt"):
            getattr(self, k).load_state_dict(d[k])
        self.return_scale, self.updates = d["return_scale"], d["updates"]

    def _step(self, opt: torch.optim.Optimizer, loss: Tensor, module: nn.Module) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(module.parameters(), self.agent.config.grad_clip)
        opt.step()

    def update(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> dict[str, float]:
        """One world-model update on real sequences, then one actor-critic update in imagination."""
        agent, c = self.agent, self.agent.config
        loss, metrics, out = agent.world_model.loss(batch["obs"], batch["prev_action"], batch["reward"],
                                                    batch["is_first"], batch["is_terminal"], generator)
        self._step(self.model_opt, loss, agent.world_model)
        pick = torch.randperm(out.h.shape[0] * out.h.shape[1], generator=generator)[: c.imagine_starts]
        start = State(out.h.detach().flatten(0, 1)[pick], out.z.detach().flatten(0, 1)[pick])
        start_cont = 1.0 - batch["is_terminal"].float().flatten()[pick]
        metrics.update(self.actor_critic(start, start_cont, generator))
        with torch.no_grad():
            for slow, fast in zip(agent.slow_critic.parameters(), agent.critic.parameters()):
                slow.lerp_(fast, c.target_rate)
        self.updates += 1
        return metrics

    def actor_critic(self, start: State, start_cont: Tensor,
                     generator: torch.Generator | None = None) -> dict[str, float]:
        agent, c = self.agent, self.agent.config
        feats, actions = imagine(agent, start, c.horizon, generator)
        with torch.no_grad():
            rewards, conts = agent.world_model.heads(feats[1:])
            values = agent.value(feats, slow=True)
            returns = lambda_returns(rewards, values, conts, c.gamma, c.lam)
            alive = torch.cumprod(torch.cat([start_cont[None], conts[:-1]]), 0)  # P(s_t still in the episode)
            spread = float(torch.quantile(returns, 0.95) - torch.quantile(returns, 0.05))
            self.return_scale = c.return_decay * self.return_scale + (1 - c.return_decay) * spread
            baseline = agent.value(feats[:-1])
            advantage = (returns - baseline) / max(1.0, self.return_scale)
        logits = agent.policy_logits(feats[:-1])
        log_probs = torch.log_softmax(logits, -1)
        chosen = (log_probs * actions).sum(-1)
        entropy = -(log_probs.exp() * log_probs).sum(-1)
        actor_loss = -(alive * (chosen * advantage + c.entropy * entropy)).mean()
        self._step(self.actor_opt, actor_loss, agent.actor)
        prediction = agent.critic(feats[:-1]).squeeze(-1)
        critic_loss = (alive * (prediction - symlog(returns)).pow(2)).mean()
        self._step(self.critic_opt, critic_loss, agent.critic)
        return {"actor_loss": actor_loss.item(), "critic_loss": critic_loss.item(), "entropy": entropy.mean().item(),
                "imagined_return": returns[0].mean().item(), "return_scale": self.return_scale}


@torch.no_grad()
def imagine(agent: Dreamer, start: State, horizon: int,
            generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Dream `horizon` steps from each start state with the actor: features (H + 1, N, F) of s_0 ... s_H and
    the one-hot actions (H, N, A) a_0 ... a_{H-1}. No gradient flows through the dream (the actor learns by
    REINFORCE), so the whole rollout runs without building a graph."""
    state, feats, actions = start, [agent.feat(start)], []
    for _ in range(horizon):
        action = sample_one_hot(agent.policy_logits(feats[-1]), generator)
        state = agent.world_model.imagine_step(state, action, generator)
        feats.append(agent.feat(state))
        actions.append(action)
    return torch.stack(feats), torch.stack(actions)
