"""The paper's own dream: VizDoom Take Cover, a controller trained only inside M's dream, then played for real.

The same V, M, C and CMA-ES as CarRacing, on the world that gave "World Models" (Ha & Schmidhuber, 2018)
its title experiment. The paper's appendix, and what this module builds from the package's generic code:

    V  ConvVAE, 64x64 frames (the 240x320 screen resized whole), z = 64        (vae.VAEConfig(z_size=64))
    M  LSTM of 512 units, 5 Gaussians per latent dimension, predicts z_{t+1} and done, no reward head
                                                                          (mdnrnn.MDNRNNConfig(...))
    C  a = thirds(tanh(W [z, h, c] + b)): one output read as left / stay / right   (controller, "thirds")
    dream  M alone, paying 1 for every step survived, ending when M's done head says P(done) > 0.5
    score  survival time, capped at 2,100 steps; "solved" is above 750 over 100 real episodes

One command runs it all, resumably (every stage checkpoints, and a stage already finished is skipped):

    python -m wmcourse takecover --out runs/TakeCover

collect random rollouts -> train V -> encode -> train M -> for each tau: evolve C in the dream at tau,
score it in new dreams and in 100 real episodes -> the temperature table (results.json in --out), with
the wall time of every stage. `ship` copies the small results into data/ with manifest entries.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch

from .. import artefacts, checkpoint
from ..checkpoint import atomic_write_text
from ..real import evaluate, rollouts
from ..real.backend import LocalBackend
from ..real.envs import TAKE_COVER, TAKE_COVER_MAX_STEPS, thirds
from ..worldmodels import agent, controller, dream, evolve, latents, mdnrnn, vae
from ..worldmodels import train_mdnrnn as mdnrnn_training
from ..worldmodels import train_vae as vae_training

SOLVED = 750.0  # the task's threshold: mean survival over 100 real episodes
COMMAND = "python -m wmcourse takecover --out runs/TakeCover"
SHIP_COMMAND = "python -m wmcourse takecover --out runs/TakeCover --ship data"


@dataclass(frozen=True)
class TakeCoverConfig:
    """The shipped run's settings. Where they differ from the paper's, the paper's value is in the comment."""

    episodes: int = 3000            # random rollouts (paper: 10,000)
    policy: str = "hold"            # the paper's: a random action held for 1-10 steps ("random": a new one every step)
    episodes_per_shard: int = 20    # a shard's raw 240x320 screens are held in memory until it is packed
    vae_steps: int = 3000           # batches of 100 frames: 300,000 frames (paper: 1 epoch of its 2 million)
    z_size: int = 64
    hidden: int = 512
    mdnrnn_epochs: int = 12         # paper: 20
    mdnrnn_seq_len: int = 512       # windows of 512 steps (paper: 500), so M learns long dreams
    mdnrnn_batch: int = 25          # paper: 100; 4x more optimizer steps on less data (1,560 in the shipped run)
    taus: tuple[float, ...] = (1.15, 0.1, 1.0, 1.3, 0.5)  # the paper's table, most telling first
    population: int = 16            # paper: 64
    rollouts: int = 8               # dreams per candidate (paper: 16)
    generations: int = 30           # paper: until the score stopped improving
    sigma_init: float = 0.1
    max_steps: int = TAKE_COVER_MAX_STEPS  # 2,100, in the dream and in reality
    dream_episodes: int = 128       # new dreams that score each final controller
    real_episodes: int = 100        # real episodes that score each controller (paper: 100)
    eval_seed: int = 1_000_000      # real evaluation seeds, far from the collection's
    num_envs: int = 2
    threads: int = 1                # on a shared 2-core machine one thread ran the VAE 10x faster than two
    workers: int = 2                # shards collected, and temperatures evolved and scored, at once (one process each)
    seed: int = 0
    vae_from: str = ""              # a V checkpoint (with its training state) to continue from, e.g. an earlier run's
                                    # vae_z64.pt: copied into --out first, so vae_steps counts its steps too
    rounds: int = 0                 # rounds of the paper's iterative training after the table (0: none; the paper
                                    # proposes them for harder tasks, it did not need them here)
    round_tau: float = 1.15         # the temperature of every round's dream
    round_episodes: int = 600       # real episodes a round collects with the last controller (plus noise)
    round_noise: float = 0.3        # std of the Gaussian noise added to its action before it is read in thirds
    round_epochs: int = 4           # epochs a round trains M on, continuing the last M, on all data so far


def _paths(out: Path) -> dict[str, Path]:
    return {"rollouts": out / "rollouts", "vae": out / "vae_z64.pt", "encoded": out / "encoded",
            "mdnrnn": out / "mdnrnn.pt", "results": out / "results.json"}


