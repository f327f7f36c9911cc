"""The command line: `python -m wmcourse STAGE ...` runs each stage of the pipeline. See --help."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence

from ..errors import CourseError, UnknownEnvironmentError
from ..experiments import benchmark
from ..real import envs, evaluate
from . import arguments as A


def _env_id(text: str) -> str:
    """An environment id the course supports (argparse type): the package's own check and message."""
    try:
        return envs.check_env_id(text)
    except UnknownEnvironmentError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (python -m wmcourse envs lists them)") from None


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block), with exit status 2."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _one_line(message: str) -> str:
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


def _cmd_envs(args: argparse.Namespace) -> None:
    for env_id, what in envs.SUPPORTED_ENVS.items():
        print(f"{env_id:14s} {what}")


def _cmd_baseline(args: argparse.Namespace) -> None:
    result = evaluate.evaluate(args.env, None, args.episodes, seed=args.seed, num_envs=args.num_envs)
    print(f"random policy on {args.env}: {result}")
    if args.json:
        print(json.dumps({"env": args.env, "mean": result.mean, "std": result.std, "episodes": len(result.returns)}))


def _cmd_bench(args: argparse.Namespace) -> None:
    from ..worldmodels import mdnrnn
    from ..worldmodels.dream import dream_steps_per_second

    if args.drive:
        from ..lessons import drive

        print(f"drive-the-dream frames per second (step + decode + PNG), torch threads {args.threads}:")
        for name, rate in drive.drive_rates(args.steps, args.threads).items():
            print(f"  {name}: {rate:,.0f} frames/s")
        return
    rates = {}
    for env_id in args.env:
        rates[env_id] = benchmark.real_steps_per_second(env_id, args.steps, args.seed)
        print(f"real {env_id}: {benchmark.format_rate(rates[env_id])}")
    model = mdnrnn.MDNRNN(mdnrnn.MDNRNNConfig(predict_reward=True, predict_done=True))  # the cost does not depend on the weights
    dream = dream_steps_per_second(model, batch_size=args.dream_batch, steps=args.dream_steps, seed=args.seed)
    print(f"dream (paper-size MDN-RNN, {args.dream_batch} dreams batched): {benchmark.format_rate(dream)}")
    for env_id, rate in rates.items():
        print(f"a real {env_id} step costs {dream / rate:,.3g} dream steps")


def _cmd_collect(args: argparse.Namespace) -> None:
    import time
    from pathlib import Path

    from ..real import rollouts

    out = args.out or f"runs/{args.env}/rollouts"
    chosen = _backend(args)
    before = rollouts.count_frames(out) if any(Path(out).glob(rollouts.SHARD_PATTERN)) else 0
    start, cpu = time.perf_counter(), time.process_time()
    paths = rollouts.collect(args.env, args.episodes, out, num_envs=args.num_envs, policy=args.policy, seed=args.seed,
                             episodes_per_shard=args.episodes_per_shard, max_steps=args.max_steps,
                             backend=chosen)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    returns, lengths = rollouts.episode_returns(out)
    print(f"{len(returns)} episodes in {len(paths)} shards in {out}: {lengths.sum():,} steps, "
          f"length {lengths.mean():.0f}, return {returns.mean():.1f} +- {returns.std():.1f}")
    if lengths.sum() > before:
        _print_rate(args, lengths.sum() - before, seconds, cpu)


def _cmd_train_vae(args: argparse.Namespace) -> None:
    from .. import checkpoint
    from ..real import rollouts
    from ..worldmodels import train_vae as vae_training
    from ..worldmodels import vae

    config = vae.VAEConfig(z_size=args.z, width=args.width, beta=args.beta, kl_tolerance=args.kl_tolerance,
                           lr=args.lr, batch_size=args.batch_size)
    frames = rollouts.count_frames(args.rollouts)
    print(f"{frames:,} frames in {args.rollouts}; V has {checkpoint.count_parameters(vae.ConvVAE(config)):,} parameters")
    history = vae_training.train_vae(args.rollouts, config, args.out, epochs=args.epochs, steps=args.steps, seed=args.seed,
                                     device=args.device, threads=args.threads)
    print(f"saved {args.out}: loss {history['loss'][-1]:.1f} (reconstruction {history['reconstruction'][-1]:.1f}, "
          f"KL {history['kl'][-1]:.2f}) after {history['step'][-1]:,} steps")
    if args.ship:
        vae.save_vae(vae.load_vae(args.out), args.ship, half=True)
        print(f"saved a float16 copy for data/ at {args.ship}")


