"""CMA-ES in the real environment: every candidate scored by real CarRacing episodes of its V+M+C agent.

The paper evolved its CarRacing controller this way (population 64, each candidate the mean return of 16
real rollouts, about 1,800 generations on 64 CPU cores); the course's other controllers are evolved in the
dream (wmcourse.worldmodels.evolve.evolve_in_dream), where a step costs far less. Here every generation plays

    population x rollouts   real episodes: candidate c on track seed s_e   ->  return R[c, e]
    score[c] = mean_e R[c, e]

All candidates of a generation drive the same `rollouts` tracks (seeds drawn from (seed, generation) only),
so they are compared on equal roads. Each episode is a work item that carries its own seed, mapped by a
backend (wmcourse.real.backend): this machine's processes, or Ray tasks on a cluster; the scores do not depend on
which. Resumable: a generation's candidates are written before they are scored, every finished episode is
appended to that generation's score file, and a restarted run scores only the episodes still missing.
Each generation's search mean is kept (`mean_NNNNN.npy`, after generation NNNNN), so the generation to keep
can be chosen afterwards on validation tracks that neither the search nor the report drives (`select_generation`).
"""

from __future__ import annotations

import functools
import json
import pickle
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cma
import numpy as np
from tqdm.auto import tqdm

from ..checkpoint import atomic_pickle
from ..errors import CourseError
from ..real.backend import Backend, LocalBackend
from . import controller

ENV_ID = "CarRacing-v3"


@dataclass(frozen=True)
class RealESConfig:
    population: int = 64
    rollouts: int = 16  # real episodes per candidate, every generation
    sigma_init: float = 0.1
    generations: int = 1800
    max_steps: int = 1000  # CarRacing's own limit
    seed: int = 0


@dataclass(frozen=True)
class EpisodeWork:
    """One real episode: a controller (params) with the V and M at these paths, on the track of `track_seed`."""

    vae: str
    mdnrnn: str
    params: np.ndarray
    config: controller.ControllerConfig
    track_seed: int
    max_steps: int = 1000


@functools.lru_cache(maxsize=2)
def _world_model(vae_path: str, mdnrnn_path: str):
    """V and M, loaded once per worker process (an episode is thousands of steps; loading is a fraction of one)."""
    from .mdnrnn import load_mdnrnn
    from .vae import load_vae

    return load_vae(vae_path), load_mdnrnn(mdnrnn_path)


def play_episode(work: EpisodeWork) -> tuple[float, int]:
    """(return, real steps) of one real CarRacing episode driven by the V+M+C agent: a pure function of `work`."""
    from ..real.envs import make_env
    from ..runtime import torch_threads
    from .agent import WorldModelAgent

    with torch_threads(1):  # the same arithmetic in every worker, so the same episode everywhere
        params = np.array(work.params)  # a copy: arrays that come through Ray are read-only
        agent = WorldModelAgent(*_world_model(work.vae, work.mdnrnn), params, work.config)
        env = make_env(ENV_ID)
        try:
            obs, _ = env.reset(seed=work.track_seed)
            total, steps = 0.0, 0
            while steps < work.max_steps:
                obs, reward, terminated, truncated, _ = env.step(agent.act(obs[None])[0])
                total += float(reward)
                steps += 1
                if terminated or truncated:
                    break
        finally:
            env.close()
    return total, steps


@dataclass
class PopulationScores:
    returns: np.ndarray  # (population, rollouts): candidate c's return on track e
    steps: np.ndarray    # (population, rollouts): the real steps each episode took

    @property
    def scores(self) -> np.ndarray:
        """Each candidate's score: its mean return over the tracks (population,)."""
        return self.returns.mean(axis=1)


def track_seeds(seed: int, generation: int, rollouts: int) -> list[int]:
    """The tracks every candidate of `generation` drives: a function of (seed, generation) only."""
    return [int(s) for s in np.random.SeedSequence([seed, generation]).generate_state(rollouts)]