def _round_name(round_: int) -> str:
    return "" if round_ == 0 else f"_round{round_}"


def encoded_path(out: Path, round_: int = 0) -> Path:
    """The encoded random rollouts (round 0), or the episodes that round `round_` of iterative training collected."""
    return Path(out) / f"encoded{_round_name(round_)}"


def mdnrnn_path(out: Path, round_: int = 0) -> Path:
    """M trained on the random rollouts (round 0), or after `round_` rounds of iterative training."""
    return Path(out) / f"mdnrnn{_round_name(round_)}.pt"


def controller_path(out: Path, tau: float, controller_seed: int | None = None, round_: int = 0) -> Path:
    """Where the controller evolved at tau lies; another controller_seed (CMA-ES's and its dreams') has its own,
    and so has the controller of each round of iterative training."""
    seed = "" if controller_seed is None else f"_seed{controller_seed}"
    return Path(out) / f"controller_tau{tau:g}{seed}{_round_name(round_)}.npz"


def mdnrnn_config(c: TakeCoverConfig) -> mdnrnn.MDNRNNConfig:
    """The paper's Doom M: z 64, one action, LSTM 512, done head (weighted x10), no reward head."""
    return mdnrnn.MDNRNNConfig(z_size=c.z_size, action_size=1, hidden=c.hidden, seq_len=c.mdnrnn_seq_len,
                               batch_size=c.mdnrnn_batch, predict_done=True, predict_reward=False)


MODEL_KEYS = ("episodes", "policy", "episodes_per_shard", "vae_steps", "vae_from", "z_size", "hidden", "mdnrnn_epochs", "mdnrnn_seq_len",
              "mdnrnn_batch", "seed")  # what V and M depend on; the rest matters only to C and its scores


ROUND_SETTINGS = ("round_tau", "round_episodes", "round_noise", "round_epochs")  # what every round is made with
ROUND_KEYS = ("rounds", *ROUND_SETTINGS)  # only rounds depend on these, and a run may be given more rounds later


CLI_KEYS = ("episodes", "policy", "generations", "real_episodes", "seed", "vae_steps", "vae_from", "mdnrnn_epochs", "taus",
            "workers")  # the settings most often changed: first on a recorded command line, in this order


def command(out: str | Path, config: TakeCoverConfig = TakeCoverConfig()) -> str:
    """The command line that runs `config` into `out` (only the settings that differ from the defaults; every
    setting is a flag of `python -m wmcourse takecover`)."""
    words = ["python -m wmcourse takecover --out", str(out)]
    for key in [*CLI_KEYS, *(f.name for f in fields(TakeCoverConfig) if f.name not in CLI_KEYS)]:
        value = getattr(config, key)
        if value != getattr(TakeCoverConfig(), key):
            flag = "--" + key.replace("_", "-")
            words += [flag, " ".join(f"{v:g}" for v in value)] if key == "taus" else [flag, str(value)]
    return " ".join(words)


def _load_results(path: Path, config: TakeCoverConfig) -> dict:
    """The results so far; settings may change only where no finished stage depends on them."""
    results = json.loads(path.read_text()) if path.exists() else {}
    settings = json.loads(json.dumps(asdict(config)))
    old = _saved_settings(results, settings)
    changed = [k for k in settings if old[k] != settings[k] and k not in ROUND_KEYS]
    if any(old[k] != settings[k] for k in ROUND_SETTINGS) and results.get("rounds"):
        raise ValueError(f"{path} has rounds of iterative training made with other round settings: keep them, or "
                         "use another --out.")
    controllers_made = any(k.startswith("evolve") for k in results.get("stages", {}))
    if any(k in MODEL_KEYS for k in changed) or (changed and controllers_made):
        raise ValueError(f"{path} was made with other settings ({', '.join(changed)} differ): delete it or use "
                         "another --out.")
    kept = {k: results[k] for k in ("controllers_wall_seconds", "total_seconds", "notes", "controller_seeds", "rounds")
            if k in results}
    return {"env": TAKE_COVER, "command": command(path.parent, config), "config": settings, "stages": results.get("stages", {}),
            "rows": results.get("rows", []), "random": results.get("random"), **kept}


def _saved_settings(results: dict, fallback: dict | None = None) -> dict:
    """A run's recorded settings as JSON values (fallback where none is recorded); a run from before a setting
    existed had its default."""
    defaults = json.loads(json.dumps(asdict(TakeCoverConfig())))
    return {**defaults, **results.get("config", fallback or {})}


def _save(path: Path, results: dict) -> None:
    atomic_write_text(path, json.dumps(results, indent=1) + "\n")