def _cmd_eval_vae(args: argparse.Namespace) -> None:
    from ..experiments.carracing import eval_vae

    print(json.dumps(eval_vae(args.vae, args.rollouts, args.max_frames, device=args.device)))


def _cmd_encode(args: argparse.Namespace) -> None:
    from ..worldmodels import latents, vae

    paths = latents.encode_rollouts(vae.load_vae(args.vae, device=args.device), args.rollouts, args.out)
    print(f"encoded {len(paths)} shards into {args.out}")


def _cmd_train_mdnrnn(args: argparse.Namespace) -> None:
    from .. import checkpoint
    from ..worldmodels import latents, mdnrnn
    from ..worldmodels import train_mdnrnn as mdnrnn_training

    data = latents.load_encoded(args.data)
    config = mdnrnn.MDNRNNConfig(
        z_size=data.z_size, action_size=data.action_size, hidden=args.hidden, K=args.mixtures, lr=args.lr,
        grad_clip=args.grad_clip, batch_size=args.batch_size, seq_len=args.seq_len,
        predict_reward=args.predict_reward, predict_done=args.predict_done, done_weight=args.done_weight,
        reward_smoothing=args.reward_smoothing,
    )
    print(f"{len(data)} episodes, {data.num_steps:,} steps, z {data.z_size}, actions {data.action_size}; "
          f"M has {checkpoint.count_parameters(mdnrnn.MDNRNN(config)):,} parameters")
    _, history = mdnrnn_training.train_mdnrnn(data, config, args.out, epochs=args.epochs, seed=args.seed, device=args.device,
                                              held_out=args.held_out, resume=not args.no_resume)
    last = history[-1] if history else {}
    print(f"saved {args.out}: " + ", ".join(f"{k} {v:.4g}" for k, v in last.items()))


def _cmd_evolve(args: argparse.Namespace) -> None:
    from ..experiments.carracing import evolve_controller
    from ..worldmodels.evolve import EvolveConfig

    evolve_controller(args.mdnrnn, args.encoded, args.out, args.tau, args.max_steps,
                      A.config_from_args(EvolveConfig(), args))


def _check_ledger_arguments(args: argparse.Namespace, stage: str) -> None:
    """--ledger and --row come together, and this command's steps are not counted yet: checked before the
    episodes, so a rerun by mistake stops before it spends them."""
    from ..shipped import ledger

    if (args.ledger is None) != (args.row is None):
        raise CourseError(f"--ledger and --row go together: pass both to count this run's {stage} steps in a "
                          "run ledger (for example --ledger data/carracing_ledger.json --row 1), or neither.")
    if args.ledger:
        ledger.check_new(args.ledger, args.row, stage, args.command_line)


def _cmd_eval_agent(args: argparse.Namespace) -> None:
    import time

    from ..experiments.carracing import eval_agent
    from ..shipped import ledger

    _check_ledger_arguments(args, "evaluation")
    start = time.perf_counter()
    scores = eval_agent(args.controller, args.vae, args.mdnrnn, args.episodes, seed=args.seed,
                        num_envs=args.num_envs, env_id=args.env)
    print(json.dumps(scores))
    if args.ledger:
        ledger.add(args.ledger, ledger.evaluation_entry(args.row, scores, args.seed, args.num_envs, args.command_line,
                                                        round(time.perf_counter() - start, 1), env_id=args.env))
        print(f"counted {scores['real_steps']:,} real evaluation steps for row {args.row} in {args.ledger}")


