"""The CarRacing experiment: the whole World Models recipe from nothing, every stage timed and resumable.

    collect real rollouts (and a few held-out ones)
    -> train V: the paper's VAE (z = 32), small ones for the latent-size comparison, a beta sweep
    -> score every V on the held-out frames             (notebook 01's table, ship/vae_eval.jsonl)
    -> encode every episode with the paper's V -> train M (MDN-RNN with reward and done heads)
    -> evolve C with CMA-ES in M's dream -> score it in the real game
    -> the temperature sweep (notebook 03 and 06)
    -> rounds of the paper's iterative training (recipe.one_round): drive the last C (plus noise) for new real
       episodes, train M on all the data, evolve a new C in the new dream, score it in the real game

Every stage calls the package's functions directly and is skipped once it has finished (runner.Run; the ones
that train also resume from their own checkpoints), so running again after an interruption continues where
it stopped:

    python -m wmcourse pipeline carracing --runs runs/CarRacing-v3

`paths` names every file a stage writes in the run folder; the single-stage commands (`train-vae`, `encode`,
`train-mdnrnn`, `evolve`, `eval-agent`, `tau-sweep`) take them, and this config's settings, as their defaults,
so they chain without flags. The report (report.json and report.md in the run folder) lists each stage's wall
time and the real scores. `ship_models` and `ship_controllers` copy the results into data/ and record them in
the manifest.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import artefacts
from ..checkpoint import atomic_write_text, count_parameters
from ..real import rollouts
from ..shipped import catalogue as shipped
from ..worldmodels import agent, controller, dream, evolve, latents, mdnrnn, probes, vae
from ..worldmodels import train_mdnrnn as mdnrnn_training
from ..worldmodels import train_vae as vae_training
from . import recipe, tau_sweep
from .runner import Run, Stage, section

ENV_ID = "CarRacing-v3"
RUNS = "runs/CarRacing-v3"
COMMAND = "python -m wmcourse pipeline carracing --runs runs/CarRacing-v3"
# the commands recorded in data/manifest.json for the shipped files (scripts/ wrap this module)
TRAIN_COMMAND = "bash scripts/train_carracing_models.sh"
EVOLVE_COMMAND = "bash scripts/evolve_carracing_controller.sh"


@dataclass(frozen=True)
class SweepSettings:
    taus: tuple[float, ...] = (0.5, 1.0, 1.3)  # (empty: no sweep)
    search: recipe.Search = section(recipe.Search(population=32, rollouts=8, generations=15))
    real_episodes: int = 6


@dataclass(frozen=True)
class CarRacingRound(recipe.RoundSettings):
    search: recipe.Search = section(recipe.Search(population=64, rollouts=8, generations=20))
    eval_episodes: int = 10             # the round's own quick real score (quick_roundN.json)


@dataclass(frozen=True)
class CarRacingConfig:
    """The settings data/ was made with, sized for a 2-core CPU; the paper's values are in the comments."""

    episodes: int = 64                  # real rollouts for V and M (paper: 10,000 random ones)
    episodes_per_shard: int = 16
    num_envs: int = 2                   # environment copies stepped together (collecting and scoring)
    policy: str = "mix"                 # pilot and walk shards alternate (see wmcourse.real.rollouts)
    max_steps: int | None = None        # cut every real episode (collected or scored) here (quick tests; None: 1,000)
    heldout_episodes: int = 4           # held-out rollouts (seed + 1) that score every V
    vae_epochs: int = 3                 # the paper's V (z = 32) (paper: 10 epochs on 10,000 rollouts)
    small_zs: tuple[int, ...] = (4, 8, 16, 32)  # half-width Vs for the latent-size comparison (empty: none)
    small_vae_epochs: int = 2
    betas: tuple[float, ...] = (0.25, 1.0, 4.0)  # half-width Vs without free bits, one per beta (empty: none)
    beta_vae_epochs: int = 1
    mdnrnn_epochs: int = 100            # paper: 20 epochs of 10,000 episodes; here about as many optimizer steps
    mdnrnn_seq_len: int = 200           # paper: whole 1,000-step episodes; with 64 episodes shorter windows
    mdnrnn_batch: int = 32              # paper: 100; smaller batches give enough optimizer steps per epoch
    # CMA-ES in the dream (paper: 1,800 generations of 64 candidates x 16 rollouts, in the real game)
    search: recipe.Search = section(recipe.Search(population=64, rollouts=16, generations=27))
    tau: float = 1.0
    dream_steps: int = 1000             # a dream's length (CarRacing's own limit)
    eval_episodes: int = 20             # real episodes that score each controller (paper: 100)
    eval_seed: int = 1000               # real track seeds, kept apart from the training data's
    sweep: SweepSettings = section(SweepSettings(), "sweep_")  # the temperature sweep
    rounds: int = 2                     # rounds of iterative training after the first controller (0: none)
    # each round: real episodes driven by the last controller, the noise on its actions, more epochs of M on
    # all the data, CMA-ES in the new dream
    round: CarRacingRound = section(CarRacingRound(episodes=32, noise=0.1, epochs=30), "round_")
    seed: int = 0


