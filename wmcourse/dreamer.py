"""A minimal Dreamer-style agent (DreamerV3's recipe, small): a world model (wmcourse.rssm) and an
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
"""

from __future__ import annotations

import copy
import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import evaluate as evaluation
from .checkpoint import count_parameters
from .envs import check_env_id, make_env
from .errors import CourseError, MissingArtefactError, ShapeError
from .rssm import RSSM, RSSMConfig, State, mlp, sample_one_hot, symexp, symlog, unimix_logits

FORMAT = "wmcourse.dreamer/1"
RESULTS_NAME = "dreamer_cartpole.json"
AGENT_NAME = "dreamer_cartpole.pt"
COMMAND = "python -m wmcourse dreamer --env CartPole-v1 --steps 50000 --out data/dreamer_cartpole.json"
# the same run with a shorter discount, shipped beside it for comparison
GAMMA_099_NAME = "dreamer_cartpole_gamma099.json"
GAMMA_099_COMMAND = ("python -m wmcourse dreamer --env CartPole-v1 --steps 50000 --gamma 0.99 "
                     "--out data/dreamer_cartpole_gamma099.json")


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
        raise ValueError(f"gamma and lam must lie in [0, 1], got {gamma} and {lam}.")
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
    gamma: float = 0.997          # DreamerV3's (an effective horizon of 333 steps; see notebook 07 for 0.99)
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
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}.")

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
    """The actor in the real environment (wmcourse.evaluate.Policy): each step the world model folds the new
    observation into its state (posterior), then the actor picks an action from [h, z].

    mode "sample" draws from the actor's distribution (as in training), "greedy" takes its likeliest action."""

    def __init__(self, agent: Dreamer, mode: str = "sample", seed: int = 0):
        if mode not in ("sample", "greedy"):
            raise ValueError(f"mode must be 'sample' or 'greedy', got {mode!r}.")
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


# --- the replay buffer ----------------------------------------------------------------------------------

class Replay:
    """Every real step in order: obs x_t, the action a_{t-1} that led to it (one-hot; zeros on a first step),
    the reward r_t received on arriving, is_first and is_terminal. Sequences are sampled uniformly and may
    cross episode boundaries: is_first resets the model's state there."""

    def __init__(self, capacity: int, obs_size: int, action_size: int):
        self.obs = np.zeros((capacity, obs_size), np.float32)
        self.prev_action = np.zeros((capacity, action_size), np.float32)
        self.reward = np.zeros(capacity, np.float32)
        self.is_first = np.zeros(capacity, bool)
        self.is_terminal = np.zeros(capacity, bool)
        self.size = 0

    def add(self, obs: np.ndarray, prev_action: np.ndarray, reward: float, is_first: bool, is_terminal: bool) -> None:
        if self.size >= len(self.obs):
            raise CourseError(f"The replay buffer is full ({len(self.obs)} steps).")
        i = self.size
        self.obs[i], self.prev_action[i], self.reward[i] = obs, prev_action, reward
        self.is_first[i], self.is_terminal[i] = is_first, is_terminal
        self.size += 1

    def sample(self, batch: int, seq_len: int, rng: np.random.Generator) -> dict[str, Tensor]:
        if self.size < seq_len:
            raise CourseError(f"The replay buffer holds {self.size} steps, fewer than one sequence of {seq_len}.")
        starts = rng.integers(0, self.size - seq_len + 1, batch)
        index = starts[:, None] + np.arange(seq_len)
        out = {k: torch.as_tensor(getattr(self, k)[index]) for k in
               ("obs", "prev_action", "reward", "is_first", "is_terminal")}
        out["is_first"][:, 0] = True  # a sequence starts from a fresh state, wherever it begins
        return out

    def state_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k)[: self.size].copy() for k in
                ("obs", "prev_action", "reward", "is_first", "is_terminal")}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        n = len(d["obs"])
        for k, v in d.items():
            getattr(self, k)[:n] = v
        self.size = n


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


# --- checkpoints ----------------------------------------------------------------------------------------

