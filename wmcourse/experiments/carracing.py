"""The CarRacing experiment: the whole World Models recipe from nothing, every stage timed and resumable.

    collect real rollouts (and a few held-out ones)
    -> train V: the paper's VAE (z = 32), small ones for the latent-size comparison, a beta sweep
    -> score every V on the held-out frames             (notebook 01's table, ship/vae_eval.jsonl)
    -> encode every episode with the paper's V -> train M (MDN-RNN with reward and done heads)
    -> evolve C with CMA-ES in M's dream -> score it in the real game
    -> the temperature sweep (notebook 03 and 06)
    -> rounds of the paper's iterative training: drive the last C (plus noise) for new real episodes, train M
       on all the data, evolve a new C in the new dream, score it in the real game

Every stage calls the package's functions directly and is skipped once it has finished (the ones that train
also resume from their own checkpoints), so running again after an interruption continues where it stopped:

    python -m wmcourse pipeline carracing --runs runs/CarRacing-v3

The report (report.json and report.md in the run folder) lists each stage's wall time and the real scores.
`ship_models` and `ship_controllers` copy the results into data/ and record them in the manifest.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from .. import artefacts
from ..checkpoint import atomic_write_text, check_same_config, count_parameters
from ..real import evaluate, rollouts
from ..shipped import catalogue as shipped
from ..worldmodels import agent, controller, dream, evolve, latents, mdnrnn, probes, vae
from ..worldmodels import train_mdnrnn as mdnrnn_training
from ..worldmodels import train_vae as vae_training
from . import tau_sweep

ENV_ID = "CarRacing-v3"
RUNS = "runs/CarRacing-v3"
COMMAND = "python -m wmcourse pipeline carracing --runs runs/CarRacing-v3"
# the commands recorded in data/manifest.json for the shipped files (scripts/ wrap this module)
TRAIN_COMMAND = "bash scripts/train_carracing_models.sh"
EVOLVE_COMMAND = "bash scripts/evolve_carracing_controller.sh"


@dataclass(frozen=True)
class CarRacingConfig:
    """The settings data/ was made with, sized for a 2-core CPU; the paper's values are in the comments."""

    episodes: int = 64                  # real rollouts for V and M (paper: 10,000 random ones)
    episodes_per_shard: int = 16
    num_envs: int = 2                   # environment copies stepped together while collecting
    policy: str = "mix"                 # pilot and walk shards alternate (see wmcourse.real.rollouts)
    max_steps: int | None = None        # cut collected episodes at this length (quick tests; None: the game's 1,000)
    heldout_episodes: int = 4           # held-out rollouts (seed + 1) that score every V
    vae_epochs: int = 3                 # the paper's V (z = 32) (paper: 10 epochs on 10,000 rollouts)
    small_zs: tuple[int, ...] = (4, 8, 16, 32)  # half-width Vs for the latent-size comparison (empty: none)
    small_vae_epochs: int = 2
    betas: tuple[float, ...] = (0.25, 1.0, 4.0)  # half-width Vs without free bits, one per beta (empty: none)
    beta_vae_epochs: int = 1
    mdnrnn_epochs: int = 100            # paper: 20 epochs of 10,000 episodes; here about as many optimizer steps
    mdnrnn_seq_len: int = 200           # paper: whole 1,000-step episodes; with 64 episodes shorter windows
    mdnrnn_batch: int = 32              # paper: 100; smaller batches give enough optimizer steps per epoch
    generations: int = 27               # CMA-ES in the dream (paper: 1,800 generations in the real game)
    population: int = 64                # paper: 64
    rollouts: int = 16                  # dreams per candidate (paper: 16 real rollouts)
    tau: float = 1.0
    dream_steps: int = 1000             # a dream's length (CarRacing's own limit)
    eval_episodes: int = 20             # real episodes that score each controller (paper: 100)
    eval_seed: int = 1000               # real track seeds, kept apart from the training data's
    sweep_taus: tuple[float, ...] = (0.5, 1.0, 1.3)  # the temperature sweep (empty: none)
    sweep_generations: int = 15
    sweep_population: int = 32
    sweep_rollouts: int = 8
    sweep_real_episodes: int = 6
    rounds: int = 2                     # rounds of iterative training after the first controller (0: none)
    round_episodes: int = 32            # real episodes driven by the last controller each round
    round_noise: float = 0.1            # std of the Gaussian noise on its actions
    round_epochs: int = 30              # more epochs of M on all the data each round
    round_generations: int = 20
    round_population: int = 64
    round_rollouts: int = 8
    round_eval_episodes: int = 10       # the round's own quick real score (iteration_iterN.json)
    seed: int = 0