OVERLAYS = {  # named changes to the defaults (runner.overlay): "fast" is every stage, shrunk to seconds
    "fast": {"episodes": 2, "episodes_per_shard": 2, "max_steps": 30, "heldout_episodes": 1, "vae_epochs": 1,
             "small_zs": (4,), "small_vae_epochs": 1, "betas": (1.0,), "beta_vae_epochs": 1, "mdnrnn_epochs": 1,
             "generations": 2, "population": 4, "rollouts": 2, "dream_steps": 30, "eval_episodes": 1,
             "sweep_taus": (1.0,), "sweep_generations": 1, "sweep_population": 4, "sweep_rollouts": 2,
             "sweep_real_episodes": 1, "rounds": 1, "round_episodes": 2, "round_epochs": 1, "round_generations": 1,
             "round_population": 4, "round_rollouts": 2, "round_eval_episodes": 1},
}

STAGES = ("collect", "collect-heldout", "train-vae", "train-small-vaes", "train-beta-vaes", "eval-vaes", "encode",
          "train-mdnrnn", "evolve", "eval-agent", "tau-sweep")  # then round-1, round-2, ...


def stage_names(config: CarRacingConfig = CarRacingConfig()) -> list[str]:
    return [*STAGES, *(f"round-{r}" for r in range(1, config.rounds + 1))]


def round_name(round_: int) -> str:
    """The suffix of a round's files in the run folder: "" for the first M and C, "_round1", "_round2"..."""
    return "" if round_ == 0 else f"_round{round_}"


def paths(runs: str | Path = RUNS, round_: int = 0) -> dict[str, Path]:
    """Where each stage writes, inside the run folder: the one declaration of these paths (the CLI's defaults).
    With round_, M, C and the new episodes of that round of iterative training."""
    runs, r = Path(runs), round_name(round_)
    return {"rollouts": runs / f"rollouts{r}", "heldout": runs / "heldout", "vae": runs / "vae_z32.pt",
            "ship": runs / "ship", "vae_eval": runs / "ship" / "vae_eval.jsonl", "encoded": runs / f"encoded{r}",
            "all_encoded": runs / (f"encoded_all{r}" if round_ else "encoded"),
            "heldout_encoded": runs / "heldout_encoded", "mdnrnn": runs / f"mdnrnn{r}.pt",
            "controller": runs / f"controller{r}.npz", "controller_eval": runs / f"controller{r}_eval.json",
            "quick": runs / f"quick{r}.json", "tau_sweep": runs / "tau_sweep.json", "report": runs / "report.json",
            "real_es": runs / "controller_real.npz"}


