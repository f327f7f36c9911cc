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
score it in new dreams and in 100 real episodes (recipe.evolve_and_score) -> the temperature table
(results.json in --out), with the wall time of every stage (runner.Run) -> rounds of the paper's iterative
training (recipe.round_steps). `ship` copies the small results into data/ with manifest entries.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import artefacts, checkpoint
from ..checkpoint import atomic_write_text
from ..errors import RunStateError, SettingsError
from ..real import evaluate, rollouts
from ..real.backend import LocalBackend
from ..real.envs import TAKE_COVER, TAKE_COVER_MAX_STEPS, thirds
from ..worldmodels import agent, controller, dream, latents, mdnrnn, vae
from ..worldmodels import train_mdnrnn as mdnrnn_training
from ..worldmodels import train_vae as vae_training
from . import recipe
from .runner import Run, Stage, as_json, call, flat, from_json, in_processes, section

SOLVED = 750.0  # the task's threshold: mean survival over 100 real episodes
COMMAND = "python -m wmcourse takecover --out runs/TakeCover"
SHIP_COMMAND = "python -m wmcourse takecover --out runs/TakeCover --ship data"


@dataclass(frozen=True)
class TakeCoverRound(recipe.RoundSettings):
    tau: float = 1.15               # the temperature of every round's dream


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
    # CMA-ES (paper: population 64, 16 dreams a candidate, until the score stopped improving)
    search: recipe.Search = section(recipe.Search(population=16, rollouts=8, generations=30, sigma_init=0.1))
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
    # each round: real episodes collected with the last controller, the std of the Gaussian noise on its action
    # (before it is read in thirds), M's epochs on all data so far (continuing the last M), the dream's tau
    round: TakeCoverRound = section(TakeCoverRound(episodes=600, noise=0.3, epochs=4, tau=1.15), "round_")


OVERLAYS = {  # named changes to the defaults (runner.overlay)
    "fast": {"episodes": 4, "episodes_per_shard": 2, "vae_steps": 2, "z_size": 8, "hidden": 16, "mdnrnn_epochs": 1,
             "taus": (1.15,), "population": 4, "rollouts": 1, "generations": 1, "max_steps": 50,
             "dream_episodes": 2, "real_episodes": 2, "workers": 1, "round_episodes": 2, "round_epochs": 2},
}


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


MODEL_KEYS = ("episodes", "policy", "episodes_per_shard", "vae_steps", "vae_from", "z_size", "hidden", "mdnrnn_epochs",
              "mdnrnn_seq_len", "mdnrnn_batch", "seed")  # what V and M depend on; the rest matters to C and its scores
ROUND_KEYS = ("rounds", *(f"round_{k}" for k in ("episodes", "noise", "epochs", "tau")))  # only rounds depend on these
FREE_KEYS = ("rounds", "workers")  # a run may be given more rounds later, or more processes
CLI_KEYS = ("episodes", "policy", "generations", "real_episodes", "seed", "vae_steps", "vae_from", "mdnrnn_epochs",
            "taus", "workers")  # the settings most often changed: first on a recorded command line, in this order


def command(out: str | Path, config: TakeCoverConfig = TakeCoverConfig()) -> str:
    """The command line that runs `config` into `out` (only the settings that differ from the defaults; every
    setting is a flag of `python -m wmcourse takecover`)."""
    words, settings, defaults = ["python -m wmcourse takecover --out", str(out)], flat(config), flat(TakeCoverConfig())
    for key in [*CLI_KEYS, *(k for k in settings if k not in CLI_KEYS)]:
        if settings[key] != defaults[key]:
            flag = "--" + key.replace("_", "-")
            words += [flag, " ".join(f"{v:g}" for v in settings[key])] if key == "taus" else [flag, str(settings[key])]
    return " ".join(words)


def real_cap(max_steps: int) -> int | None:
    """Where a real episode is cut: at max_steps when it is below the game's own limit of 2,100 steps (a toy run),
    else nowhere (None): the game ends it, exactly as it did for the shipped run."""
    return max_steps if max_steps < TAKE_COVER_MAX_STEPS else None