def score_population(candidates: np.ndarray, seeds: list[int], vae: str, mdnrnn: str,
                     config: controller.ControllerConfig, backend: Backend | None = None, max_steps: int = 1000,
                     finished: dict[tuple[int, int], tuple[float, int]] | None = None,
                     on_episode: Callable[[int, int, float, int], None] | None = None) -> PopulationScores:
    """Score candidates (P, n) on the real tracks `seeds` (R of them): P x R episodes mapped by `backend`.

    `finished` holds episodes already played, {(candidate, episode): (return, steps)}: they are not played again.
    `on_episode(candidate, episode, return, steps)` is called as each new one finishes (to write it down).
    """
    candidates = np.asarray(candidates, np.float32)
    if candidates.ndim != 2 or candidates.shape[1] != config.n_params:
        raise CourseError(f"Expected candidates of shape (population, {config.n_params}) for this controller, "
                          f"got {candidates.shape}.")
    done = dict(finished or {})
    todo = [(c, e) for c in range(len(candidates)) for e in range(len(seeds)) if (c, e) not in done]
    # absolute paths: a worker may run in another folder (on a cluster, each node holds the files at the same path)
    vae, mdnrnn = str(Path(vae).resolve()), str(Path(mdnrnn).resolve())
    work = [EpisodeWork(vae, mdnrnn, candidates[c], config, seeds[e], max_steps) for c, e in todo]
    for i, (total, steps) in (backend or LocalBackend()).map(play_episode, work):
        done[todo[i]] = (total, steps)
        if on_episode is not None:
            on_episode(*todo[i], total, steps)
    returns = np.array([[done[c, e][0] for e in range(len(seeds))] for c in range(len(candidates))])
    steps = np.array([[done[c, e][1] for e in range(len(seeds))] for c in range(len(candidates))], np.int64)
    return PopulationScores(returns, steps)


def _check_world_model(vae: str | Path, mdnrnn: str | Path, config: controller.ControllerConfig) -> None:
    """Fail here, in one line, rather than in every worker: the controller must read this V and M's [z, h]."""
    v, m = _world_model(str(vae), str(mdnrnn))
    expected = m.config.z_size + m.config.hidden
    if v.config.z_size != m.config.z_size or config.input_size != expected or config.squash != "carracing":
        raise CourseError(f"The controller reads {config.input_size} inputs ({config.squash} actions), but this V and "
                          f"M give [z, h] of size {expected} for CarRacing (V's z: {v.config.z_size}, M's z: "
                          f"{m.config.z_size}): pass the --controller, --vae and --mdnrnn that were trained together.")


# --- the resumable run ------------------------------------------------------------------------------------