def run(runs: str | Path = RUNS, config: CarRacingConfig = CarRacingConfig(), stop_after: str | None = None) -> dict:
    """Run the stages in order (up to `stop_after`), skipping the finished ones; write and return the report."""
    runs = Path(runs)
    runs.mkdir(parents=True, exist_ok=True)
    rename_old_round_files(runs)
    p, c = paths(runs), config
    work = {
        "collect": lambda: _collect(p["rollouts"], c.episodes, c.episodes_per_shard, c.num_envs, c.seed, c),
        "collect-heldout": lambda: _collect(p["heldout"], c.heldout_episodes, c.heldout_episodes,
                                            min(4, c.heldout_episodes), c.seed + 1, c),
        "train-vae": lambda: _train_vae(p["rollouts"], p["vae"], vae.VAEConfig(z_size=32), c.vae_epochs,
                                        c.seed, ship=p["ship"] / "vae_carracing_z32.pt"),
        "train-small-vaes": lambda: [_train_vae(p["rollouts"], runs / f"vae_small_z{z}.pt",
                                                vae.VAEConfig(z_size=z, width=0.5), c.small_vae_epochs, c.seed,
                                                ship=p["ship"] / f"vae_carracing_small_z{z}.pt") for z in c.small_zs],
        "train-beta-vaes": lambda: [_train_vae(p["rollouts"], runs / f"vae_beta{beta:g}.pt",
                                               vae.VAEConfig(z_size=32, width=0.5, beta=beta, kl_tolerance=0.0),
                                               c.beta_vae_epochs, c.seed) for beta in c.betas],
        "eval-vaes": lambda: _eval_vaes(runs, p),
        "encode": lambda: [latents.encode_rollouts(vae.load_vae(p["vae"], device="auto"), p[src], p[dst])
                           for src, dst in (("rollouts", "encoded"), ("heldout", "heldout_encoded"))],
        "train-mdnrnn": lambda: _train_mdnrnn(p, c),
        "evolve": lambda: _evolve(p, c),
        "eval-agent": lambda: {"result": eval_agent(p["controller"], p["vae"], p["mdnrnn"], c.eval_episodes,
                                                    c.eval_seed, c.num_envs, p["controller_eval"],
                                                    max_steps=c.max_steps)},
        "tau-sweep": lambda: _tau_sweep(p, c),
        **{f"round-{r}": (lambda r=r: {"result": run_round(runs, r, c)}) for r in range(1, c.rounds + 1)},
    }
    stages = [Stage(name, work[name]) for name in stage_names(c)]
    report = Run(p["report"], c, CarRacingConfig(), stages)
    report.state["env"] = ENV_ID
    report.run(stages, stop_after)
    write_report(runs, report.state)
    return report.state


def rename_old_round_files(runs: Path) -> None:
    """A run folder written before the rounds were called rounds: its files of round N (controller_iterN.npz,
    mdnrnn_iterN.pt, encoded_all_iterN/encoded_iterN_*.npz, iteration_iterN.json...) get their round names."""
    for path in sorted(runs.rglob("*_iter*"), key=lambda p: len(p.parts), reverse=True):  # files before folders
        path.rename(path.with_name(path.name.replace("iteration_iter", "quick_round").replace("_iter", "_round")))


def write_report(runs: Path, report: dict) -> None:
    atomic_write_text(runs / "report.json", json.dumps(report, indent=1) + "\n")
    lines = ["# World Models pipeline report: CarRacing", "", "| stage | wall time |", "|---|---|"]
    stages = report["stages"]
    lines += [f"| {name} | {s['seconds'] / 60:.1f} min |" for name, s in stages.items()]
    lines += ["", f"Total: {sum(s['seconds'] for s in stages.values()) / 60:.1f} min."]
    for name, s in stages.items():
        if "result" in s:
            r = s["result"]
            lines.append(f"{name}: real score of the dream-trained controller {r['mean']:.1f} +- {r['std']:.1f} "
                         f"over {r['episodes']} episodes.")
    atomic_write_text(runs / "report.md", "\n".join(lines) + "\n")


# --- the stages ------------------------------------------------------------------------------------------