def _run_config(results: dict) -> TakeCoverConfig:
    """The settings a finished run recorded in its results.json, the defaults for any it did not."""
    return from_json(TakeCoverConfig(), results.get("config", {}))


def _stages(out: Path, c: TakeCoverConfig) -> tuple[list[Stage], list[Stage], list[Stage]]:
    """The run's stages: the models and the random policy, the table (one per tau, run in parallel), the rounds."""
    p = _paths(out)
    models = [
        Stage("collect", lambda: rollouts.collect(TAKE_COVER, c.episodes, p["rollouts"], num_envs=1, policy=c.policy,
                                                  seed=c.seed, episodes_per_shard=c.episodes_per_shard,
                                                  max_steps=real_cap(c.max_steps),
                                                  backend=LocalBackend(c.workers)),
              uses=MODEL_KEYS),
        Stage("train-vae", lambda: _train_vae(p, c), uses=MODEL_KEYS),
        Stage("encode", lambda: latents.encode_rollouts(vae.load_vae(p["vae"]), p["rollouts"], p["encoded"]),
              uses=MODEL_KEYS),
        Stage("train-mdnrnn", lambda: mdnrnn_training.train_mdnrnn(p["encoded"], mdnrnn_config(c), p["mdnrnn"],
                                                                   epochs=c.mdnrnn_epochs, seed=c.seed, device="cpu"),
              uses=MODEL_KEYS),
        Stage("random-policy", lambda: recipe.real_row(evaluate.evaluate(TAKE_COVER, None, c.real_episodes,
                                                                         seed=c.eval_seed, num_envs=c.num_envs,
                                                                         max_steps=real_cap(c.max_steps))),
              uses=(*MODEL_KEYS, "real_episodes", "eval_seed", "num_envs"),
              keep=lambda state, row: state.update(random=row)),
    ]
    table = [Stage(f"evolve tau {tau:g}", call(_tau_row, str(out), tau, c), uses=_table_keys(c), keep=_keep_row,
                   finished=lambda state, tau=tau: any(row["tau"] == tau for row in state.get("rows", [])))
             for tau in c.taus]
    task = _Rounds(out, c)
    rounds = [Stage(f"round {r} {step}", work, keep=_keep_round if step == "controller" else None,
                    finished=lambda state, r=r: any(row["round"] == r for row in state.get("rounds", [])))
              for r in range(1, c.rounds + 1) for step, work in recipe.round_steps(task, r)]
    return models, table, rounds


def _table_keys(c: TakeCoverConfig) -> tuple[str, ...]:
    """What a controller of the table depends on: every setting but the rounds'."""
    return tuple(k for k in as_json(c) if k not in ROUND_KEYS)


def _keep_row(state: dict, row: dict) -> None:
    state["rows"].append(row)
    print(f"tau {row['tau']:g}: dream {row['dream_mean']:.0f} +- {row['dream_std']:.0f}, "
          f"real {row['real_mean']:.0f} +- {row['real_std']:.0f}", flush=True)


def _keep_round(state: dict, row: dict) -> None:
    state.setdefault("rounds", []).append(row)
    print(f"round {row['round']}: {row['real_steps_collected']:,} new real steps; tau {row['tau']:g}: dream "
          f"{row['dream_mean']:.0f} +- {row['dream_std']:.0f}, real {row['real_mean']:.0f} +- {row['real_std']:.0f}",
          flush=True)


def _open(out: Path, c: TakeCoverConfig, extra: list[Stage] = ()) -> tuple[Run, list[Stage], list[Stage], list[Stage]]:
    """The run folder's state, checked against `c` (runner.Run), and the run's stages."""
    models, table, rounds = _stages(out, c)
    run = Run(_paths(out)["results"], c, TakeCoverConfig(), [*models, *table, *rounds, *extra], free=FREE_KEYS)
    run.state.update(env=TAKE_COVER, command=command(out, c), rows=run.state.get("rows", []),
                     random=run.state.get("random"))
    return run, models, table, rounds