class SeededNormal:
    """CMA-ES's source of N(0, 1) samples with its own generator: pickled with the strategy, so a resumed run
    draws the same candidates as one that never stopped (cma would otherwise use numpy's global generator)."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def __call__(self, *shape: int) -> np.ndarray:
        return self.rng.standard_normal(shape)


def read_episode_log(path: Path, key: str = "candidate") -> dict[tuple, tuple[float, int]]:
    """The finished episodes of a log of one JSON line per episode, {(row[key], episode): (return, steps)}; a line
    cut short by a crash is ignored (that episode reruns)."""
    finished = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
                finished[row[key], row["episode"]] = (row["return"], row["steps"])
            except (json.JSONDecodeError, KeyError):
                continue
    return finished


def every_kth(means: dict[int, np.ndarray], every: int, since: int = 0) -> dict[int, np.ndarray]:
    """The means of every `every`-th generation from generation `since` on, and the last: the candidates a choice
    drives, `every` times fewer validation episodes than all of them."""
    last = max(means, default=0)
    return {g: m for g, m in sorted(means.items()) if (g >= since and (g - since) % every == 0) or g == last}


def generation_means(run_dir: str | Path) -> dict[int, np.ndarray]:
    """{generation: the search mean after it} for every generation of a run that kept its means."""
    return {int(p.stem.split("_")[1]): np.load(p) for p in sorted(Path(run_dir).glob("mean_*.npy"))}


# Validation tracks choose the generation to keep: apart from the tracks the search drives (SeedSequence draws of
# (seed, generation)) and from the reporting range (the 100 tracks after a reset with seed 5,000,000)
VALIDATION_SEED = 6_000_000
VALIDATION_NAME = "validation.jsonl"


def select_generation(run_dir: str | Path, config: controller.ControllerConfig, tracks: int = 16,
                      backend: Backend | None = None, max_steps: int = 1000, every: int = 1,
                      validation_seed: int = VALIDATION_SEED, since: int = 0) -> dict:
    """Choose which search mean of a real CMA-ES run to keep, on tracks neither the search nor the report drives.

    The run's start (generation 0) and the mean after each kept generation (generation_means; with `every` = k,
    only every k-th generation from generation `since` on and the last, k times fewer validation episodes) drive
    the same `tracks` tracks (choose_on_validation_tracks). Resumable: every episode is a line of
    run_dir/validation.jsonl.
    """
    run_dir = Path(run_dir)
    state_path = run_dir / "state.pkl"
    if not state_path.exists():
        raise CourseError(f"{run_dir} holds no real CMA-ES run (no state.pkl): run `python -m wmcourse evolve-real` "
                          "first.")
    if every < 1:
        raise CourseError(f"select_generation's `every` is how many generations apart the candidates are: at least "
                          f"1, got {every}.")
    if since < 0:
        raise CourseError(f"select_generation's `since` is the first generation to validate: 0 or more, got {since}.")
    identity = pickle.loads(state_path.read_bytes())["identity"]
    if identity["n_params"] != config.n_params:
        raise CourseError(f"{run_dir} evolved controllers of {identity['n_params']} parameters; this config has "
                          f"{config.n_params}: pass the controller's own config.")
    candidates = {0: np.asarray(identity["start"], np.float32), **every_kth(generation_means(run_dir), every, since)}
    return choose_on_validation_tracks(candidates, identity["vae"], identity["mdnrnn"], config,
                                       run_dir / VALIDATION_NAME, tracks, backend, max_steps, validation_seed)


def choose_on_validation_tracks(candidates: dict[int, np.ndarray], vae: str | Path, mdnrnn: str | Path,
                                config: controller.ControllerConfig, log_path: str | Path, tracks: int = 16,
                                backend: Backend | None = None, max_steps: int = 1000,
                                validation_seed: int = VALIDATION_SEED) -> dict:
    """Keep the candidate {generation: params} with the best mean return on the same `tracks` real tracks, seeds
    validation_seed, validation_seed + 1, ...:

        chosen = argmax_g  mean_e R[g, e]

    That winner's own validation score is the maximum of noisy means, biased up: report it on fresh tracks.
    Resumable: every episode is a line of `log_path`, and a line counts only for its own generation and track.
    Returns {"seeds", "generations": [{"generation", "mean", "std"}], "chosen", "params", "real_steps" (every
    validation episode's, those read back from the log included), "seconds" (this range's calls, summed)}.
    """
    if tracks < 1:
        raise CourseError(f"choosing a generation needs at least 1 validation track, got {tracks}.")
    if not candidates:
        raise CourseError("there is no candidate to choose from: give at least one {generation: params}.")
    generations = sorted(candidates)
    params = np.stack([np.asarray(candidates[g], np.float32) for g in generations])
    seeds = [validation_seed + e for e in range(tracks)]
    log_path = Path(log_path)
    finished, seconds = {}, 0.0
    if log_path.exists():
        for line in log_path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: that episode runs again
            if "seconds" in row and "generation" not in row:
                if row.get("seed", VALIDATION_SEED) == validation_seed:  # this range's calls only
                    seconds += row["seconds"]
            elif (row.get("generation") in generations and row.get("episode", tracks) < tracks
                  and row.get("seed") == seeds[row["episode"]]):  # the same track: another range drives again
                finished[generations.index(row["generation"]), row["episode"]] = (row["return"], row["steps"])
    start = time.perf_counter()
    with open(log_path, "a") as log:
        def write(c: int, e: int, total: float, steps: int) -> None:
            log.write(json.dumps({"generation": generations[c], "episode": e, "seed": seeds[e], "return": total,
                                  "steps": steps}) + "\n")
            log.flush()

        scores = score_population(params, seeds, str(vae), str(mdnrnn), config, backend, max_steps, finished, write)
        called = round(time.perf_counter() - start, 1)
        log.write(json.dumps({"seconds": called, "seed": validation_seed}) + "\n")
    rows = [{"generation": g, "mean": float(r.mean()), "std": float(r.std())}
            for g, r in zip(generations, scores.returns)]
    best = int(np.argmax(scores.scores))
    return {"seeds": seeds, "generations": rows, "chosen": generations[best], "params": params[best],
            "real_steps": int(scores.steps.sum()), "seconds": round(seconds + called, 1)}


def evolve_real(start: np.ndarray, config: controller.ControllerConfig, vae: str, mdnrnn: str, run_dir: str | Path,
                settings: RealESConfig = RealESConfig(), backend: Backend | None = None,
                progress: bool = True) -> tuple[np.ndarray, list[dict]]:
    """CMA-ES from the controller `start`, every candidate scored in the real environment; returns
    (the search distribution's mean, the history: per generation best/mean/worst score, sigma, real steps).

    Everything is kept in `run_dir`: rerun with the same arguments to resume (more generations extend the run).
    """
    _check_world_model(vae, mdnrnn, config)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    identity = {k: v for k, v in asdict(settings).items() if k != "generations"}
    identity.update(vae=str(vae), mdnrnn=str(mdnrnn), n_params=config.n_params,
                    start=np.asarray(start, np.float64).round(8).tolist())
    state_path = run_dir / "state.pkl"
    if state_path.exists():
        state = pickle.loads(state_path.read_bytes())
        if state["identity"] != identity:
            changed = [k for k in identity if state["identity"].get(k) != identity[k]]
            raise CourseError(f"{run_dir} holds a run with other settings ({', '.join(changed)} differ): "
                              "use another output path, or delete that folder to start over.")
    else:
        options = {"popsize": settings.population, "randn": SeededNormal(settings.seed), "verbose": -9}
        es = cma.CMAEvolutionStrategy(np.asarray(start, np.float64), settings.sigma_init, options)
        state = {"identity": identity, "es": es, "history": []}
        atomic_pickle(state_path, state)
    history = state["history"]
    total_steps = history[-1]["total_real_steps"] if history else 0
    bar = tqdm(total=settings.generations, initial=len(history), desc="CMA-ES (real)", unit="gen",
               disable=not progress)
    for generation in range(len(history), settings.generations):
        gen_path = run_dir / f"gen_{generation:05d}.pkl"
        if gen_path.exists():  # interrupted mid-generation: the same candidates, the strategy that drew them
            es, candidates = pickle.loads(gen_path.read_bytes())
        else:
            es = state["es"]
            candidates = np.asarray(es.ask())
            atomic_pickle(gen_path, (es, candidates))
        scores_path = run_dir / f"gen_{generation:05d}.scores.jsonl"
        finished = read_episode_log(scores_path)
        start_time = time.perf_counter()
        new_steps = 0
        with open(scores_path, "a") as log:
            def write(c: int, e: int, total: float, steps: int) -> None:
                nonlocal new_steps
                log.write(json.dumps({"candidate": c, "episode": e, "return": total, "steps": steps}) + "\n")
                log.flush()
                new_steps += steps
                bar.set_postfix(episodes=f"{len(finished) + 1}/{candidates.shape[0] * settings.rollouts}")  # noqa: B023
                finished[c, e] = (total, steps)  # noqa: B023 - write is called within this generation only

            result = score_population(candidates, track_seeds(settings.seed, generation, settings.rollouts), vae,
                                      mdnrnn, config, backend, settings.max_steps, dict(finished), write)
        seconds = time.perf_counter() - start_time
        scores = result.scores
        es.tell(list(candidates), list(-scores))  # cma minimises
        total_steps += int(result.steps.sum())
        history.append({"generation": generation + 1, "best": float(scores.max()), "mean": float(scores.mean()),
                        "worst": float(scores.min()), "sigma": float(es.sigma),
                        "real_steps": int(result.steps.sum()), "total_real_steps": total_steps,
                        "seconds": round(seconds, 2),
                        "real_steps_per_s": round(new_steps / seconds, 1) if new_steps and seconds > 0 else None})
        state = {"identity": identity, "es": es, "history": history}
        np.save(run_dir / f"mean_{generation + 1:05d}.npy", np.asarray(es.mean))
        atomic_pickle(state_path, state)
        gen_path.unlink()
        scores_path.unlink()
        bar.update(1)
        bar.set_postfix(best=f"{scores.max():.1f}", mean=f"{scores.mean():.1f}", real_steps=f"{total_steps:,}")
    bar.close()
    return np.asarray(state["es"].mean), history