def save_agent(agent: Dreamer, path: str | Path, half: bool = False, **extra: Any) -> Path:
    """The agent's weights and config (float16 with half=True, for data/), written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = {k: (v.half() if half and v.is_floating_point() else v) for k, v in agent.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "config": asdict(agent.config), "agent": weights, **extra}, tmp)
    os.replace(tmp, path)
    return path


def load_agent(path: str | Path) -> Dreamer:
    """A Dreamer agent saved by save_agent, in float32 and eval mode."""
    path = Path(path)
    if not path.exists():
        raise MissingArtefactError(f"No Dreamer agent at {path}: make one with\n    {COMMAND}")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CourseError(f"{path} is not a Dreamer agent written by wmcourse.dreamer.save_agent.")
    agent = Dreamer(DreamerConfig.from_dict(ckpt["config"]))
    agent.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["agent"].items()})
    return agent.eval()


# --- training -------------------------------------------------------------------------------------------

def _evaluate(agent: Dreamer, config: DreamerConfig, episodes: int, seed: int) -> evaluation.EvalResult:
    return evaluation.evaluate(config.env_id, DreamerPolicy(agent, "sample", seed), episodes, seed=seed,
                               num_envs=min(episodes, 50), progress=False)


def train(config: DreamerConfig, run_dir: str | Path, resume: bool = True, progress: bool = True,
          log: Any = None) -> dict[str, Any]:
    """Train a Dreamer agent from nothing for config.steps real steps; returns the results (see `results_dict`).

    Every config.eval_every real steps the actor plays config.eval_episodes extra episodes (not training
    data) to give a point of the learning curve, and a checkpoint is written to run_dir/checkpoint.pt.
    Rerunning with resume=True carries on from it (the episode in progress at the checkpoint is dropped).
    """
    torch.set_num_threads(1)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = run_dir / "checkpoint.pt"
    c, rc = config, config.rssm
    agent = Dreamer(c)
    learner = Learner(agent)
    replay = Replay(2 * c.steps + 2, rc.obs_size, rc.action_size)
    rng = np.random.default_rng(c.seed)
    torch.manual_seed(c.seed)
    generator = torch.Generator().manual_seed(c.seed)
    state: dict[str, Any] = {"step": 0, "episodes": [], "curve": [], "seconds": 0.0, "cpu_seconds": 0.0,
                             "metrics": []}
    if resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if ckpt["config"] != asdict(c):
            raise CourseError(f"{ckpt_path} was written with another configuration: delete {run_dir} or use the same "
                              "settings to resume.")
        agent.load_state_dict(ckpt["agent"])
        learner.load_state_dict(ckpt["learner"])
        replay.load_state_dict(ckpt["replay"])
        rng.bit_generator.state = ckpt["rng"]
        generator.set_state(ckpt["generator"])
        torch.set_rng_state(ckpt["torch_rng"])
        state = ckpt["state"]
    env = make_env(c.env_id)
    policy = DreamerPolicy(agent, "sample")
    policy.generator = generator
    obs, _ = env.reset(seed=c.seed + len(state["episodes"]))
    replay.add(obs, np.zeros(rc.action_size, np.float32), 0.0, True, False)
    policy.reset(np.array([True]))
    ret = 0.0
    wall0, cpu0 = time.perf_counter() - state["seconds"], time.process_time() - state["cpu_seconds"]
    bar = tqdm(total=c.steps, initial=state["step"], desc="Dreamer real steps", disable=not progress)
    while state["step"] < c.steps:
        if state["step"] < c.prefill:
            action = int(rng.integers(rc.action_size))
            policy.reset(np.array([True]))
        else:
            action = int(policy.act(obs[None])[0])
        obs, reward, terminated, truncated, _ = env.step(action)
        replay.add(obs, np.eye(rc.action_size, dtype=np.float32)[action], float(reward), False, bool(terminated))
        ret += float(reward)
        state["step"] += 1
        bar.update(1)
        if terminated or truncated:
            state["episodes"].append([state["step"], ret])
            obs, _ = env.reset(seed=c.seed + len(state["episodes"]))
            replay.add(obs, np.zeros(rc.action_size, np.float32), 0.0, True, False)
            policy.reset(np.array([True]))
            ret = 0.0
        step = state["step"]
        if step >= c.prefill and step % c.train_every == 0:
            metrics = learner.update(replay.sample(c.batch, c.seq_len, rng), generator)
            if learner.updates % 100 == 0:
                state["metrics"].append({"step": step, **{k: round(v, 4) for k, v in metrics.items()}})
        if step % c.eval_every == 0 or step == c.steps:
            agent.eval()
            result = _evaluate(agent, c, c.eval_episodes, seed=1_000_000 + step)
            agent.train()
            recent = [r for s, r in state["episodes"] if s > step - c.eval_every]
            state["curve"].append({"step": step, "mean": result.mean, "std": result.std,
                                   "train_mean": float(np.mean(recent)) if recent else None,
                                   "seconds": round(time.perf_counter() - wall0, 1)})
            state["seconds"], state["cpu_seconds"] = time.perf_counter() - wall0, time.process_time() - cpu0
            bar.set_postfix(real=f"{result.mean:.0f}", updates=learner.updates)
            if log:
                log(f"step {step}: eval {result.mean:.1f} +- {result.std:.1f}, updates {learner.updates}, "
                    f"{state['seconds']:.0f} s, last metrics {state['metrics'][-1] if state['metrics'] else {}}")
            torch.save({"config": asdict(c), "agent": agent.state_dict(), "learner": learner.state_dict(),
                        "replay": replay.state_dict(), "rng": rng.bit_generator.state,
                        "generator": generator.get_state(), "torch_rng": torch.get_rng_state(), "state": state},
                       ckpt_path.with_suffix(".tmp"))
            os.replace(ckpt_path.with_suffix(".tmp"), ckpt_path)
    bar.close()
    env.close()
    train_seconds, train_cpu = state["seconds"], state["cpu_seconds"]
    agent.eval()
    final = _evaluate(agent, c, c.final_episodes, seed=2_000_000)
    save_agent(agent, run_dir / "agent.pt")
    return results_dict(agent, state, final, train_seconds, train_cpu, learner.updates)


def results_dict(agent: Dreamer, state: dict, final: evaluation.EvalResult, seconds: float, cpu_seconds: float,
                 updates: int) -> dict[str, Any]:
    """What a run measured: the learning curve (real score vs real steps), the final score, time and size."""
    c = agent.config
    return {
        "format": FORMAT,
        "agent": "Dreamer (minimal)",
        "env": c.env_id,
        "config": asdict(c),
        "parameters": agent.parameter_counts(),
        "real_steps": state["step"],
        "updates": updates,
        "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu_seconds, 1),
        "torch_threads": torch.get_num_threads(),
        "curve": state["curve"],
        "episodes": state["episodes"],
        "final": {"mean": final.mean, "std": final.std, "episodes": len(final.returns),
                  "returns": final.returns.round(1).tolist()},
        "metrics": state["metrics"],
    }


def load_results(path: str | Path | None = None) -> dict[str, Any]:
    """The results of a training run (default data/dreamer_cartpole.json), or an error naming the command."""
    from .artefacts import require

    path = Path(path) if path else require(RESULTS_NAME, COMMAND)
    if not path.exists():
        raise MissingArtefactError(f"No Dreamer results at {path}: make them with\n    {COMMAND}")
    results = json.loads(path.read_text())
    if results.get("format") != FORMAT or not results.get("curve"):
        raise ShapeError(f"{path} is not a Dreamer results file (format {FORMAT}). Remake it with\n    {COMMAND}")
    return results


def write_results(results: dict[str, Any], out: str | Path, run_dir: str | Path, command: str) -> list[Path]:
    """Write the results JSON to `out`, and the trained agent (float16) beside it as <stem>.pt. When `out` lies in
    data/, record both in the manifest with the command, the seed and the measured figures."""
    from .artefacts import data_dir, record

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    agent_path = save_agent(load_agent(Path(run_dir) / "agent.pt"), out.with_suffix(".pt"), half=True)
    results = {**results, "command": command, "agent_file": agent_path.name}
    out.write_text(json.dumps(results, indent=1) + "\n")
    if out.resolve().is_relative_to(data_dir().resolve()):
        figures = {"final_mean": round(results["final"]["mean"], 1), "final_std": round(results["final"]["std"], 1),
                   "final_episodes": results["final"]["episodes"], "real_steps": results["real_steps"],
                   "train_seconds": results["train_seconds"], "train_cpu_seconds": results["train_cpu_seconds"],
                   "parameters": results["parameters"]["total (trained)"],
                   "curve": [[p["step"], round(p["mean"], 1)] for p in results["curve"]]}
        seed = results["config"]["seed"]
        record(out, command, seed, figures)
        record(agent_path, command, seed, {"final_mean": figures["final_mean"], "parameters": figures["parameters"]},
               note="float16 weights of the agent whose results are in " + out.name)
    return [out, agent_path]


# --- measuring the dream against reality ------------------------------------------------------------------

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


# --- the World Models side of the comparison (written by wmcourse.cartpole's experiment, issue 6) -------------

WORLD_MODELS_RESULTS = "cartpole_results.json"
WORLD_MODELS_COMMAND = "python -m wmcourse cartpole --out data/cartpole_results.json"


def load_world_models_results(folder: str | Path | None = None) -> dict[str, Any] | None:
    """data/cartpole_results.json (the World Models agent and DQN on CartPole, notebook 06), or None while it
    has not been made (WORLD_MODELS_COMMAND makes it)."""
    from .artefacts import data_dir

    path = Path(folder or data_dir()) / WORLD_MODELS_RESULTS
    return json.loads(path.read_text()) if path.exists() else None


def world_models_rows(results: dict[str, Any]) -> dict[str, dict]:
    """The rows of data/cartpole_results.json worth setting beside Dreamer, by a readable name: the World Model
    fixed by the iterative loop, the one trained on random data (the failure), and DQN. Each row keeps the
    file's keys (real_mean, real_std, dream_mean, steps, seconds, ...); absent ones are skipped."""
    by_name = {row.get("name"): row for row in results.get("rows", []) if isinstance(row, dict)}
    wanted = {"World Models, iterative loop": results.get("fixed_variant"),
              "World Models, random data": results.get("failure_variant"), "DQN": "dqn"}
    return {label: by_name[name] for label, name in wanted.items() if name in by_name}