def _stage(results: dict, path: Path, name: str, work) -> None:
    """Run one stage unless results say it finished; record its wall time (summed over resumed runs)."""
    stage = results["stages"].get(name, {"seconds": 0.0, "done": False})
    if stage["done"]:
        return
    print(f"== {name}", flush=True)
    start = time.perf_counter()
    work()
    stage = {"seconds": round(stage["seconds"] + time.perf_counter() - start, 1), "done": True}
    results["stages"][name] = stage
    _save(path, results)


def run(out: str | Path = "runs/TakeCover", config: TakeCoverConfig = TakeCoverConfig()) -> dict:
    """Every stage, resumably; returns the results (also written to out/results.json)."""
    if config.rounds and config.round_tau not in config.taus:
        raise ValueError(f"The rounds start from the controller at round_tau = {config.round_tau:g}, which is not among "
                         f"--taus {' '.join(f'{t:g}' for t in config.taus)}: add it to --taus or change --round-tau.")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    p = _paths(out)
    results = _load_results(p["results"], config)
    torch.set_num_threads(config.threads)
    c = config

    _stage(results, p["results"], "collect", lambda: rollouts.collect(
        TAKE_COVER, c.episodes, p["rollouts"], num_envs=1, policy=c.policy, seed=c.seed,
        episodes_per_shard=c.episodes_per_shard, backend=LocalBackend(c.workers)))
    _stage(results, p["results"], "train-vae", lambda: _train_vae(p, c))
    _stage(results, p["results"], "encode", lambda: latents.encode_rollouts(vae.load_vae(p["vae"]), p["rollouts"],
                                                                            p["encoded"]))
    _stage(results, p["results"], "train-mdnrnn", lambda: mdnrnn_training.train_mdnrnn(
        p["encoded"], mdnrnn_config(c), p["mdnrnn"], epochs=c.mdnrnn_epochs, seed=c.seed, device="cpu"))
    _stage(results, p["results"], "random-policy", lambda: results.update(random=_real_row(
        evaluate.evaluate(TAKE_COVER, None, c.real_episodes, seed=c.eval_seed, num_envs=c.num_envs))))

    todo = [tau for tau in c.taus if not any(row["tau"] == tau for row in results["rows"])]
    if todo:
        print(f"== controllers for tau in {todo}, {min(c.workers, len(todo))} at a time", flush=True)
        start = time.perf_counter()
        for row in _map(_tau_row, [(str(out), tau, c) for tau in todo], c.workers):
            results["rows"].append(row)
            results["stages"][f"evolve tau {row['tau']:g}"] = {"seconds": row["evolve_seconds"], "done": True}
            _save(p["results"], results)
            print(f"tau {row['tau']:g}: dream {row['dream_mean']:.0f} +- {row['dream_std']:.0f}, "
                  f"real {row['real_mean']:.0f} +- {row['real_std']:.0f}", flush=True)
        results["controllers_wall_seconds"] = round(results.get("controllers_wall_seconds", 0.0)
                                                    + time.perf_counter() - start, 1)
    results["rows"].sort(key=lambda row: c.taus.index(row["tau"]) if row["tau"] in c.taus else len(c.taus))
    for round_ in range(1, c.rounds + 1):
        _iterate(out, round_, c, results)
    sequential = [s["seconds"] for name, s in results["stages"].items() if not name.startswith("evolve")]
    results["total_seconds"] = round(sum(sequential) + results.get("controllers_wall_seconds", 0.0), 1)
    _save(p["results"], results)
    return results


def run_controller_seeds(out: str | Path, seeds: tuple[int, ...], tau: float = 1.15,
                         config: TakeCoverConfig = TakeCoverConfig()) -> dict:
    """More controllers at tau from the finished run's V and M, one per CMA-ES seed, each scored like a table row
    (dreams and the same real episodes): how much of a row's real score is the luck of one search. Resumable;
    the rows are kept in results.json under "controller_seeds" (the table's own controller is seed config.seed)."""
    out = Path(out)
    path = _paths(out)["results"]
    results = _load_results(path, config)
    if not any(name == "train-mdnrnn" and stage["done"] for name, stage in results["stages"].items()):
        raise ValueError(f"{out} has no trained M yet: run `{command(out, config)}` first.")
    if config.seed in seeds:
        raise ValueError(f"seed {config.seed} is the table's own controller; give other seeds.")
    rows = results.setdefault("controller_seeds", [])
    todo = [s for s in seeds if not any(r["tau"] == tau and r["controller_seed"] == s for r in rows)]
    for row in _map(_tau_row, [(str(out), tau, config, s) for s in todo], config.workers):
        rows.append(row)
        _save(path, results)
        print(f"tau {tau:g}, controller seed {row['controller_seed']}: dream {row['dream_mean']:.0f} +- "
              f"{row['dream_std']:.0f}, real {row['real_mean']:.0f} +- {row['real_std']:.0f}", flush=True)
    rows.sort(key=lambda r: (r["tau"], r["controller_seed"]))
    _save(path, results)
    return results