def _collect(out: Path, episodes: int, per_shard: int, num_envs: int, seed: int, c: CarRacingConfig,
             policy: str | object | None = None) -> None:
    rollouts.collect(ENV_ID, episodes, out, num_envs=num_envs, policy=policy or c.policy, seed=seed,
                     episodes_per_shard=per_shard, max_steps=c.max_steps)
    returns, lengths = rollouts.episode_returns(out)
    print(f"{len(returns)} episodes in {out}: {lengths.sum():,} steps, return {returns.mean():.1f} +- "
          f"{returns.std():.1f}")


def _train_vae(frames: Path, out: Path, config: vae.VAEConfig, epochs: int, seed: int,
               ship: Path | None = None) -> None:
    """Train (or resume) one V; with `ship`, also write a float16 copy of its weights there (for data/)."""
    history = vae_training.train_vae(frames, config, out, epochs=epochs, seed=seed, device="auto")
    print(f"saved {out}: loss {history['loss'][-1]:.1f} after {history['step'][-1]:,} steps")
    if ship is not None:
        ship.parent.mkdir(parents=True, exist_ok=True)
        vae.save_vae(vae.load_vae(out), ship, half=True)


def eval_vae(path: str | Path, frames_folder: str | Path, max_frames: int | None = None, device: str = "auto") -> dict:
    """Held-out reconstruction error (MSE per pixel value) and KL (nats per frame) of the V at `path`."""
    model = vae.load_vae(path, device=device)
    frames = rollouts.load_frames(frames_folder, max_frames=max_frames)
    return {"vae": str(path), "frames": len(frames), "z_size": model.config.z_size, "beta": model.config.beta,
            "parameters": count_parameters(model), "mse_per_pixel": probes.evaluate_reconstruction(model, frames),
            "kl_nats_per_frame": probes.mean_kl(model, frames)}


def _eval_vaes(runs: Path, p: dict[str, Path]) -> None:
    models = sorted(p["ship"].glob("vae_carracing_*.pt")) + sorted(runs.glob("vae_beta*.pt"))
    lines = [json.dumps(eval_vae(f, p["heldout"])) for f in models]
    atomic_write_text(p["vae_eval"], "".join(line + "\n" for line in lines))


def mdnrnn_config(c: CarRacingConfig = CarRacingConfig(), z_size: int = 32, action_size: int = 3
                  ) -> mdnrnn.MDNRNNConfig:
    """CarRacing's M: the paper's, with reward and done heads and the course's windows and batches."""
    return mdnrnn.MDNRNNConfig(z_size=z_size, action_size=action_size, batch_size=c.mdnrnn_batch,
                               seq_len=c.mdnrnn_seq_len, predict_reward=True, predict_done=True)


def _train_mdnrnn(p: dict[str, Path], c: CarRacingConfig) -> None:
    data = latents.load_encoded(p["encoded"])
    mdnrnn_training.train_mdnrnn(data, mdnrnn_config(c, data.z_size, data.action_size), p["mdnrnn"],
                                 epochs=c.mdnrnn_epochs, seed=c.seed, device="auto")


def _evolve(p: dict[str, Path], c: CarRacingConfig) -> None:
    evolve_controller(p["mdnrnn"], p["encoded"], p["controller"], c.tau, c.dream_steps, c.search.settings(c.seed))


def _model(mdnrnn_path: str | Path, encoded: str | Path, vae_path: str | Path | None = None) -> recipe.MDNRNNModel:
    m = mdnrnn.load_mdnrnn(mdnrnn_path)  # first: a missing M is the first thing to say
    starts = agent.start_latents(latents.load_encoded(encoded))
    return recipe.MDNRNNModel(ENV_ID, m, starts, vae.load_vae(vae_path) if vae_path else None)