def world_models_curves(results: dict[str, Any]) -> dict[str, list[dict]]:
    """The learning curves in data/cartpole_results.json as {"step", "mean", "std"} rows, named for the plot."""
    names = {"wm_iterative": "World Models, iterative loop", "dqn": "DQN (model-free)"}
    return {names.get(key, key): rows for key, rows in learning_curves(results.get("curves", results)).items()}


def learning_curves(results: Any, prefix: str = "") -> dict[str, list[dict]]:
    """Every learning curve in a results file, by where it sits: a list of rows that each carry a step count
    ("step" or "steps") and a "mean" real score. Tolerant of the layout, so notebook 07 reads
    data/cartpole_results.json whatever its nesting; rows come back as {"step", "mean", "std"}."""
    found: dict[str, list[dict]] = {}
    if isinstance(results, dict):
        for key, value in results.items():
            found.update(learning_curves(value, f"{prefix}/{key}" if prefix else str(key)))
    elif isinstance(results, list) and results and all(isinstance(r, dict) for r in results):
        if all(("step" in r or "steps" in r) and "mean" in r for r in results):
            found[prefix] = [{"step": r.get("step", r.get("steps")), "mean": r["mean"], "std": r.get("std", 0.0)}
                             for r in results]
        else:
            for i, r in enumerate(results):
                name = r.get("name") or r.get("agent") or r.get("label") or str(i)
                found.update(learning_curves(r, f"{prefix}/{name}" if prefix else str(name)))
    return found