def _train_vae(p: dict[str, Path], c: TakeCoverConfig) -> None:
    """Train V for c.vae_steps steps in all; with c.vae_from, continue that checkpoint (its steps count) rather than
    start afresh. train_vae resumes from whatever checkpoint lies at p["vae"], with its optimizer and noise state."""
    if c.vae_from and not p["vae"].exists():
        shutil.copyfile(c.vae_from, p["vae"])
    vae_training.train_vae(p["rollouts"], vae.VAEConfig(z_size=c.z_size), p["vae"], steps=c.vae_steps, seed=c.seed,
                           threads=c.threads)


def _map(function, arguments: list[tuple], workers: int):
    """function(*a) for each a, in `workers` processes (results as they finish), or in this one when workers is 1."""
    if workers <= 1:
        for a in arguments:
            yield function(*a)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(min(workers, len(arguments)), mp_context=multiprocessing.get_context("spawn")) as pool:
        for future in as_completed([pool.submit(function, *a) for a in arguments]):
            yield future.result()


def _tau_row(out: str, tau: float, c: TakeCoverConfig, controller_seed: int | None = None, round_: int = 0) -> dict:
    """Evolve C in the dream at tau (resumable), then score it in new dreams and in real episodes: one table row.
    controller_seed: evolve another C from the same V and M (CMA-ES and its dreams seeded anew).
    round_: in the dream of M after that many rounds of iterative training (dreams still start from real
    first frames of the random rollouts)."""
    torch.set_num_threads(c.threads)
    out = Path(out)
    p = _paths(out)
    model, v = mdnrnn.load_mdnrnn(mdnrnn_path(out, round_)), vae.load_vae(p["vae"])
    starts = agent.start_latents(latents.load_encoded(p["encoded"]))
    start = time.perf_counter()
    _evolve(model, starts, tau, controller_path(out, tau, controller_seed, round_), c, controller_seed)
    row = {"tau": tau, "evolve_seconds": round(time.perf_counter() - start, 1)}
    if controller_seed is not None:
        row["controller_seed"] = controller_seed
    params, cc, details = controller.load_controller(controller_path(out, tau, controller_seed, round_))
    start = time.perf_counter()
    dreams = dream.dream_score(model, starts, params, cc, tau, c.dream_episodes, c.max_steps, seed=c.seed + 1)
    row.update(dream_mean=float(dreams.mean()), dream_std=float(dreams.std()), dream_episodes=len(dreams),
               dream_seconds=round(time.perf_counter() - start, 1))
    real = evaluate.evaluate(TAKE_COVER, agent.WorldModelAgent(v, model, params, cc), c.real_episodes,
                             seed=c.eval_seed, num_envs=c.num_envs, progress=False)
    row.update(_real_row(real), generations=len(details["history"]))
    return row