def run(out: str | Path = "runs/TakeCover", config: TakeCoverConfig = TakeCoverConfig()) -> dict:
    """Every stage, resumably; returns the results (also written to out/results.json)."""
    c = config
    if c.rounds and c.round.tau not in c.taus:
        raise SettingsError(f"The rounds start from the controller at round_tau = {c.round.tau:g}, which is not among "
                            f"--taus {' '.join(f'{t:g}' for t in c.taus)}: add it to --taus or change --round-tau.")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(c.threads)
    run, models, table, rounds = _open(out, c)
    run.run(models)
    run.run_parallel(table, c.workers, "controllers_wall_seconds")
    run.state["rows"].sort(key=lambda row: c.taus.index(row["tau"]) if row["tau"] in c.taus else len(c.taus))
    results = run.run(rounds)
    sequential = [s["seconds"] for name, s in results["stages"].items() if not name.startswith("evolve")]
    results["total_seconds"] = round(sum(sequential) + results.get("controllers_wall_seconds", 0.0), 1)
    run.save()
    return results


def run_controller_seeds(out: str | Path, seeds: tuple[int, ...], tau: float = 1.15,
                         config: TakeCoverConfig = TakeCoverConfig()) -> dict:
    """More controllers at tau from the finished run's V and M, one per CMA-ES seed, each scored like a table row
    (dreams and the same real episodes): how much of a row's real score is the luck of one search. Resumable;
    the rows are kept in results.json under "controller_seeds" (the table's own controller is seed config.seed)."""
    out = Path(out)
    if config.seed in seeds:
        raise SettingsError(f"seed {config.seed} is the table's own controller; give other seeds.")
    stages = [Stage(f"evolve tau {tau:g} controller seed {s}", call(_tau_row, str(out), tau, config, s),
                    uses=_table_keys(config),
                    keep=lambda state, row: state.setdefault("controller_seeds", []).append(row),
                    finished=lambda state, s=s: any(r["tau"] == tau and r["controller_seed"] == s
                                                    for r in state.get("controller_seeds", [])))
              for s in seeds]
    run, models, _, _ = _open(out, config, stages)
    if not run.done(models[3]):
        raise RunStateError(f"{out} has no trained M yet: run `{command(out, config)}` first.")
    run.run_parallel(stages, config.workers, "controller_seeds_wall_seconds")
    run.state.setdefault("controller_seeds", []).sort(key=lambda r: (r["tau"], r["controller_seed"]))
    run.save()
    return run.state


def _train_vae(p: dict[str, Path], c: TakeCoverConfig) -> None:
    """Train V for c.vae_steps steps in all; with c.vae_from, continue that checkpoint (its steps count) rather than
    start afresh. train_vae resumes from whatever checkpoint lies at p["vae"], with its optimizer and noise state."""
    if c.vae_from and not p["vae"].exists():
        shutil.copyfile(c.vae_from, p["vae"])
    vae_training.train_vae(p["rollouts"], vae.VAEConfig(z_size=c.z_size), p["vae"], steps=c.vae_steps, seed=c.seed,
                           threads=c.threads)


def _model(out: Path, round_: int = 0) -> recipe.MDNRNNModel:
    """V, the M of round `round_` and the real first frames of the random rollouts (where every dream starts)."""
    p = _paths(out)
    return recipe.MDNRNNModel(TAKE_COVER, mdnrnn.load_mdnrnn(mdnrnn_path(out, round_)),
                              agent.start_latents(latents.load_encoded(p["encoded"])), vae.load_vae(p["vae"]),
                              squash="thirds", include_cell=True)