# --- pictures for notebook 07 -------------------------------------------------------------------------------

def _box(ax, x, y, w, h, title, body="", color="#e5e7eb"):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.05", fc=color, ec="#333"))
    ax.text(x + w / 2, y + h * (0.66 if body else 0.5), title, ha="center", va="center", fontsize=10, weight="bold")
    if body:
        ax.text(x + w / 2, y + h * 0.28, body, ha="center", va="center", fontsize=8)


def _arrow(ax, a, b, label="", rad=0.0, style="-|>", color="#333"):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=12, lw=1.2, color=color,
                                 connectionstyle=f"arc3,rad={rad}"))
    if label:
        ax.text((a[0] + b[0]) / 2 + 0.05, (a[1] + b[1]) / 2 + 0.08, label, fontsize=8, color=color)


def draw_side_by_side(axes=None, groups: int = 8, classes: int = 8, horizon: int = 15):
    """World Models (V, M, C trained one after the other) next to Dreamer (RSSM + actor-critic, trained together);
    groups, classes and horizon label Dreamer's latent and imagination (pass the config's)."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(14, 5.2))
    left, right = axes
    for ax in axes:
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 7.2)
        ax.axis("off")
    # World Models: stages in order, each frozen before the next
    _box(left, 0.0, 5.3, 2.7, 1.1, "1. collect", "random policy,\nthen frozen", "#e5e7eb")
    _box(left, 3.4, 5.3, 3.1, 1.1, "2. V (VAE)", "x_t -> z_t\nGaussian, continuous", "#dbeafe")
    _box(left, 3.4, 3.2, 3.1, 1.3, "3. M (MDN-RNN)", "LSTM memory h_t; P(z_t+1):\n5 Gaussians per dimension", "#fde68a")
    _box(left, 3.4, 0.8, 3.1, 1.3, "4. C (linear)", "a_t = W [z_t, h_t] + b\nCMA-ES, no gradients", "#bbf7d0")
    _box(left, 7.3, 2.0, 2.7, 1.7, "dream", "M's samples only;\nwhole episodes\n(up to 1000 steps)", "#f3f4f6")
    _arrow(left, (2.7, 5.85), (3.4, 5.85))
    _arrow(left, (4.95, 5.3), (4.95, 4.5), "z")
    _arrow(left, (4.95, 3.2), (4.95, 2.1), "z, h")
    _arrow(left, (6.5, 1.4), (7.7, 2.0), "fitness", rad=0.2)
    _arrow(left, (6.5, 3.9), (7.4, 3.4))
    left.text(5.0, 0.15, "a pipeline: each stage trained once, then fixed", ha="center", fontsize=9, style="italic")
    left.set_title("World Models (2018)", fontsize=12)
    # Dreamer: the RSSM and the actor-critic, updated in turn, forever
    _box(right, 0.0, 4.9, 1.9, 1.2, "h_t-1", "deterministic\nmemory", "#fde68a")
    _box(right, 2.4, 4.9, 2.1, 1.2, "GRU", "h_t = f(h_t-1,\nz_t-1, a_t-1)", "#fde68a")
    _box(right, 5.0, 5.8, 3.0, 1.0, "prior", "p(z_t | h_t): imagination", "#fbcfe8")
    _box(right, 5.0, 4.2, 3.0, 1.0, "posterior", "q(z_t | h_t, x_t): real data", "#dbeafe")
    _box(right, 8.7, 4.2, 1.3, 1.0, "x_t", "real obs", "#e5e7eb")
    _box(right, 2.6, 2.2, 5.2, 1.2, "s_t = [h_t, z_t]", f"z: {groups} groups of {classes} classes, one-hot "
         "(straight-through)", "#f3f4f6")
    _box(right, 0.0, 0.3, 3.0, 1.3, "heads", "decoder, reward (symlog),\ncontinue", "#e5e7eb")
    _box(right, 3.4, 0.3, 2.9, 1.3, "actor pi(a | s)", "REINFORCE on\nlambda-returns", "#bbf7d0")
    _box(right, 6.7, 0.3, 3.3, 1.3, "critic V(s)", f"{horizon} imagined steps,\nthen V bootstraps", "#bbf7d0")
    _arrow(right, (1.9, 5.5), (2.4, 5.5))
    _arrow(right, (4.5, 5.7), (5.0, 6.2))
    _arrow(right, (4.5, 5.2), (5.0, 4.7))
    _arrow(right, (8.7, 4.7), (8.0, 4.7))
    _arrow(right, (6.5, 4.2), (5.9, 3.4), "z_t")
    _arrow(right, (8.05, 6.3), (8.05, 5.0), "", rad=-0.6, style="<|-|>", color="#db2777")
    right.text(8.75, 5.7, "KL\nbalance", fontsize=8, color="#db2777", ha="center")
    _arrow(right, (4.0, 2.2), (1.6, 1.6))
    _arrow(right, (5.0, 2.2), (4.85, 1.6))
    _arrow(right, (6.5, 2.2), (8.3, 1.6))
    right.text(5.0, 7.05, "trained together, alternating with real steps", ha="center", fontsize=9, style="italic")
    right.set_title("Dreamer (RSSM + actor-critic in imagination)", fontsize=12)
    return axes


def plot_learning_curves(curves: dict[str, list[dict]], ax=None, solved: float = 500.0,
                         random_score: float | None = None):
    """Real score against real environment steps, one line (mean +- std band) per agent."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.2))
    for name, rows in curves.items():
        steps = np.array([r["step"] for r in rows], float)
        mean = np.array([r["mean"] for r in rows], float)
        std = np.array([r.get("std", 0.0) for r in rows], float)
        (line,) = ax.plot(steps, mean, marker="o", ms=3, label=name)
        ax.fill_between(steps, np.clip(mean - std, 0, solved), np.clip(mean + std, 0, solved), color=line.get_color(),
                        alpha=0.15)
    ax.axhline(solved, color="#16a34a", ls="--", lw=1)
    ax.text(ax.get_xlim()[0], solved + 8, f" best possible ({solved:.0f})", fontsize=8, color="#16a34a")
    if random_score is not None:
        ax.axhline(random_score, color="#6b7280", ls=":", lw=1)
        ax.text(ax.get_xlim()[0], random_score + 8, f" random policy ({random_score:.0f})", fontsize=8, color="#6b7280")
    ax.set_xlabel("real environment steps (training)")
    ax.set_ylabel("real score (mean of evaluation episodes)")
    ax.set_ylim(0, solved * 1.1)
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_lambda_targets(seed: int = 0, horizon: int = 15, fall: int = 10, ax=None, gamma: float = 0.99,
                        lams=(0.0, 0.5, 0.95, 1.0)):
    """Notebook 07's made-up dream: every step pays 1, the pole falls after step `fall`, and the critic is a
    noisy, over-optimistic guesser (about 40 everywhere); the targets R_t for each lambda in `lams` (discount
    gamma), against the true discounted number of steps left. Returns the figure."""
    import matplotlib.pyplot as plt

    rewards = torch.ones(horizon)
    continues = (torch.arange(horizon) < fall).float()  # c_t = 0 from step `fall` on: the pole has fallen
    values = 40 + 5 * torch.randn(horizon + 1, generator=torch.Generator().manual_seed(seed))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    for lam in lams:
        ax.plot(lambda_returns(rewards, values, continues, gamma=gamma, lam=lam), marker="o", ms=3, label=f"λ = {lam:g}")
    truth = [sum(gamma ** k for k in range(fall + 1 - t)) if t <= fall else 1.0 for t in range(horizon)]
    ax.plot(truth, color="black", ls=":", label="true discounted steps left")
    ax.set_xlabel("dream step t")
    ax.set_ylabel("target R_t")
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax.figure