def evolve_controller(mdnrnn_path: str | Path, encoded: str | Path, out: str | Path, tau: float, max_steps: int,
                      settings: evolve.EvolveConfig, vae_path: str | Path | None = None,
                      real: recipe.Scoring | None = None, start: np.ndarray | None = None,
                      **details) -> recipe.Scored:
    """C evolved with CMA-ES in the dream of the M at `mdnrnn_path` (at temperature tau, dreams of at most
    max_steps), started from the real frames of `encoded`, the search from zeros or from the parameters `start`;
    resumable (out + ".es.pkl"), saved at `out`.
    With `real` (and the V at vae_path), also scored in reality (recipe.evolve_and_score)."""
    model = _model(mdnrnn_path, encoded, vae_path)
    print(f"evolving the controller in the dream of {mdnrnn_path} (tau {tau}), {len(model.starts)} real start frames")
    scored = recipe.evolve_and_score(model, tau, max_steps, settings, real or recipe.Scoring(0, 0, 0, 0), save=out,
                                     mdnrnn=str(mdnrnn_path), start=start, **details)
    last = scored.history[-1]
    print(f"saved {out}: generation {last['generation']}, dream score best {last['best']:.1f}, mean {last['mean']:.1f}")
    return scored


def evolve_in_ensemble(mdnrnn_paths: list[str | Path], encoded: str | Path, out: str | Path, tau: float,
                       max_steps: int, settings: evolve.EvolveConfig, start: np.ndarray | None = None,
                       means_dir: str | Path | None = None, **details) -> evolve.EvolveResult:
    """C evolved by CMA-ES in the dreams of several Ms at once (evolve.evolve_in_dreams: each candidate scored by
    its worst member), started from the real frames of `encoded`; member k dreams from seed settings.seed + k.
    Resumable (out + ".es.pkl"; more generations extend the run); saved at `out` with the members' paths; with
    `means_dir`, the search mean after each generation is kept there. In the real game C reads the memory of the
    first member, the one to load it with."""
    members = [_model(path, encoded) for path in mdnrnn_paths]
    dreams = [m.dream(tau, max_steps, settings.seed + k) for k, m in enumerate(members)]
    config = dreams[0][1]
    print(f"evolving the controller in the dreams of {len(members)} Ms (tau {tau}), each candidate scored by its "
          f"worst member")
    result = evolve.evolve_in_dreams([world for world, _ in dreams], config, settings, checkpoint=f"{out}.es.pkl",
                                     start=start, means_dir=means_dir)
    controller.save_controller(out, np.asarray(result.best_params, np.float32), config, history=result.history,
                               tau=tau, mdnrnn=str(mdnrnn_paths[0]), members=[str(p) for p in mdnrnn_paths],
                               **details)
    last = result.history[-1]
    print(f"saved {out}: generation {last['generation']}, worst-member dream score best {last['best']:.1f}, "
          f"mean {last['mean']:.1f}")
    return result


def eval_agent(controller_path: str | Path, vae_path: str | Path, mdnrnn_path: str | Path, episodes: int,
               seed: int = 1000, num_envs: int = 2, out: str | Path | None = None, env_id: str = ENV_ID,
               max_steps: int | None = None) -> dict:
    """The controller with its V and M in the real game: {"controller", "mean", "std", "episodes", "returns",
    "real_steps", "seconds"} (written to `out` as JSON when given); real_steps and seconds go in a run ledger.
    A V, M and C that were not made together are refused first (agent.load_agent). max_steps cuts each episode
    there (quick tests; None: the game's 1,000 steps)."""
    from ..real import evaluate

    wm = agent.load_agent(controller_path, vae_path, mdnrnn_path)
    result = evaluate.evaluate(env_id, wm, episodes, seed=seed, num_envs=num_envs, max_steps=max_steps)
    print(f"{controller_path} in real {env_id}: {result}")
    scores = {"controller": str(controller_path), "mean": result.mean, "std": result.std,
              "episodes": len(result.returns), "returns": result.returns.round(2).tolist(),
              "real_steps": result.steps, "seconds": round(result.seconds, 1)}
    if out is not None:
        atomic_write_text(out, json.dumps(scores) + "\n")
    return scores