def _iterate(out: Path, round_: int, c: TakeCoverConfig, results: dict) -> None:
    """One round of the paper's iterative training, each stage resumable: play the last round's controller (its
    action plus noise, read in thirds) for c.round_episodes real episodes, encode them with V, train M on to
    c.round_epochs more epochs on all the data so far (the random rollouts and every round's), then evolve a
    new controller in that M's dream at c.round_tau and score it like a table row."""
    p, here = _paths(out), f"round {round_}"
    new_rollouts = out / f"rollouts{_round_name(round_)}"
    seed = 10_000 * round_ + c.seed  # the round's real episodes and noise, apart from the random rollouts' seeds
    previous_m, m_path = mdnrnn_path(out, round_ - 1), mdnrnn_path(out, round_)

    def collect() -> None:
        v, m = vae.load_vae(p["vae"]), mdnrnn.load_mdnrnn(previous_m)
        params, cc, _ = controller.load_controller(controller_path(out, c.round_tau, round_=round_ - 1))
        policy = agent.NoisyPolicy(agent.WorldModelAgent(v, m, params, cc), np.array([-1.0]), np.array([1.0]),
                                   c.round_noise, seed=seed, snap=thirds)
        rollouts.collect(TAKE_COVER, c.round_episodes, new_rollouts, num_envs=c.num_envs, policy=policy,
                         seed=seed, episodes_per_shard=c.episodes_per_shard)

    def train_m() -> None:
        if not m_path.exists():  # continue the last M: its weights, optimizer and history
            shutil.copyfile(previous_m, m_path)
        epochs = len(torch.load(previous_m, map_location="cpu", weights_only=True)["history"]) + c.round_epochs
        every_round = [latents.load_encoded(encoded_path(out, r)) for r in range(round_ + 1)]
        mdnrnn_training.train_mdnrnn(latents.join_encoded(every_round),
                                     mdnrnn_config(c), m_path, epochs=epochs, seed=c.seed, device="cpu")

    if any(row["round"] == round_ for row in results.get("rounds", [])):
        return
    _stage(results, p["results"], f"{here} collect", collect)
    _stage(results, p["results"], f"{here} encode", lambda: latents.encode_rollouts(vae.load_vae(p["vae"]),
                                                                                   new_rollouts, encoded_path(out, round_)))
    _stage(results, p["results"], f"{here} train-mdnrnn", train_m)
    print(f"== {here} controller at tau {c.round_tau:g}", flush=True)
    start = time.perf_counter()
    row = {"round": round_, "episodes": c.round_episodes, "noise": c.round_noise,
           "real_steps_collected": rollouts.count_frames(new_rollouts),
           **_tau_row(str(out), c.round_tau, c, round_=round_)}
    results["stages"][f"{here} controller"] = {"seconds": round(time.perf_counter() - start, 1), "done": True}
    results.setdefault("rounds", []).append(row)
    _save(p["results"], results)
    print(f"{here}: {row['real_steps_collected']:,} new real steps; tau {row['tau']:g}: dream {row['dream_mean']:.0f} "
          f"+- {row['dream_std']:.0f}, real {row['real_mean']:.0f} +- {row['real_std']:.0f}", flush=True)


# --- when to stop iterating: a look at held-out reality ----------------------------------------------------------

VALIDATION_SEED = 4_000_000  # held-out real episodes that choose among the rounds' controllers
TEST_SEED = 2_000_000        # fresh real episodes that score the chosen one; nothing else plays them
SELECTION_NAME = "selection.json"


def select_round(out: str | Path, validation_episodes: int = 50) -> dict:
    """The paper iterates "until solved", and telling when is itself a look at reality. Make that look on episodes
    kept for it: every round's controller (round 0: the table's at round_tau) plays `validation_episodes` real
    episodes from VALIDATION_SEED, the best mean is kept, and the kept one plays the run's real_episodes fresh
    episodes from TEST_SEED. The test score is the claim; the validation winner's own score is the maximum of
    noisy means, biased up. Resumable (out/selection.json); a run given more rounds later is chosen among again."""
    out = Path(out)
    results_path = _paths(out)["results"]
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if "total_seconds" not in results:
        raise ValueError(f"{out} has no finished takecover run: run `{results.get('command', COMMAND)}` first.")
    if validation_episodes < 1:
        raise ValueError(f"validation_episodes must be at least 1, got {validation_episodes}.")
    saved = _saved_settings(results)
    c = TakeCoverConfig(**{**saved, "taus": tuple(saved["taus"])})
    path = out / SELECTION_NAME
    settings = {"tau": c.round_tau, "validation_seed": VALIDATION_SEED, "validation_episodes": validation_episodes,
                "test_seed": TEST_SEED, "test_episodes": c.real_episodes}
    selection = json.loads(path.read_text()) if path.exists() else {**settings, "validation": [], "tests": []}
    if any(selection[k] != v for k, v in settings.items()):
        raise ValueError(f"{path} was chosen with other settings ({settings}): delete it or keep its settings.")
    rounds = _round_numbers(results)
    todo = [r for r in rounds if not any(row["round"] == r for row in selection["validation"])]
    for row in _map(_play_round, [(str(out), r, c, validation_episodes, VALIDATION_SEED) for r in todo], c.workers):
        selection["validation"].append(row)
        selection["validation"].sort(key=lambda row: row["round"])
        atomic_write_text(path, json.dumps(selection, indent=1) + "\n")
        print(f"round {row['round']}: validation {row['real_mean']:.0f} +- {row['real_std']:.0f}", flush=True)
    chosen = max(selection["validation"], key=lambda row: row["real_mean"])["round"]
    if not any(row["round"] == chosen for row in selection["tests"]):
        selection["tests"].append(_play_round(str(out), chosen, c, c.real_episodes, TEST_SEED))
    selection.update(rounds=rounds, chosen_round=chosen)
    atomic_write_text(path, json.dumps(selection, indent=1) + "\n")
    return selection


def _round_numbers(results: dict) -> list[int]:
    """0 (the table) and every finished round of iterative training in a run's results."""
    return [0, *(row["round"] for row in results.get("rounds", []))]