def _cmd_evolve_real(args: argparse.Namespace) -> None:
    import time
    from dataclasses import asdict
    from pathlib import Path

    import numpy as np

    from ..shipped import ledger
    from ..worldmodels import controller, real_es

    _check_ledger_arguments(args, "refinement")
    start, config, _ = controller.load_controller(args.controller)
    if args.from_scratch:  # the control run (issue 12, row 3): only the controller's shape is taken
        start = np.zeros_like(start)
    origin = f"zeros shaped like {args.controller}" if args.from_scratch else args.controller
    settings = A.config_from_args(real_es.RealESConfig(), args)
    run_dir = Path(args.out).with_suffix(".real_es")
    print(f"CMA-ES in real {real_es.ENV_ID} from {origin}: population {args.population} x {args.rollouts} "
          f"real episodes a generation, {args.backend} backend; run kept in {run_dir} (rerun the command to resume)")
    chosen = _backend(args)
    cpu = time.process_time()
    mean, history = real_es.evolve_real(start, config, args.vae, args.mdnrnn, run_dir, settings, chosen)
    cpu = time.process_time() - cpu
    controller.save_controller(args.out, mean, config, history=history, start=origin, vae=args.vae,
                               mdnrnn=args.mdnrnn, settings=asdict(settings))
    results = {"controller": args.out, "start": origin, "vae": args.vae, "mdnrnn": args.mdnrnn,
               "backend": args.backend, "settings": asdict(settings), "history": history,
               "total_real_steps": history[-1]["total_real_steps"] if history else 0}
    Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    last = history[-1]
    measured = [h for h in history if h["real_steps_per_s"]]
    print(f"saved {args.out} and {Path(args.out).with_suffix('.json')}: generation {last['generation']}, real score "
          f"best {last['best']:.1f}, mean {last['mean']:.1f}; {last['total_real_steps']:,} real steps in all")
    if measured:
        _print_rate(args, sum(h["real_steps"] for h in measured), sum(h["seconds"] for h in measured), cpu)
    if args.ledger:
        ledger.add(args.ledger, ledger.refinement_entry(args.row, history, origin, args.command_line))
        print(f"counted {last['total_real_steps']:,} real refinement steps for row {args.row} in {args.ledger}")


def _add_ledger_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ledger", type=A.output_file, default=None,
                   help="count the real steps in this run ledger (wmcourse.shipped.ledger), for example data/carracing_ledger.json")
    p.add_argument("--row", type=A.positive_int, default=None, help="with --ledger: the row they count for (issue 12: 1-3)")


def _cmd_tau_sweep(args: argparse.Namespace) -> None:
    from ..experiments import tau_sweep

    config = A.config_from_args(tau_sweep.TauSweepConfig(), args)
    sweep = tau_sweep.run_tau_sweep(args.vae, args.mdnrnn, args.encoded, args.out, config)
    print(f"wrote {args.out}: {len(sweep['rows'])} temperatures")


def _cmd_pipeline(args: argparse.Namespace) -> None:
    from pathlib import Path

    from ..experiments import carracing as carracing_experiment

    config = A.config_from_args(carracing_experiment.CarRacingConfig(), args)
    report = carracing_experiment.run(args.runs, config, stop_after=args.stop_after)
    print((Path(args.runs) / "report.md").read_text() if report["stages"] else "nothing to do")


def _cmd_figures(args: argparse.Namespace) -> None:
    from ..lessons import figures

    if args.list:
        for spec in figures.select(args.only):
            print(f"{spec.name:24s} notebook {spec.notebook}, cell '{spec.cell}'" + ("  (optional)" if spec.optional else ""))
        return
    report = figures.write_figures(args.out, args.only, dpi=args.dpi)
    print(f"{len(report['written'])} figures in {args.out}" + (f", {len(report['skipped'])} optional ones skipped"
                                                              if report["skipped"] else ""))
    if report["failed"]:
        raise CourseError("these figures could not be drawn:\n" + "\n".join(f"  {name}: {why}"
                                                                           for name, why in report["failed"]))


def _cmd_dreamer(args: argparse.Namespace) -> None:
    import os

    from ..dreamer import agent as dreamer
    from ..experiments import dreamer as dreamer_experiment

    config = A.config_from_args(dreamer.DreamerConfig(env_id=args.env), args)
    results, paths = dreamer_experiment.run(config, args.out, args.run_dir, resume=not args.no_resume)
    print(f"final real score {results['final']['mean']:.1f} +- {results['final']['std']:.1f} over "
          f"{results['final']['episodes']} episodes; {results['train_seconds']:.0f} s "
          f"({results['train_cpu_seconds']:.0f} s CPU); wrote {', '.join(os.fspath(p) for p in paths)}")