def tau_sweep_config(c: CarRacingConfig = CarRacingConfig()) -> tau_sweep.TauSweepConfig:
    """The tau sweep's settings inside this experiment (the `tau-sweep` command's defaults)."""
    return tau_sweep.TauSweepConfig(taus=tuple(c.sweep.taus), search=c.sweep.search,
                                    real_episodes=c.sweep.real_episodes, max_steps=c.dream_steps,
                                    real_max_steps=c.max_steps,
                                    num_envs=c.num_envs, seed=c.seed, eval_seed=c.eval_seed)


def _tau_sweep(p: dict[str, Path], c: CarRacingConfig) -> None:
    if c.sweep.taus:
        tau_sweep.run_tau_sweep(p["vae"], p["mdnrnn"], p["encoded"], p["tau_sweep"], tau_sweep_config(c))


def run_round(runs: str | Path, round_: int, config: CarRacingConfig = CarRacingConfig()) -> dict:
    """Round `round_` of the paper's iterative training in the run folder (recipe.one_round, each step skipped or
    resumed from what it wrote): the new controller's real evaluation (controller_roundN_eval.json)."""
    return recipe.one_round(_Rounds(Path(runs), config), round_)


@dataclass
class _Rounds:
    """CarRacing's steps of a round of the paper's iterative training (recipe.RoundTask), each skipped or resumed
    from what it wrote: collect real episodes with the last controller plus exploration noise, encode them, train
    M on old and new data together (continuing the last M), evolve a new controller in the new dream, and score
    it in reality: a quick score (quick_roundN.json) and the controller's real evaluation
    (controller_roundN_eval.json, the round's result)."""

    runs: Path
    c: CarRacingConfig

    def collect(self, round_: int) -> None:
        torch.set_num_threads(1)
        before, now = paths(self.runs, round_ - 1), paths(self.runs, round_)
        policy = agent.NoisyPolicy(agent.load_agent(before["controller"], now["vae"], before["mdnrnn"]),
                                   np.array([-1, 0, 0]), np.array([1, 1, 1]), self.c.round.noise, seed=round_)
        _collect(now["rollouts"], self.c.round.episodes, self.c.episodes_per_shard, self.c.num_envs, 100 * round_,
                 self.c, policy)

    def encode(self, round_: int) -> None:
        now = paths(self.runs, round_)
        latents.encode_rollouts(vae.load_vae(now["vae"]), now["rollouts"], now["encoded"])
        now["all_encoded"].mkdir(exist_ok=True)
        for folder in [paths(self.runs, r)["encoded"] for r in range(round_ + 1)]:
            for f in sorted(folder.glob("*.npz")):
                target = now["all_encoded"] / f"{folder.name}_{f.name}"
                if not target.exists():
                    shutil.copy(f, target)

    def retrain(self, round_: int) -> None:
        before, now = paths(self.runs, round_ - 1), paths(self.runs, round_)
        m_path = now["mdnrnn"]
        if not m_path.exists():  # continue from the previous M's checkpoint (weights and optimizer) on all the data
            shutil.copy(before["mdnrnn"], m_path)
        done_epochs = len(torch.load(m_path, map_location="cpu", weights_only=True)["history"])
        target_epochs = done_epochs if m_path.with_suffix(".done").exists() else done_epochs + self.c.round.epochs
        config = mdnrnn.load_mdnrnn(before["mdnrnn"]).config
        mdnrnn_training.train_mdnrnn(latents.load_encoded(now["all_encoded"]), config, m_path, epochs=target_epochs)
        m_path.with_suffix(".done").touch()

    def evolve(self, round_: int) -> dict:
        now, c = paths(self.runs, round_), self.c
        quick = recipe.Scoring(0, 0, c.round.eval_episodes, c.eval_seed, c.num_envs, c.max_steps)
        scored = evolve_controller(now["mdnrnn"], now["all_encoded"], now["controller"], c.tau, c.dream_steps,
                                   c.round.search.settings(round_), now["vae"], quick, round=round_)
        report = {"round": round_, "new_episodes": c.round.episodes, "noise": c.round.noise,
                  "real_steps_collected": rollouts.count_frames(now["rollouts"]),
                  "dream_mean_last_generation": scored.history[-1]["mean"], "real_mean": scored.real.mean,
                  "real_std": scored.real.std, "real_episodes": c.round.eval_episodes,
                  "real_returns": scored.real.returns.round(2).tolist()}
        atomic_write_text(now["quick"], json.dumps(report, indent=1) + "\n")
        print(json.dumps(report))
        return eval_agent(now["controller"], now["vae"], now["mdnrnn"], c.eval_episodes, c.eval_seed, c.num_envs,
                          now["controller_eval"])