def chosen_test(selection: dict) -> dict:
    """The fresh-episode score of the round that selection chose."""
    return next(row for row in selection["tests"] if row["round"] == selection["chosen_round"])


def describe_selection(seed: int, selection: dict) -> str:
    """One line: each round's validation mean, the round kept and its score on the fresh episodes."""
    test = chosen_test(selection)
    return (f"training seed {seed}: on {selection['validation_episodes']} held-out episodes " + ", ".join(
        f"round {row['round']} {row['real_mean']:.0f}" for row in selection["validation"])
        + f"; kept round {selection['chosen_round']}: {test['real_mean']:.1f} ± {test['real_std']:.1f} "
        f"on {test['real_episodes']} fresh episodes")


def _play_round(out: str, round_: int, c: TakeCoverConfig, episodes: int, seed: int) -> dict:
    """The controller of round `round_` (with that round's M), played for `episodes` real episodes from `seed`."""
    torch.set_num_threads(c.threads)
    out = Path(out)
    params, cc, _ = controller.load_controller(controller_path(out, c.round_tau, round_=round_))
    policy = agent.WorldModelAgent(vae.load_vae(_paths(out)["vae"]), mdnrnn.load_mdnrnn(mdnrnn_path(out, round_)),
                                   params, cc)
    real = evaluate.evaluate(TAKE_COVER, policy, episodes, seed=seed, num_envs=c.num_envs, progress=False)
    return {"round": round_, "seed": seed, **_real_row(real)}


def _real_row(result: evaluate.EvalResult) -> dict:
    return {"real_mean": result.mean, "real_std": result.std, "real_episodes": len(result.returns),
            "real_returns": result.returns.round(1).tolist(), "real_seconds": round(result.seconds, 1)}


def _evolve(model: mdnrnn.MDNRNN, starts: torch.Tensor, tau: float, path: Path, c: TakeCoverConfig,
            controller_seed: int | None = None) -> None:
    settings = evolve.EvolveConfig(population=c.population, rollouts=c.rollouts, sigma_init=c.sigma_init,
                                   generations=c.generations, seed=c.seed if controller_seed is None else controller_seed)
    world, cc = dream.controller_dream(model, starts, tau, c.max_steps, seed=settings.seed, squash="thirds",
                                       include_cell=True)
    result = evolve.evolve_in_dream(world, cc, settings, checkpoint=str(path) + ".es.pkl")
    controller.save_controller(path, result.best_params, cc, history=result.history, tau=tau)


# --- shipping the results (data/) and loading them (notebook 05, tests) -----------------------------------

RESULTS_NAME = "takecover_results.json"
VAE_NAME = "vae_takecover_z64.pt"
MDNRNN_NAME = "mdnrnn_takecover.pt"
START_NAME = "takecover_start_z.npy"


def shipped_controller_name(tau: float) -> str:
    return f"controller_takecover_tau{tau:g}.npz"


def ship(out: str | Path, folder: str | Path | None = None, start_latents: int = 64) -> list[Path]:
    """Copy the run's small results into data/ (V and M in float16) and record them in the manifest."""
    named = folder or "data"
    out, folder = Path(out), Path(folder or artefacts.data_dir())
    p = _paths(out)
    results = json.loads(p["results"].read_text())
    seed = results["config"]["seed"]
    ship_command = f"{results.get('command', COMMAND)} --ship {named}"
    table = {str(r["tau"]): {"dream_mean": round(r["dream_mean"], 1), "real_mean": round(r["real_mean"], 1)}
             for r in results["rows"]}
    shipped = []
    target = folder / RESULTS_NAME
    shutil.copyfile(p["results"], target)
    artefacts.record(target, ship_command, seed, {"rows": table, "random_real_mean": round(results["random"]["real_mean"], 1),
                                                  "total_minutes": round(results.get("total_seconds", 0) / 60, 1)}, folder)
    shipped.append(target)
    target = folder / VAE_NAME
    vae.save_vae(vae.load_vae(p["vae"]), target, half=True)
    artefacts.record(target, ship_command, seed, {"z_size": results["config"]["z_size"],
                                                  "frames_trained_on": rollouts.count_frames(p["rollouts"])}, folder)
    shipped.append(target)
    model = mdnrnn.load_mdnrnn(p["mdnrnn"])
    target = folder / MDNRNN_NAME
    mdnrnn.save_mdnrnn(model.half(), target, history=torch.load(p["mdnrnn"], weights_only=True)["history"], seed=seed)
    artefacts.record(target, ship_command, seed, {"parameters": checkpoint.count_parameters(model),
                                                  "paper_parameter_count": mdnrnn.paper_parameter_count(model.config)},
                     folder)
    shipped.append(target)
    starts = agent.start_latents(latents.load_encoded(p["encoded"]))[:start_latents]
    target = folder / START_NAME
    np.save(target, starts.numpy().astype(np.float32))
    artefacts.record(target, ship_command, seed, {"start_latents": len(starts)}, folder)
    shipped.append(target)
    for row in results["rows"]:
        target = folder / shipped_controller_name(row["tau"])
        shutil.copyfile(controller_path(out, row["tau"]), target)
        artefacts.record(target, ship_command, seed, {"tau": row["tau"], "dream_mean": round(row["dream_mean"], 1),
                                                      "real_mean": round(row["real_mean"], 1),
                                                      "real_episodes": row["real_episodes"]}, folder)
        shipped.append(target)
    return shipped


