"""Training the Dreamer agent (wmcourse.dreamer.agent) for real: the replay buffer, the loop that alternates real steps
with updates, resumable from its checkpoint, the agent's checkpoint file, and the results files in data/.

    repeat until the budget of real steps is spent:
        1. act in the real environment with the actor, store each step in the replay buffer
        2. every `train_every` real steps: Learner.update (one world-model update on replayed sequences,
           then one actor-critic update on imagined trajectories)
        3. every `eval_every` real steps: a point of the learning curve and a checkpoint

    python -m wmcourse dreamer --env CartPole-v1 --steps 50000 --out data/dreamer_cartpole.json
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..checkpoint import check_same_config, load_torch, save_torch
from ..errors import CourseError, MissingArtefactError, ShapeError
from ..real import evaluate as evaluation
from ..real.envs import make_env
from .agent import Dreamer, DreamerConfig, DreamerPolicy, Learner

FORMAT = "wmcourse.dreamer/1"
RESULTS_NAME = "dreamer_cartpole.json"
AGENT_NAME = "dreamer_cartpole.pt"
COMMAND = "python -m wmcourse dreamer --env CartPole-v1 --steps 50000 --out data/dreamer_cartpole.json"
# the same run with a shorter discount, shipped beside it for comparison
GAMMA_099_NAME = "dreamer_cartpole_gamma099.json"
GAMMA_099_COMMAND = ("python -m wmcourse dreamer --env CartPole-v1 --steps 50000 --gamma 0.99 "
                     "--out data/dreamer_cartpole_gamma099.json")
GAMMA_099_AGENT_NAME = "dreamer_cartpole_gamma099.pt"
_COMMANDS = {RESULTS_NAME: COMMAND, AGENT_NAME: COMMAND, GAMMA_099_NAME: GAMMA_099_COMMAND,
             GAMMA_099_AGENT_NAME: GAMMA_099_COMMAND}
RUN_FORMAT = "wmcourse.dreamer-run/1"  # the resumable checkpoint of a run in progress (run_dir/checkpoint.pt)


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


# --- checkpoints ----------------------------------------------------------------------------------------

def save_agent(agent: Dreamer, path: str | Path, half: bool = False, **extra: Any) -> Path:
    """The agent's weights and config (float16 with half=True, for data/), written atomically."""
    weights = {k: (v.half() if half and v.is_floating_point() else v) for k, v in agent.state_dict().items()}
    return save_torch(path, FORMAT, agent.config, agent=weights, **extra)


def _shipped_path(path: str | Path | None, default: str) -> Path:
    """`path` (default data/`default`); a file in data/ is checked against the manifest first (artefacts.require:
    a missing or altered file stops with the command that makes it), a file elsewhere is taken as given."""
    from ..artefacts import data_dir, require

    path = Path(path) if path else data_dir() / default
    if path.parent.resolve() == data_dir().resolve():
        return require(path.name, _COMMANDS.get(path.name, COMMAND))
    return path


def load_agent(path: str | Path | None = None) -> Dreamer:
    """A Dreamer agent saved by save_agent (default the shipped data/dreamer_cartpole.pt), in float32 and eval
    mode."""
    ckpt = load_torch(_shipped_path(path, AGENT_NAME), FORMAT, COMMAND)
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
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)  # numpy arrays: the replay buffer
        check_same_config(ckpt_path, ckpt["config"], c)
        agent.load_state_dict(ckpt["agent"])
        learner.load_state_dict(ckpt["learner"])
        replay.load_state_dict(ckpt["replay"])
        rng.bit_generator.state = ckpt["rng"]
        generator.set_state(ckpt["generator"])
        torch.set_rng_state(ckpt["torch_rng"])
        state = ckpt["state"]
        state["curve"] = steps_points(state["curve"])  # a run begun before the curve's x was "steps"
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
            state["curve"].append({"steps": step, "mean": result.mean, "std": result.std,
                                   "train_mean": float(np.mean(recent)) if recent else None,
                                   "seconds": round(time.perf_counter() - wall0, 1)})
            state["seconds"], state["cpu_seconds"] = time.perf_counter() - wall0, time.process_time() - cpu0
            bar.set_postfix(real=f"{result.mean:.0f}", updates=learner.updates)
            if log:
                log(f"step {step}: eval {result.mean:.1f} +- {result.std:.1f}, updates {learner.updates}, "
                    f"{state['seconds']:.0f} s, last metrics {state['metrics'][-1] if state['metrics'] else {}}")
            save_torch(ckpt_path, RUN_FORMAT, c, agent=agent.state_dict(), learner=learner.state_dict(),
                       replay=replay.state_dict(), rng=rng.bit_generator.state, generator=generator.get_state(),
                       torch_rng=torch.get_rng_state(), state=state)
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


def steps_points(curve: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Learning-curve points with their real steps under "steps", the key of every learning curve in the course
    (cartpole_experiment, dqn, over_seeds.curve_spread); points written as {"step", ...} by earlier runs (the
    shipped data/dreamer_cartpole*.json) are converted, the other keys kept in their order."""
    return [{("steps" if k == "step" else k): v for k, v in p.items()} for p in curve]


def load_dreamer_results(path: str | Path | None = None) -> dict[str, Any]:
    """The results of a training run (default data/dreamer_cartpole.json; a file in data/ is checked against the
    manifest), its curve's points as {"steps", "mean", "std", ...}, or an error naming the command."""
    path = _shipped_path(path, RESULTS_NAME)
    if not path.exists():
        raise MissingArtefactError(f"No Dreamer results at {path}: make them with\n    {COMMAND}")
    results = json.loads(path.read_text())
    if results.get("format") != FORMAT or not results.get("curve"):
        raise ShapeError(f"{path} is not a Dreamer results file (format {FORMAT}). Remake it with\n    {COMMAND}")
    results["curve"] = steps_points(results["curve"])
    return results


def write_results(results: dict[str, Any], out: str | Path, run_dir: str | Path, command: str) -> list[Path]:
    """Write the results JSON to `out`, and the trained agent (float16) beside it as <stem>.pt. When `out` lies in
    data/, record both in the manifest with the command, the seed and the measured figures."""
    from ..artefacts import data_dir, record

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
                   "curve": [[p["steps"], round(p["mean"], 1)] for p in results["curve"]]}
        seed = results["config"]["seed"]
        record(out, command, seed, figures)
        record(agent_path, command, seed, {"final_mean": figures["final_mean"], "parameters": figures["parameters"]},
               note="float16 weights of the agent whose results are in " + out.name)
    return [out, agent_path]