def _tau_row(out: str, tau: float, c: TakeCoverConfig, controller_seed: int | None = None, round_: int = 0) -> dict:
    """Evolve C in the dream at tau (resumable), then score it in new dreams and in real episodes: one table row.
    controller_seed: evolve another C from the same V and M (CMA-ES and its dreams seeded anew).
    round_: in the dream of M after that many rounds of iterative training (dreams still start from real
    first frames of the random rollouts)."""
    torch.set_num_threads(c.threads)
    seed = c.seed if controller_seed is None else controller_seed
    scoring = recipe.Scoring(c.dream_episodes, c.seed + 1, c.real_episodes, c.eval_seed, c.num_envs,
                             real_cap(c.max_steps))
    scored = recipe.evolve_and_score(_model(Path(out), round_), tau, c.max_steps, c.search.settings(seed), scoring,
                                     save=controller_path(Path(out), tau, controller_seed, round_))
    row = {"tau": tau, "evolve_seconds": round(scored.evolve_seconds, 1)}
    if controller_seed is not None:
        row["controller_seed"] = controller_seed
    row.update(dream_mean=float(scored.dreams.mean()), dream_std=float(scored.dreams.std()),
               dream_episodes=len(scored.dreams), dream_seconds=round(scored.dream_seconds, 1))
    return {**row, **recipe.real_row(scored.real), "generations": len(scored.history)}