# --- shipping the results into data/ ---------------------------------------------------------------------

def ship_models(runs: str | Path = RUNS) -> None:
    """Copy the Vs (float16), their held-out scores, the held-out rollouts and the M into data/ and record them
    in the manifest, with the command that made each one and the figures measured on held-out episodes."""
    runs, data = Path(runs), artefacts.data_dir()
    collection = json.loads((runs / "rollouts" / "collection.json").read_text())
    training_data = {"rollouts": f"{len(rollouts.list_shards(runs / 'rollouts'))} shards, "
                                 f"{rollouts.count_frames(runs / 'rollouts'):,} frames", **collection}
    results = [json.loads(line) for line in (runs / "ship" / "vae_eval.jsonl").read_text().splitlines() if line]
    by_name = {Path(r["vae"]).name: r for r in results}

    for ship in sorted((runs / "ship").glob("vae_carracing_*.pt")):
        target = data / ship.name
        shutil.copy(ship, target)
        r = by_name[ship.name]
        width = "" if "small" not in ship.name else " --width 0.5"
        command = f"{TRAIN_COMMAND}  (step: python -m wmcourse train-vae --z {r['z_size']}{width} ...)"
        artefacts.record(target, command, seed=0, figures={k: r[k] for k in ("mse_per_pixel", "kl_nats_per_frame",
                         "parameters", "frames")}, measured_on="data/carracing_heldout (4 held-out episodes)",
                         training_data=training_data)

    table = data / "vae_results.json"
    table.write_text(json.dumps(results, indent=1) + "\n")
    artefacts.record(table, f"{TRAIN_COMMAND}  (step: python -m wmcourse eval-vae ...)", seed=0,
                     figures={"models": len(results)}, measured_on="data/carracing_heldout")

    held = data / "carracing_heldout"
    held.mkdir(exist_ok=True)
    shutil.copy(runs / "heldout" / "collection.json", held / "collection.json")
    for shard in rollouts.list_shards(runs / "heldout"):
        shutil.copy(shard, held / shard.name)
        artefacts.record(held / shard.name, "python -m wmcourse collect --env CarRacing-v3 --episodes 4 "
                         "--episodes-per-shard 4 --num-envs 4 --policy mix --seed 1 --out data/carracing_heldout",
                         seed=1, figures={"frames": rollouts.count_frames(held)})

    encoded = sorted((runs / "heldout_encoded").glob("*.npz"))
    shutil.copy(encoded[0], data / "carracing_heldout_encoded.npz")
    artefacts.record(data / "carracing_heldout_encoded.npz",
                     "python -m wmcourse encode --vae data/vae_carracing_z32.pt "
                     "--rollouts data/carracing_heldout --out runs/heldout_encoded", seed=None,
                     figures={"episodes": len(latents.load_encoded(data / "carracing_heldout_encoded.npz"))})

    checkpoint = torch.load(runs / "mdnrnn.pt", map_location="cpu", weights_only=True)
    last = checkpoint["history"][-1]
    target = mdnrnn.save_mdnrnn(mdnrnn.load_mdnrnn(runs / "mdnrnn.pt"), data / "mdnrnn_carracing.pt",
                                history=checkpoint["history"])
    artefacts.record(target, f"{TRAIN_COMMAND}  (step: python -m wmcourse train-mdnrnn --epochs 100 --seq-len 200 "
                     "--batch-size 32 --predict-reward --predict-done)", seed=0,
                     figures={k: round(float(v), 4) for k, v in last.items()}, training_data=training_data)
    print("\n".join(artefacts.verify()) or f"data/ recorded: {len(artefacts.load_manifest())} artefacts")