def load_shipped_results() -> dict:
    """The measured temperature table (data/takecover_results.json), rows sorted by tau."""
    results = json.loads(artefacts.require(RESULTS_NAME, SHIP_COMMAND).read_text())
    results["rows"] = sorted(results["rows"], key=lambda row: row["tau"])
    return results


def load_shipped_models() -> tuple[vae.ConvVAE, mdnrnn.MDNRNN, torch.Tensor]:
    """The shipped V, M (float32, eval mode) and real start latents (N, 64) of Take Cover."""
    v = vae.load_vae(artefacts.require(VAE_NAME, SHIP_COMMAND))
    m = mdnrnn.load_mdnrnn(artefacts.require(MDNRNN_NAME, SHIP_COMMAND)).float()
    starts = torch.from_numpy(np.load(artefacts.require(START_NAME, SHIP_COMMAND)))
    return v, m, starts


def load_shipped_controller(tau: float = 1.15) -> tuple[np.ndarray, controller.ControllerConfig, dict]:
    """The controller evolved in the dream at temperature tau (one of the table's)."""
    return controller.load_controller(artefacts.require(shipped_controller_name(tau), SHIP_COMMAND))


def shipped_agent(tau: float = 1.15) -> agent.WorldModelAgent:
    """V, M and the controller evolved at tau, ready to play the real Take Cover."""
    v, m, _ = load_shipped_models()
    params, config, _ = load_shipped_controller(tau)
    return agent.WorldModelAgent(v, m, params, config)


# --- training seeds: does the table survive a new V, M and C? ---------------------------------------------------

SEEDS_NAME = "takecover_training_seeds.json"
SEEDS_COMMAND = ("python scripts/takecover_training_seeds.py runs/TakeCover runs/TakeCover_seed1 runs/TakeCover_seed2 "
                 "--fixed-policies")


def training_seed_summary(outs: list[str | Path]) -> dict:
    """The finished runs in `outs`, one per training seed (new data, V, M and C each), side by side: every run's
    rows (dream and real, with the real returns), its rounds of iterative training, its random policy and wall
    time; and, for each tau (and each round) that every run measured, the mean and std over seeds of the
    100-episode real means."""
    runs = []
    for out in outs:
        path = _paths(Path(out))["results"]
        if not path.exists():
            raise ValueError(f"{path} does not exist: finish that run first ({COMMAND} --seed N --out {out}).")
        results = json.loads(path.read_text())
        if not results.get("rows") or "total_seconds" not in results:
            raise ValueError(f"{out} has not finished: rerun `{results.get('command', COMMAND)}` to resume it.")
        keys = ("tau", "dream_mean", "dream_std", "real_mean", "real_std", "real_episodes", "real_returns")
        runs.append({"seed": results["config"]["seed"], "command": results["command"],
                     "total_seconds": results["total_seconds"], "frames": rollouts.count_frames(Path(out) / "rollouts"),
                     "random_real_mean": results["random"]["real_mean"],
                     "rows": [{k: row[k] for k in keys} for row in results["rows"]],
                     "rounds": [{k: row[k] for k in ("round", "real_steps_collected", *keys)}
                                for row in results.get("rounds", [])],
                     **_selection_summary(Path(out), results)})
    seeds = [run["seed"] for run in runs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"two runs share a training seed ({seeds}): each run must be trained from its own seed.")

    def spread(means: list[float]) -> dict:
        return {"real_means": means, "mean": float(np.mean(means)), "std": float(np.std(means)),
                "solved": sum(m > SOLVED for m in means)}

    shared = sorted(set.intersection(*({row["tau"] for row in run["rows"]} for run in runs)))
    across = {f"{tau:g}": spread([row["real_mean"] for run in runs for row in run["rows"] if row["tau"] == tau])
              for tau in shared}
    rounds = sorted(set.intersection(*({row["round"] for row in run["rounds"]} for run in runs)))
    after = {str(r): spread([row["real_mean"] for run in runs for row in run["rounds"] if row["round"] == r])
             for r in rounds}
    chosen = (spread([chosen_test(run["selection"])["real_mean"] for run in runs])
              if all("selection" in run for run in runs) else {})
    return {"env": TAKE_COVER, "seeds": seeds, "runs": runs, "across_seeds": across, "rounds_across_seeds": after,
            "chosen_across_seeds": chosen}