def _cmd_cartpole(args: argparse.Namespace) -> None:
    from ..experiments import cartpole as ce

    config = ce.fast_config(args.seed) if args.fast else ce.ExperimentConfig(seed=args.seed)
    if args.seeds:
        ce.run_rows(args.seeds, args.run_dir, config)
        if args.rows_only:
            return
        runs = ce.collect_runs(args.seeds, args.run_dir, config)
        summary = ce.write_over_seeds(runs, args.out, args.run_dir, record=not args.no_record)
        print(ce.format_seeds_table(summary))
        print(f"wrote {args.out}")
        return
    results = ce.run_experiment(config, out=args.out, record=not args.no_record)
    print(ce.format_table(results))
    print(f"wrote {args.out} and its checkpoints beside it ({results['seconds']:.0f} s)")


def _cmd_takecover(args: argparse.Namespace) -> None:
    from ..experiments import takecover

    config = A.config_from_args(takecover.TakeCoverConfig(), args)
    if not args.ship_only:
        results = takecover.run(args.out, config)
        for row in results["rows"]:
            print(f"tau {row['tau']:g}: dream {row['dream_mean']:.0f} +- {row['dream_std']:.0f}, "
                  f"real {row['real_mean']:.0f} +- {row['real_std']:.0f} over {row['real_episodes']} episodes")
        for row in results.get("rounds", []):
            print(f"round {row['round']} (+{row['real_steps_collected']:,} real steps): tau {row['tau']:g}: dream "
                  f"{row['dream_mean']:.0f} +- {row['dream_std']:.0f}, real {row['real_mean']:.0f} +- {row['real_std']:.0f}")
        print(f"random policy: real {results['random']['real_mean']:.0f} +- {results['random']['real_std']:.0f}; "
              f"total {results['total_seconds'] / 60:.1f} min")
        if args.controller_seeds:
            takecover.run_controller_seeds(args.out, tuple(args.controller_seeds), 1.15, config)
        if args.select:
            selection = takecover.select_round(args.out, args.select)
            test = takecover.chosen_test(selection)
            print(f"chosen on {args.select} validation episodes: round {selection['chosen_round']}; on "
                  f"{test['real_episodes']} fresh episodes: real {test['real_mean']:.0f} +- {test['real_std']:.0f}")
    if args.ship:
        shipped = takecover.ship(args.out, args.ship)
        print(f"shipped {len(shipped)} files into {args.ship}")


def _print_rate(args: argparse.Namespace, steps: int, seconds: float, cpu_seconds: float) -> None:
    """Real steps per second of wall time; with one local worker (all in this process) also per CPU-second,
    what a core-hour buys, less sensitive than wall time to other programs sharing the machine."""
    line = f"this run: {steps:,} real steps in {seconds:.1f} s, {steps / seconds:.1f} real steps/s"
    if args.backend == "local" and (args.workers or 1) == 1:
        line += f"; {cpu_seconds:.1f} s of CPU, {steps / cpu_seconds:.1f} real steps per CPU-second"
    print(line + f" ({args.backend} backend, {args.workers or 1} worker(s))")


def _backend(args: argparse.Namespace):
    """The backend the command line asked for; Ray is started here, so its start-up is not counted in steps/s."""
    import time

    from ..real import backend

    chosen = backend.make_backend(args.backend, args.workers, args.address)
    if isinstance(chosen, backend.RayBackend):
        start = time.perf_counter()
        ray = chosen.connect()
        print(f"Ray: {ray.cluster_resources().get('CPU', 0):.0f} CPUs, ready in {time.perf_counter() - start:.1f} s")
    return chosen