REFERENCE_SEED, REFERENCE_STEPS = 1000, 300


def ship_controller(runs: Path, round_: int) -> None:
    """One controller, its real evaluation, and two references a test replays with the shipped files: one real
    drive and a few seeded dreams."""
    data, p = artefacts.data_dir(), paths(runs, round_)
    step = "python -m wmcourse evolve" if round_ == 0 else f"python scripts/carracing_round.py {runs} {round_}"
    if round_:
        m_target = mdnrnn.save_mdnrnn(mdnrnn.load_mdnrnn(p["mdnrnn"]), data / shipped.mdnrnn_name(round_))
        report = json.loads(p["quick"].read_text())
        artefacts.record(m_target, f"{EVOLVE_COMMAND}  (step: {step})", seed=round_,
                         figures={k: report[k] for k in ("new_episodes", "noise", "real_steps_collected")})
    params, config, details = controller.load_controller(p["controller"])
    real = json.loads(p["controller_eval"].read_text())
    last = details["history"][-1]
    target = data / shipped.controller_name(round_)
    shutil.copy(p["controller"], target)
    artefacts.record(target, f"{EVOLVE_COMMAND}  (step: {step})", seed=round_,
                     figures={"generations": last["generation"], "dream_mean_last_generation": round(last["mean"], 1),
                              "dream_best_last_generation": round(last["best"], 1),
                              "real_mean": round(real["mean"], 1), "real_std": round(real["std"], 1),
                              "real_episodes": real["episodes"]},
                     measured_on="real CarRacing-v3, track seeds 1000 and up (python -m wmcourse eval-agent)")
    m = shipped.load_shipped_mdnrnn(round_=round_)
    wm = agent.WorldModelAgent(shipped.load_shipped_vae(), m, params, config)
    real["reference_drive"] = {"seed": REFERENCE_SEED, "steps": REFERENCE_STEPS,
                               "return": float(agent.drive_real(wm, REFERENCE_SEED, REFERENCE_STEPS)["rewards"].sum())}
    starts = agent.start_latents(shipped.load_shipped_heldout_encoded())
    real["reference_dreams"] = {"dreams": 8, "steps": REFERENCE_STEPS, "tau": details["tau"], "seed": 1, "returns": [
        round(float(r), 3) for r in dream.dream_score(m, starts, params, config, details["tau"], 8,
                                                      REFERENCE_STEPS, seed=1)]}
    evaluation = data / shipped.controller_name(round_, "_eval.json")
    evaluation.write_text(json.dumps(real, indent=1) + "\n")
    artefacts.record(evaluation, f"{EVOLVE_COMMAND}  "
                                 f"(step: python -m wmcourse eval-agent --episodes {real['episodes']})",
                     seed=1000, figures={"mean": round(real["mean"], 1), "std": round(real["std"], 1)})


def ship_controllers(runs: str | Path = RUNS) -> None:
    """Copy the controllers (the first, and each round's with its M), their real evaluations and the tau sweep
    into data/, and record them in the manifest with the command and the measured figures."""
    runs = Path(runs)
    rename_old_round_files(runs)
    round_ = 0
    while paths(runs, round_)["controller_eval"].exists():
        ship_controller(runs, round_)
        round_ += 1
    sweep = runs / "tau_sweep.json"
    if sweep.exists():
        shipped = artefacts.data_dir() / tau_sweep.TAU_SWEEP_NAME
        shutil.copy(sweep, shipped)
        rows = json.loads(sweep.read_text())["rows"]
        artefacts.record(shipped, f"{EVOLVE_COMMAND}  (step: python -m wmcourse tau-sweep ...)", seed=0,
                         figures={f"tau {r['tau']:g}": f"dream {r['dream_mean']:.1f}, real {r['real_mean']:.1f}"
                                  for r in rows})
    print("\n".join(artefacts.verify()) or f"data/ recorded: {len(artefacts.load_manifest())} artefacts")