def _selection_summary(out: Path, results: dict) -> dict:
    """{"selection": the run's choice among its rounds}, or {} if none was made; refused if rounds came after it."""
    path = out / SELECTION_NAME
    if not path.exists():
        return {}
    selection = json.loads(path.read_text())
    rounds = _round_numbers(results)
    if selection.get("rounds") != rounds:
        raise ValueError(f"{path} chose among rounds {selection.get('rounds')}, but {out} has rounds {rounds}: rerun "
                         f"`{results['command']} --select {selection['validation_episodes']}` to choose again.")
    return {"selection": selection}


def spreads_by_name(summary: dict) -> dict[str, dict]:
    """The summary's spreads over training seeds by name: "tau 1.15" for a table row every seed measured, "round 1"
    for a round of iterative training every seed ran, "chosen round" for the fresh-episode scores of the rounds that
    select_round kept (when every seed has one)."""
    return {**{f"tau {tau}": row for tau, row in summary["across_seeds"].items()},
            **{f"round {r}": row for r, row in summary["rounds_across_seeds"].items()},
            **({"chosen round": summary["chosen_across_seeds"]} if summary.get("chosen_across_seeds") else {})}


def load_training_seeds() -> dict:
    """The shipped summary of the Take Cover runs over training seeds (data/takecover_training_seeds.json)."""
    return json.loads(artefacts.require(SEEDS_NAME, SEEDS_COMMAND).read_text())


# --- fixed policies: how hard is the dream compared with the game? -----------------------------------------------

class ConstantPolicy:
    """The same action every step (-1 left, 0 stay, +1 right): an evaluate.Policy for the real game."""

    def __init__(self, action: float):
        self.action = float(action)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.full((len(obs), 1), self.action, np.float32)

    def reset(self, done: np.ndarray) -> None:
        pass


def constant_controller(action: float, z_size: int = 64, hidden: int = 512) -> tuple[np.ndarray, controller.ControllerConfig]:
    """A Take Cover controller that ignores what it sees and always takes `action`: zero weights, bias 5 * action
    (tanh(5) = 0.9999 lies in the right third, tanh(0) = 0 in the middle one)."""
    config = controller.ControllerConfig(input_size=z_size + 2 * hidden, action_size=1, squash="thirds")
    params = np.zeros(config.n_params, np.float32)
    params[-1] = 5.0 * action
    return params, config


def fixed_policy_survival(model: mdnrnn.MDNRNN, starts: torch.Tensor, tau: float = 1.15, dreams: int = 32,
                          real_episodes: int = 10, max_steps: int = TAKE_COVER_MAX_STEPS,
                          seed: int = 3_000_000) -> list[dict]:
    """Steps survived by the three constant policies (left, stay, right) in M's dream at tau and in the real game:
    a policy that sees nothing should die about as soon in both, if the dream is as dangerous as the game."""
    rows = []
    for action, name in ((-1.0, "always left"), (0.0, "always stay"), (1.0, "always right")):
        params, config = constant_controller(action, model.config.z_size, model.config.hidden)
        lived = dream.dream_score(model, starts, params, config, tau, dreams, max_steps, seed=0)
        real = evaluate.evaluate(TAKE_COVER, ConstantPolicy(action), real_episodes, seed=seed, progress=False)
        rows.append({"policy": name, "dream_mean": float(lived.mean()), "dream_std": float(lived.std()),
                     "real_mean": real.mean, "real_std": real.std})
    return rows


def fixed_policy_rounds(out: str | Path, tau: float = 1.15, dreams: int = 32, real_episodes: int = 10,
                        start_latents: int = 64) -> list[dict]:
    """fixed_policy_survival for a finished run's first M and the M of each of its rounds of iterative training
    (dreams from the first `start_latents` real first frames of its random rollouts): did a round take away the
    walls the dream made safe?"""
    p = _paths(Path(out))
    results = json.loads(p["results"].read_text())
    starts = agent.start_latents(latents.load_encoded(p["encoded"]))[:start_latents]
    rounds = _round_numbers(results)
    return [{"round": r, "tau": tau, "rows": fixed_policy_survival(mdnrnn.load_mdnrnn(mdnrnn_path(out, r)), starts,
                                                                   tau, dreams, real_episodes)} for r in rounds]