@dataclass
class _Rounds:
    """Take Cover's steps of a round of the paper's iterative training (recipe.RoundTask): play the last round's
    controller (its action plus noise, read in thirds) for round.episodes real episodes, encode them with V,
    train M on to round.epochs more epochs on all the data so far (the random rollouts and every round's), then
    evolve a new controller in that M's dream at round.tau and score it like a table row."""

    out: Path
    c: TakeCoverConfig

    def _rollouts(self, round_: int) -> Path:
        return self.out / f"rollouts{_round_name(round_)}"

    def collect(self, round_: int) -> None:
        seed = 10_000 * round_ + self.c.seed  # the round's real episodes and noise, apart from the random rollouts'
        model = _model(self.out, round_ - 1)
        params, cc, _ = controller.load_controller(controller_path(self.out, self.c.round.tau, round_=round_ - 1))
        policy = agent.NoisyPolicy(model.policy(params, cc), np.array([-1.0]), np.array([1.0]), self.c.round.noise,
                                   seed=seed, snap=thirds)
        rollouts.collect(TAKE_COVER, self.c.round.episodes, self._rollouts(round_), num_envs=self.c.num_envs,
                         policy=policy, seed=seed, episodes_per_shard=self.c.episodes_per_shard,
                         max_steps=real_cap(self.c.max_steps))

    def encode(self, round_: int) -> None:
        latents.encode_rollouts(vae.load_vae(_paths(self.out)["vae"]), self._rollouts(round_),
                                encoded_path(self.out, round_))

    def retrain(self, round_: int) -> None:
        previous, m_path = mdnrnn_path(self.out, round_ - 1), mdnrnn_path(self.out, round_)
        if not m_path.exists():  # continue the last M: its weights, optimizer and history
            shutil.copyfile(previous, m_path)
        epochs = len(torch.load(previous, map_location="cpu", weights_only=True)["history"]) + self.c.round.epochs
        every_round = [latents.load_encoded(encoded_path(self.out, r)) for r in range(round_ + 1)]
        mdnrnn_training.train_mdnrnn(latents.join_encoded(every_round), mdnrnn_config(self.c), m_path, epochs=epochs,
                                     seed=self.c.seed, device="cpu")

    def evolve(self, round_: int) -> dict:
        return {"round": round_, "episodes": self.c.round.episodes, "noise": self.c.round.noise,
                "real_steps_collected": rollouts.count_frames(self._rollouts(round_)),
                **_tau_row(str(self.out), self.c.round.tau, self.c, round_=round_)}


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
        raise RunStateError(f"{out} has no finished takecover run: run `{results.get('command', COMMAND)}` first.")
    if validation_episodes < 1:
        raise SettingsError(f"validation_episodes must be at least 1, got {validation_episodes}.")
    c = _run_config(results)
    path = out / SELECTION_NAME
    settings = {"tau": c.round.tau, "validation_seed": VALIDATION_SEED, "validation_episodes": validation_episodes,
                "test_seed": TEST_SEED, "test_episodes": c.real_episodes}
    selection = json.loads(path.read_text()) if path.exists() else {**settings, "validation": [], "tests": []}
    checkpoint.check_same_config(path, {k: selection.get(k) for k in settings}, settings)
    rounds = _round_numbers(results)
    todo = [r for r in rounds if not any(row["round"] == r for row in selection["validation"])]
    for row in in_processes(_play_round, [(str(out), r, c, validation_episodes, VALIDATION_SEED) for r in todo],
                            c.workers):
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
    params, cc, _ = controller.load_controller(controller_path(out, c.round.tau, round_=round_))
    policy = agent.WorldModelAgent(vae.load_vae(_paths(out)["vae"]), mdnrnn.load_mdnrnn(mdnrnn_path(out, round_)),
                                   params, cc)
    real = evaluate.evaluate(TAKE_COVER, policy, episodes, seed=seed, num_envs=c.num_envs, progress=False,
                             max_steps=real_cap(c.max_steps))
    return {"round": round_, "seed": seed, **recipe.real_row(real)}


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
    artefacts.record(target, ship_command, seed,
                     {"rows": table, "random_real_mean": round(results["random"]["real_mean"], 1),
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
            raise RunStateError(f"{path} does not exist: finish that run first ({COMMAND} --seed N --out {out}).")
        results = json.loads(path.read_text())
        if not results.get("rows") or "total_seconds" not in results:
            raise RunStateError(f"{out} has not finished: rerun `{results.get('command', COMMAND)}` to resume it.")
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
        raise RunStateError(f"two runs share a training seed ({seeds}): each run must be trained from its own seed.")

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
        raise RunStateError(f"{path} chose among rounds {selection.get('rounds')}, but {out} has rounds {rounds}: "
                            f"rerun `{results['command']} --select {selection['validation_episodes']}` "
                            "to choose again.")
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


def constant_controller(action: float, z_size: int = 64,
                        hidden: int = 512) -> tuple[np.ndarray, controller.ControllerConfig]:
    """A Take Cover controller that ignores what it sees and always takes `action`: zero weights, bias 5 * action
    (tanh(5) = 0.9999 lies in the right third, tanh(0) = 0 in the middle one)."""
    config = controller.ControllerConfig(input_size=z_size + 2 * hidden, action_size=1, squash="thirds")
    params = np.zeros(config.n_params, np.float32)
    params[-1] = 5.0 * action
    return params, config


def fixed_policy_survival(model: mdnrnn.MDNRNN, starts: torch.Tensor, tau: float = 1.15, dreams: int = 32,
                          real_episodes: int = 10, max_steps: int = TAKE_COVER_MAX_STEPS,
                          seed: int = 3_000_000) -> list[dict]:
    """Steps survived by the three constant policies (left, stay, right) in M's dream at tau and in the real game
    (both cut at max_steps): a policy that sees nothing should die about as soon in both, if the dream is as
    dangerous as the game."""
    rows = []
    for action, name in ((-1.0, "always left"), (0.0, "always stay"), (1.0, "always right")):
        params, config = constant_controller(action, model.config.z_size, model.config.hidden)
        lived = dream.dream_score(model, starts, params, config, tau, dreams, max_steps, seed=0)
        real = evaluate.evaluate(TAKE_COVER, ConstantPolicy(action), real_episodes, seed=seed, progress=False,
                                 max_steps=real_cap(max_steps))
        rows.append({"policy": name, "dream_mean": float(lived.mean()), "dream_std": float(lived.std()),
                     "real_mean": real.mean, "real_std": real.std})
    return rows


def fixed_policy_rounds(out: str | Path, tau: float = 1.15, dreams: int = 32, real_episodes: int = 10,
                        start_latents: int = 64) -> list[dict]:
    """fixed_policy_survival for a finished run's first M and the M of each of its rounds of iterative training
    (dreams from the first `start_latents` real first frames of its random rollouts): did a round take away the
    walls the dream made safe? Dreams and real games are cut at the run's max_steps."""
    p = _paths(Path(out))
    results = json.loads(p["results"].read_text())
    max_steps = _run_config(results).max_steps
    starts = agent.start_latents(latents.load_encoded(p["encoded"]))[:start_latents]
    rounds = _round_numbers(results)
    return [{"round": r, "tau": tau, "rows": fixed_policy_survival(mdnrnn.load_mdnrnn(mdnrnn_path(out, r)), starts,
                                                                   tau, dreams, real_episodes, max_steps)}
            for r in rounds]