def _add_backend_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default="local", choices=["local", "ray"],
                   help="local: this machine's processes; ray: Ray tasks (pip install -e .[cluster])")
    p.add_argument("--workers", type=A.positive_int, default=None,
                   help="local: worker processes (default 1, in this process); ray: CPUs of a local Ray instance")
    p.add_argument("--address", default=None,
                   help="ray: an existing cluster ('auto' on a node of it, or ray://HOST:10001); default: start a local one")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m wmcourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("envs", help="list the environments the course supports")
    p.set_defaults(run=_cmd_envs)

    p = sub.add_parser("baseline", help="score a random policy in the real environment")
    p.add_argument("--env", type=_env_id, default="CartPole-v1")
    p.add_argument("--episodes", type=A.positive_int, default=100)
    p.add_argument("--num-envs", type=A.positive_int, default=2)
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument("--json", action="store_true", help="also print the result as JSON")
    p.set_defaults(run=_cmd_baseline)

    p = sub.add_parser("bench", help="measure real environment steps and batched dream steps per second, and their ratio")
    p.add_argument("--env", type=_env_id, nargs="+", default=["CarRacing-v3", "CartPole-v1"])
    p.add_argument("--steps", type=A.positive_int, default=500)
    p.add_argument("--dream-batch", type=A.positive_int, default=1024, help="dreams stepped together (a CMA-ES population x rollouts)")
    p.add_argument("--dream-steps", type=A.positive_int, default=100)
    p.add_argument("--drive", action="store_true", help="instead: the frame rate of driving the dream yourself "
                                                        "(notebooks 06 and 07), with the shipped models")
    p.add_argument("--threads", type=A.positive_int, default=1, help="torch threads for --drive (1: as the widget runs)")
    p.add_argument("--seed", type=A.seed, default=0)
    p.set_defaults(run=_cmd_bench)

    p = sub.add_parser("collect", help="play a policy in the real environment and store the episodes (resumable)")
    p.add_argument("--env", type=_env_id, default="CarRacing-v3")
    p.add_argument("--episodes", type=A.positive_int, default=100, help="the paper used 10,000")
    p.add_argument("--out", type=A.folder, default=None, help="default runs/ENV/rollouts; rerun the same command to resume")
    p.add_argument("--num-envs", type=A.positive_int, default=2, help="environment copies stepped together")
    p.add_argument("--policy", default="auto", choices=["auto", "random", "walk", "hold", "pilot", "mix"],
                   help="auto: walk for CarRacing, random for CartPole, hold for Take Cover; mix: pilot and walk shards alternate (see wmcourse.real.rollouts)")
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument("--max-steps", type=A.positive_int, default=None, help="cut episodes at this length (quick tests)")
    p.add_argument("--episodes-per-shard", type=A.positive_int, default=None)
    _add_backend_arguments(p)
    p.set_defaults(run=_cmd_collect)

    from ..worldmodels.vae import VAEConfig  # the paper's values, as defaults

    v = VAEConfig()
    p = sub.add_parser("train-vae", help="train the VAE (V) on collected frames (resumable)")
    p.add_argument("--rollouts", type=A.folder, default="runs/CarRacing-v3/rollouts")
    p.add_argument("--out", type=A.output_file, default="runs/CarRacing-v3/vae.pt", help="checkpoint with optimizer state; rerun to resume")
    p.add_argument("--z", type=A.positive_int, default=v.z_size)
    p.add_argument("--width", type=A.positive_float, default=v.width, help="channel multiplier (0.5: a quarter of the parameters)")
    p.add_argument("--beta", type=A.non_negative_float, default=v.beta)
    p.add_argument("--kl-tolerance", type=A.non_negative_float, default=v.kl_tolerance, help="free bits: nats per latent dimension")
    p.add_argument("--lr", type=A.positive_float, default=v.lr)
    p.add_argument("--batch-size", type=A.positive_int, default=v.batch_size)
    p.add_argument("--epochs", type=A.positive_int, default=1)
    p.add_argument("--steps", type=A.positive_int, default=None, help="optimizer steps (overrides --epochs)")
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument("--device", type=A.device, default="auto", help="auto (a CUDA GPU when there is one), cpu or cuda")
    p.add_argument("--threads", type=A.positive_int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--ship", type=A.output_file, default=None, help="also write a float16 copy of the weights here (for data/)")
    p.set_defaults(run=_cmd_train_vae)

    p = sub.add_parser("eval-vae", help="held-out reconstruction error (MSE per pixel) and KL of a trained VAE, as JSON")
    p.add_argument("--vae", type=A.archive(".pt"), default="data/vae_carracing_z32.pt")
    p.add_argument("--rollouts", type=A.folder, default="data/carracing_heldout")
    p.add_argument("--max-frames", type=A.positive_int, default=None)
    p.add_argument("--device", type=A.device, default="auto")
    p.set_defaults(run=_cmd_eval_vae)

    p = sub.add_parser("encode", help="encode rollouts with a trained VAE into the data M trains on")
    p.add_argument("--vae", type=A.archive(".pt"), default="runs/CarRacing-v3/vae.pt")
    p.add_argument("--rollouts", type=A.folder, default="runs/CarRacing-v3/rollouts")
    p.add_argument("--out", type=A.folder, default="runs/CarRacing-v3/encoded")
    p.add_argument("--device", type=A.device, default="auto")
    p.set_defaults(run=_cmd_encode)

    from ..worldmodels.mdnrnn import MDNRNNConfig  # the paper's values, as defaults

    m = MDNRNNConfig()
    p = sub.add_parser("train-mdnrnn", help="train the MDN-RNN (M) on encoded episodes (see wmcourse.worldmodels.latents)")
    p.add_argument("--data", type=A.folder_or_archive, default="runs/CarRacing-v3/encoded", help="an .npz of encoded episodes, or a folder of them")
    p.add_argument("--out", type=A.output_file, default="runs/CarRacing-v3/mdnrnn.pt", help="checkpoint written each epoch; rerun to resume")
    p.add_argument("--epochs", type=A.positive_int, default=20)
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument("--device", type=A.device, default="auto", help="auto (a CUDA GPU when there is one), cpu or cuda")
    p.add_argument("--hidden", type=A.positive_int, default=m.hidden)
    p.add_argument("--mixtures", type=A.positive_int, default=m.K, help="Gaussians per latent dimension")
    p.add_argument("--lr", type=A.positive_float, default=m.lr)
    p.add_argument("--grad-clip", type=A.positive_float, default=m.grad_clip)
    p.add_argument("--batch-size", type=A.positive_int, default=m.batch_size)
    p.add_argument("--seq-len", type=A.positive_int, default=m.seq_len)
    p.add_argument("--predict-reward", action="store_true")
    p.add_argument("--predict-done", action="store_true")
    p.add_argument("--done-weight", type=A.non_negative_float, default=m.done_weight, help="weight of done = 1 steps")
    p.add_argument("--reward-smoothing", type=A.positive_int, default=m.reward_smoothing,
                   help="reward target: mean of the next k rewards (1: raw)")
    p.add_argument("--held-out", type=A.fraction, default=0.05, help="fraction of episodes kept for evaluation")
    p.add_argument("--no-resume", action="store_true", help="start over even if --out exists")
    p.set_defaults(run=_cmd_train_mdnrnn)

    from ..worldmodels.evolve import EvolveConfig

    p = sub.add_parser("evolve", help="evolve the controller with CMA-ES inside the dream (resumable)")
    p.add_argument("--mdnrnn", type=A.archive(".pt"), default="runs/CarRacing-v3/mdnrnn.pt")
    p.add_argument("--encoded", type=A.folder_or_archive, default="runs/CarRacing-v3/encoded", help="encoded episodes: their first frames start the dreams")
    p.add_argument("--out", type=A.output_file, default="runs/CarRacing-v3/controller.npz")
    p.add_argument("--tau", type=A.positive_float, default=1.0)
    p.add_argument("--max-steps", type=A.positive_int, default=1000)
    A.add_config_options(p, EvolveConfig(), helps={"rollouts": "dreams per candidate"})
    p.set_defaults(run=_cmd_evolve)

    p = sub.add_parser("eval-agent", help="score a controller with its V and M in the real environment")
    p.add_argument("--controller", type=A.archive(".npz"), default="runs/CarRacing-v3/controller.npz")
    p.add_argument("--vae", type=A.archive(".pt"), default="runs/CarRacing-v3/vae_z32.pt")
    p.add_argument("--mdnrnn", type=A.archive(".pt"), default="runs/CarRacing-v3/mdnrnn.pt")
    p.add_argument("--env", type=_env_id, default="CarRacing-v3")
    p.add_argument("--episodes", type=A.positive_int, default=100)
    p.add_argument("--num-envs", type=A.positive_int, default=2)
    p.add_argument("--seed", type=A.seed, default=1000, help="track seeds: keep them apart from the training data's")
    _add_ledger_arguments(p)
    p.set_defaults(run=_cmd_eval_agent)

    from ..worldmodels.real_es import RealESConfig

    p = sub.add_parser("evolve-real", help="CMA-ES with every candidate scored in the REAL environment, from a starting "
                                           "controller (the paper's recipe; resumable; --backend ray for a cluster)")
    p.add_argument("--controller", type=A.archive(".npz"), default="data/controller_carracing_iter2.npz", help="where the search starts")
    p.add_argument("--from-scratch", action="store_true",
                   help="start from zeros (the paper's start) and take only the shape of --controller")
    p.add_argument("--vae", type=A.archive(".pt"), default="data/vae_carracing_z32.pt")
    p.add_argument("--mdnrnn", type=A.archive(".pt"), default="data/mdnrnn_carracing_iter2.pt")
    p.add_argument("--out", type=A.output_file, default="runs/CarRacing-v3/controller_real.npz",
                   help="the controller (the search mean); a .json with every generation's scores and real steps "
                        "beside it; the run's state in a .real_es folder beside it")
    A.add_config_options(p, RealESConfig(), helps={"generations": "the paper: about 1,800",
                                                   "rollouts": "real episodes per candidate, every generation"})
    _add_backend_arguments(p)
    _add_ledger_arguments(p)
    p.set_defaults(run=_cmd_evolve_real)

    from ..experiments.tau_sweep import TauSweepConfig

    p = sub.add_parser("tau-sweep", help="evolve a controller in the dream at each temperature; score it in dream and reality")
    p.add_argument("--vae", type=A.archive(".pt"), default="runs/CarRacing-v3/vae_z32.pt")
    p.add_argument("--mdnrnn", type=A.archive(".pt"), default="runs/CarRacing-v3/mdnrnn.pt")
    p.add_argument("--encoded", type=A.folder_or_archive, default="runs/CarRacing-v3/encoded", help="encoded episodes: their first frames start the dreams")
    p.add_argument("--out", type=A.output_file, default="runs/CarRacing-v3/tau_sweep.json", help="the table (controllers go beside it)")
    A.add_config_options(p, TauSweepConfig(), helps={"rollouts": "dreams per candidate while evolving",
                                                     "dream_episodes": "dreams that score the final controller",
                                                     "real_episodes": "real episodes that score it"})
    p.set_defaults(run=_cmd_tau_sweep)

    from ..experiments.carracing import STAGES, CarRacingConfig

    p = sub.add_parser("pipeline", help="the CarRacing experiment from nothing (wmcourse.experiments.carracing): "
                                        "collect, the Vs, M, C in the dream, real scores, the tau sweep, the "
                                        "iterative rounds (resumable)")
    p.add_argument("task", choices=["carracing"])
    p.add_argument("--runs", type=A.folder, default="runs/CarRacing-v3", help="where everything is written; rerun to resume")
    A.add_config_options(p, CarRacingConfig(), types={"round_noise": A.non_negative_float},
                         choices={"policy": ["random", "walk", "hold", "pilot", "mix"]})
    p.add_argument("--stop-after", default=None, choices=STAGES, help="stop after this stage (the rounds come last)")
    p.set_defaults(run=_cmd_pipeline)

    from ..experiments.takecover import TakeCoverConfig

    p = sub.add_parser("takecover", help="the paper's own dream: VizDoom Take Cover, V, M, C evolved in the dream at each "
                                         "temperature, scored in 100 real episodes (resumable)")
    p.add_argument("--out", type=A.folder, default="runs/TakeCover", help="where everything is written; rerun to resume")
    A.add_config_options(p, TakeCoverConfig(), types={"vae_from": A.archive(".pt")},
                         choices={"policy": ["hold", "random", "walk"]}, helps={
        "episodes": "random rollouts to collect", "policy": "hold: a random action held 1-10 steps (the paper's); "
                    "random: a new one every step", "vae_steps": "V's optimizer steps in all (batches of 100 frames)",
        "vae_from": "continue this V checkpoint (an earlier run's vae_z64.pt) rather than train V afresh; its steps "
                    "count in --vae-steps", "taus": "temperatures to evolve, in this order",
        "workers": "shards collected, and temperatures evolved, at once (one process each)",
        "rounds": "rounds of the paper's iterative training after the table: collect real episodes with the last "
                  "controller (plus noise), train M on, evolve a new controller at --round-tau (more rounds may be "
                  "added to a finished run)", "round_episodes": "real episodes each round collects",
        "round_noise": "std of the noise on the controller's action while a round collects",
        "round_epochs": "epochs each round trains M on (on all data so far)"})
    p.add_argument("--ship", type=A.folder, default=None, help="afterwards copy the small results into this folder (data) with manifest entries")
    p.add_argument("--ship-only", action="store_true", help="only ship a finished run")
    p.add_argument("--controller-seeds", type=A.seed, nargs="+", default=None,
                   help="afterwards evolve more tau = 1.15 controllers from the same V and M, one per CMA-ES seed "
                        "(not the run's --seed), each scored like a table row")
    p.add_argument("--select", type=A.positive_int, default=None, metavar="EPISODES",
                   help="afterwards keep the round (0: the table's) whose tau = round_tau controller lives longest over "
                        "EPISODES held-out real episodes, and score it on real_episodes fresh ones")
    p.set_defaults(run=_cmd_takecover)

    p = sub.add_parser("figures", help="draw the slides' figures (PNG) from the shipped artefacts, as the notebooks do")
    p.add_argument("--out", type=A.folder, default="slides/figures")
    p.add_argument("--only", nargs="+", default=None, help="figure names or notebook numbers (00, 01, ...)")
    p.add_argument("--dpi", type=A.positive_int, default=110)
    p.add_argument("--list", action="store_true", help="list the figures and the notebook cell each comes from")
    p.set_defaults(run=_cmd_figures)

    from ..dreamer.agent import DreamerConfig
    from ..experiments import dreamer as dreamer_experiment

    p = sub.add_parser("dreamer", help="train the minimal Dreamer agent (notebook 08) and write its learning curve")
    p.add_argument("--env", type=_env_id, default="CartPole-v1", choices=["CartPole-v1"],
                   help="the minimal Dreamer reads state vectors: CartPole-v1 only")
    p.add_argument("--out", type=A.output_file, default=dreamer_experiment.OUT,
                   help="results JSON (the agent goes beside it as .pt); inside data/ both are recorded in the manifest")
    p.add_argument("--run-dir", type=A.folder, default=None, help="checkpoints (default runs/dreamer/ENV-seedN); rerun to resume")
    A.add_config_options(p, DreamerConfig(), only=("steps", "seed", "train_every", "gamma", "eval_every"),
                         types={"gamma": A.discount}, helps={
                             "steps": "real environment steps", "train_every": "real steps per update",
                             "gamma": "discount (DreamerV3: 0.997)",
                             "eval_every": "real steps between points of the learning curve"})
    p.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    p.set_defaults(run=_cmd_dreamer)

    from ..experiments.cartpole import ExperimentConfig

    p = sub.add_parser("cartpole", help="notebook 07: the CartPole World Model that fails on random data, its fixes, "
                                        "and DQN on the same real budget (the measured table)")
    p.add_argument("--out", type=A.output_file, default="data/cartpole_results.json", help="the table; checkpoints are written beside it")
    A.add_config_options(p, ExperimentConfig(), only=("seed",))
    p.add_argument("--seeds", type=A.seed, nargs="+", default=None,
                   help="run the table once per seed (each in RUN_DIR/seedN/, skipped when already there) and write "
                        "the table over seeds to --out")
    p.add_argument("--run-dir", default="runs/cartpole", help="with --seeds: where each seed's rows go")
    p.add_argument("--rows-only", action="store_true",
                   help="with --seeds: only run the missing rows (several processes may share one sweep)")
    p.add_argument("--fast", action="store_true", help="a tiny run of the same code paths (seconds, numbers meaningless)")
    p.add_argument("--no-record", action="store_true", help="do not add the files to data/manifest.json")
    p.set_defaults(run=_cmd_cartpole)

    from . import notebooks  # get-notebooks: the notebooks and their docs into a folder, for any Jupyter

    notebooks.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a bad argument or a course error is one line on stderr and exit status 2."""
    try:
        args = build_parser().parse_args(argv)
        args.command_line = "python -m wmcourse " + shlex.join(sys.argv[1:] if argv is None else argv)  # for a ledger
    except SystemExit as exc:  # --help (0) or a bad argument (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        args.run(args)
    except CourseError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    return 0