STAGES = ("collect", "collect-heldout", "train-vae", "train-small-vaes", "train-beta-vaes", "eval-vaes", "encode",
          "train-mdnrnn", "evolve", "eval-agent", "tau-sweep")  # then round-1, round-2, ...


def stage_names(config: CarRacingConfig = CarRacingConfig()) -> list[str]:
    return [*STAGES, *(f"round-{r}" for r in range(1, config.rounds + 1))]


def paths(runs: str | Path) -> dict[str, Path]:
    """Where each stage writes, inside the run folder (the names the shipped files were made under)."""
    runs = Path(runs)
    return {"rollouts": runs / "rollouts", "heldout": runs / "heldout", "vae": runs / "vae_z32.pt",
            "ship": runs / "ship", "vae_eval": runs / "ship" / "vae_eval.jsonl", "encoded": runs / "encoded",
            "heldout_encoded": runs / "heldout_encoded", "mdnrnn": runs / "mdnrnn.pt",
            "controller": runs / "controller.npz", "controller_eval": runs / "controller_eval.json",
            "tau_sweep": runs / "tau_sweep.json", "report": runs / "report.json"}


def run(runs: str | Path = RUNS, config: CarRacingConfig = CarRacingConfig(), stop_after: str | None = None) -> dict:
    """Run the stages in order (up to `stop_after`), skipping the finished ones; write and return the report."""
    runs = Path(runs)
    runs.mkdir(parents=True, exist_ok=True)
    p, c = paths(runs), config
    report = _load_report(p["report"], c)
    work: dict[str, Callable[[], dict | None]] = {
        "collect": lambda: _collect(p["rollouts"], c.episodes, c.episodes_per_shard, c.num_envs, c.seed, c),
        "collect-heldout": lambda: _collect(p["heldout"], c.heldout_episodes, c.heldout_episodes,
                                            min(4, c.heldout_episodes), c.seed + 1, c),
        "train-vae": lambda: _train_vae(p["rollouts"], runs / "vae_z32.pt", vae.VAEConfig(z_size=32), c.vae_epochs,
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
        "evolve": lambda: evolve_controller(p["mdnrnn"], p["encoded"], p["controller"], c.tau, c.dream_steps,
                                  evolve.EvolveConfig(population=c.population, rollouts=c.rollouts,
                                                      generations=c.generations, seed=c.seed)),
        "eval-agent": lambda: {"result": eval_agent(p["controller"], p["vae"], p["mdnrnn"], c.eval_episodes,
                                                    c.eval_seed, c.num_envs, p["controller_eval"])},
        "tau-sweep": lambda: _tau_sweep(p, c),
        **{f"round-{r}": (lambda r=r: {"result": iterate(runs, r, c)}) for r in range(1, c.rounds + 1)},
    }
    for name in stage_names(c):
        done = next((s for s in report["stages"] if s["stage"] == name), None)
        if done is None:
            print(f"== {name}", flush=True)
            start = time.perf_counter()
            extra = work[name]()
            report["stages"].append({"stage": name, "seconds": round(time.perf_counter() - start, 1),
                                     **(extra if isinstance(extra, dict) else {})})
            write_report(runs, report)
        if name == stop_after:
            break
    write_report(runs, report)
    return report


def _load_report(path: Path, config: CarRacingConfig) -> dict:
    """The report so far; a run resumed with other settings stops (delete report.json to start the stages again)."""
    wanted = json.loads(json.dumps(asdict(config)))
    report = json.loads(path.read_text()) if path.exists() else {"config": wanted, "stages": []}
    check_same_config(path, report["config"], wanted)
    return {"env": ENV_ID, "config": wanted, "stages": report["stages"]}


def write_report(runs: Path, report: dict) -> None:
    atomic_write_text(runs / "report.json", json.dumps(report, indent=1) + "\n")
    lines = ["# World Models pipeline report: CarRacing", "", "| stage | wall time |", "|---|---|"]
    lines += [f"| {s['stage']} | {s['seconds'] / 60:.1f} min |" for s in report["stages"]]
    lines += ["", f"Total: {sum(s['seconds'] for s in report['stages']) / 60:.1f} min."]
    for s in report["stages"]:
        if "result" in s:
            r = s["result"]
            lines.append(f"{s['stage']}: real score of the dream-trained controller {r['mean']:.1f} +- {r['std']:.1f} "
                         f"over {r['episodes']} episodes.")
    atomic_write_text(runs / "report.md", "\n".join(lines) + "\n")


# --- the stages ------------------------------------------------------------------------------------------

def _collect(out: Path, episodes: int, per_shard: int, num_envs: int, seed: int, c: CarRacingConfig) -> None:
    rollouts.collect(ENV_ID, episodes, out, num_envs=num_envs, policy=c.policy, seed=seed,
                     episodes_per_shard=per_shard, max_steps=c.max_steps)
    returns, lengths = rollouts.episode_returns(out)
    print(f"{len(returns)} episodes in {out}: {lengths.sum():,} steps, return {returns.mean():.1f} +- {returns.std():.1f}")


def _train_vae(frames: Path, out: Path, config: vae.VAEConfig, epochs: int, seed: int, ship: Path | None = None) -> None:
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


def _train_mdnrnn(p: dict[str, Path], c: CarRacingConfig) -> None:
    data = latents.load_encoded(p["encoded"])
    config = mdnrnn.MDNRNNConfig(z_size=data.z_size, action_size=data.action_size, batch_size=c.mdnrnn_batch,
                                 seq_len=c.mdnrnn_seq_len, predict_reward=True, predict_done=True)
    mdnrnn_training.train_mdnrnn(data, config, p["mdnrnn"], epochs=c.mdnrnn_epochs, seed=c.seed, device="auto")


def evolve_controller(mdnrnn_path: str | Path, encoded: str | Path, out: str | Path, tau: float, max_steps: int,
                      settings: evolve.EvolveConfig, **details) -> tuple[evolve.EvolveResult, controller.ControllerConfig]:
    """C evolved with CMA-ES in the dream of the M at `mdnrnn_path` (at temperature tau, dreams of at most
    max_steps), started from the real frames of `encoded`; resumable (out + ".es.pkl"), saved at `out`."""
    model = mdnrnn.load_mdnrnn(mdnrnn_path)
    starts = agent.start_latents(latents.load_encoded(encoded))
    print(f"evolving the controller in the dream of {mdnrnn_path} (tau {tau}), {len(starts)} real start frames")
    world, config = dream.controller_dream(model, starts, tau, max_steps, seed=settings.seed)
    result = evolve.evolve_in_dream(world, config, settings, checkpoint=str(out) + ".es.pkl")
    controller.save_controller(out, result.best_params, config, history=result.history, tau=tau,
                               mdnrnn=str(mdnrnn_path), **details)
    last = result.history[-1]
    print(f"saved {out}: generation {last['generation']}, dream score best {last['best']:.1f}, mean {last['mean']:.1f}")
    return result, config


def eval_agent(controller_path: str | Path, vae_path: str | Path, mdnrnn_path: str | Path, episodes: int,
               seed: int = 1000, num_envs: int = 2, out: str | Path | None = None, env_id: str = ENV_ID) -> dict:
    """The controller with its V and M in the real game: {"controller", "mean", "std", "episodes", "returns",
    "real_steps", "seconds"} (written to `out` as JSON when given); real_steps and seconds go in a run ledger."""
    params, config, _ = controller.load_controller(controller_path)
    wm = agent.WorldModelAgent(vae.load_vae(vae_path), mdnrnn.load_mdnrnn(mdnrnn_path), params, config)
    result = evaluate.evaluate(env_id, wm, episodes, seed=seed, num_envs=num_envs)
    print(f"{controller_path} in real {env_id}: {result}")
    scores = {"controller": str(controller_path), "mean": result.mean, "std": result.std,
              "episodes": len(result.returns), "returns": result.returns.round(2).tolist(),
              "real_steps": result.steps, "seconds": round(result.seconds, 1)}
    if out is not None:
        atomic_write_text(out, json.dumps(scores) + "\n")
    return scores


def _tau_sweep(p: dict[str, Path], c: CarRacingConfig) -> None:
    if not c.sweep_taus:
        return
    config = tau_sweep.TauSweepConfig(taus=tuple(c.sweep_taus), generations=c.sweep_generations,
                                      population=c.sweep_population, rollouts=c.sweep_rollouts,
                                      real_episodes=c.sweep_real_episodes, max_steps=c.dream_steps,
                                      num_envs=c.num_envs, seed=c.seed)
    tau_sweep.run_tau_sweep(p["vae"], p["mdnrnn"], p["encoded"], p["tau_sweep"], config)


def iterate(runs: str | Path, round_: int, c: CarRacingConfig = CarRacingConfig()) -> dict:
    """One round of the paper's iterative training (each step skipped when its output exists): collect real
    episodes with the last controller plus exploration noise, encode them, train M on old and new data together
    (continuing the last M), evolve a new controller in the new dream, and score it in reality: a quick score
    (iteration_iterN.json) and the controller's real evaluation (controller_iterN_eval.json, returned)."""
    runs = Path(runs)
    torch.set_num_threads(1)
    previous, here = ("" if round_ == 1 else f"_iter{round_ - 1}"), f"_iter{round_}"
    v = vae.load_vae(runs / "vae_z32.pt")
    m_old = mdnrnn.load_mdnrnn(runs / f"mdnrnn{previous}.pt")
    params, config, _ = controller.load_controller(runs / f"controller{previous}.npz")

    new_rollouts = runs / f"rollouts{here}"
    policy = agent.NoisyPolicy(agent.WorldModelAgent(v, m_old, params, config), np.array([-1, 0, 0]),
                               np.array([1, 1, 1]), c.round_noise, seed=round_)
    rollouts.collect(ENV_ID, c.round_episodes, new_rollouts, num_envs=2, policy=policy, seed=100 * round_,
                     episodes_per_shard=16, max_steps=c.max_steps)

    merged = runs / f"encoded_all{here}"
    merged.mkdir(exist_ok=True)
    latents.encode_rollouts(v, new_rollouts, runs / f"encoded{here}")
    for folder in [runs / "encoded", *(runs / f"encoded_iter{r}" for r in range(1, round_ + 1))]:
        for f in sorted(folder.glob("*.npz")):
            target = merged / f"{folder.name}_{f.name}"
            if not target.exists():
                shutil.copy(f, target)

    m_path = runs / f"mdnrnn{here}.pt"
    if not m_path.exists():  # continue from the previous M's checkpoint (weights and optimizer) on all the data
        shutil.copy(runs / f"mdnrnn{previous}.pt", m_path)
    done_epochs = len(torch.load(m_path, map_location="cpu", weights_only=True)["history"])
    target_epochs = done_epochs if m_path.with_suffix(".done").exists() else done_epochs + c.round_epochs
    m_new, _ = mdnrnn_training.train_mdnrnn(latents.load_encoded(merged), m_old.config, m_path, epochs=target_epochs)
    m_path.with_suffix(".done").touch()

    settings = evolve.EvolveConfig(population=c.round_population, rollouts=c.round_rollouts,
                                   generations=c.round_generations, seed=round_)
    c_path = runs / f"controller{here}.npz"
    result, c_config = evolve_controller(m_path, merged, c_path, 1.0, c.dream_steps, settings, round=round_)
    real = evaluate.evaluate(ENV_ID, agent.WorldModelAgent(v, m_new, result.best_params, c_config),
                             c.round_eval_episodes, seed=1000, num_envs=2)
    report = {"round": round_, "new_episodes": c.round_episodes, "noise": c.round_noise, "real_steps_collected":
              rollouts.count_frames(new_rollouts), "dream_mean_last_generation": result.history[-1]["mean"],
              "real_mean": real.mean, "real_std": real.std, "real_episodes": c.round_eval_episodes,
              "real_returns": real.returns.round(2).tolist()}
    atomic_write_text(runs / f"iteration{here}.json", json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
    return eval_agent(c_path, runs / "vae_z32.pt", m_path, c.eval_episodes, c.eval_seed, 2,
                      runs / f"controller{here}_eval.json")


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
    artefacts.record(data / "carracing_heldout_encoded.npz", "python -m wmcourse encode --vae data/vae_carracing_z32.pt "
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


def ship_controller(runs: Path, iteration: int) -> None:
    """One controller, its real evaluation, and two references a test replays with the shipped files: one real
    drive and a few seeded dreams."""
    data, tag = artefacts.data_dir(), "" if iteration == 0 else f"_iter{iteration}"
    step = "python -m wmcourse evolve" if iteration == 0 else f"python scripts/iterate_carracing.py {runs} {iteration}"
    if iteration:
        m = mdnrnn.load_mdnrnn(runs / f"mdnrnn{tag}.pt")
        m_target = mdnrnn.save_mdnrnn(m, data / f"mdnrnn_carracing{tag}.pt")
        report = json.loads((runs / f"iteration{tag}.json").read_text())
        artefacts.record(m_target, f"{EVOLVE_COMMAND}  (step: {step})", seed=iteration,
                         figures={k: report[k] for k in ("new_episodes", "noise", "real_steps_collected")})
    params, config, details = controller.load_controller(runs / f"controller{tag}.npz")
    real = json.loads((runs / f"controller{tag}_eval.json").read_text())
    last = details["history"][-1]
    target = data / shipped.controller_name(iteration)
    shutil.copy(runs / f"controller{tag}.npz", target)
    artefacts.record(target, f"{EVOLVE_COMMAND}  (step: {step})", seed=iteration,
                     figures={"generations": last["generation"], "dream_mean_last_generation": round(last["mean"], 1),
                              "dream_best_last_generation": round(last["best"], 1),
                              "real_mean": round(real["mean"], 1), "real_std": round(real["std"], 1),
                              "real_episodes": real["episodes"]},
                     measured_on="real CarRacing-v3, track seeds 1000 and up (python -m wmcourse eval-agent)")
    m = shipped.load_shipped_mdnrnn(iteration=iteration)
    wm = agent.WorldModelAgent(shipped.load_shipped_vae(), m, params, config)
    real["reference_drive"] = {"seed": REFERENCE_SEED, "steps": REFERENCE_STEPS,
                               "return": float(agent.drive_real(wm, REFERENCE_SEED, REFERENCE_STEPS)["rewards"].sum())}
    starts = agent.start_latents(shipped.load_shipped_heldout_encoded())
    real["reference_dreams"] = {"dreams": 8, "steps": REFERENCE_STEPS, "tau": details["tau"], "seed": 1, "returns": [
        round(float(r), 3) for r in dream.dream_score(m, starts, params, config, details["tau"], 8,
                                                      REFERENCE_STEPS, seed=1)]}
    evaluation = data / shipped.controller_name(iteration, "_eval.json")
    evaluation.write_text(json.dumps(real, indent=1) + "\n")
    artefacts.record(evaluation, f"{EVOLVE_COMMAND}  (step: python -m wmcourse eval-agent --episodes {real['episodes']})",
                     seed=1000, figures={"mean": round(real["mean"], 1), "std": round(real["std"], 1)})


def ship_controllers(runs: str | Path = RUNS) -> None:
    """Copy the controllers (the first, and each round's with its M), their real evaluations and the tau sweep
    into data/, and record them in the manifest with the command and the measured figures."""
    runs = Path(runs)
    ship_controller(runs, 0)
    iteration = 1
    while (runs / f"controller_iter{iteration}_eval.json").exists():
        ship_controller(runs, iteration)
        iteration += 1
    sweep = runs / "tau_sweep.json"
    if sweep.exists():
        shipped = artefacts.data_dir() / tau_sweep.TAU_SWEEP_NAME
        shutil.copy(sweep, shipped)
        rows = json.loads(sweep.read_text())["rows"]
        artefacts.record(shipped, f"{EVOLVE_COMMAND}  (step: python -m wmcourse tau-sweep ...)", seed=0,
                         figures={f"tau {r['tau']:g}": f"dream {r['dream_mean']:.1f}, real {r['real_mean']:.1f}"
                                  for r in rows})
    print("\n".join(artefacts.verify()) or f"data/ recorded: {len(artefacts.load_manifest())} artefacts")
