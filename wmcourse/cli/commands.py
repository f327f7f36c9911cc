"""What each command of `python -m wmcourse` does (the parser, in main.py, names them): `cmd_NAME(args)`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import CourseError, SettingsError
from ..experiments import benchmark
from ..real import envs, evaluate
from . import arguments as A


def _overlaid(module, config, args: argparse.Namespace):
    """`config` with the module's "fast" overlay when --fast was given (experiments.runner.overlay)."""
    from ..experiments import runner

    return runner.overlay(config, module.OVERLAYS, "fast") if getattr(args, "fast", False) else config


def cmd_envs(args: argparse.Namespace) -> None:
    for env_id, what in envs.SUPPORTED_ENVS.items():
        print(f"{env_id:14s} {what}")


def cmd_baseline(args: argparse.Namespace) -> None:
    result = evaluate.evaluate(args.env, None, args.episodes, seed=args.seed, num_envs=args.num_envs)
    print(f"random policy on {args.env}: {result}")
    if args.json:
        print(json.dumps({"env": args.env, "mean": result.mean, "std": result.std, "episodes": len(result.returns)}))


def cmd_bench(args: argparse.Namespace) -> None:
    import torch

    from ..shipped import catalogue
    from ..worldmodels import dream, mdnrnn

    if args.drive:
        from ..lessons import drive

        print(f"drive-the-dream frames per second (step + decode + PNG), torch threads {args.threads}:")
        for name, rate in drive.drive_rates(args.steps, args.threads).items():
            print(f"  {name}: {rate:,.0f} frames/s")
        return
    rates, clock = {}, args.clock
    per = "CPU second" if clock == "cpu" else "second"
    for env_id in args.env:
        rates[env_id] = benchmark.real_steps_per_second(env_id, args.steps, args.seed, clock)
        print(f"real {env_id}: {benchmark.format_rate(rates[env_id], clock)}")
        if env_id == "CarRacing-v3":  # the course draws its road faster (the same frames): the game as shipped too
            shipped_game = f"{env_id} as gymnasium draws it"
            rates[shipped_game] = benchmark.real_steps_per_second(env_id, args.steps, args.seed, clock, as_shipped=True)
            print(f"real {shipped_game}: {benchmark.format_rate(rates[shipped_game], clock)}")
    # the cost does not depend on the weights; the statistics are compared on the shipped CarRacing M
    model = mdnrnn.MDNRNN(mdnrnn.MDNRNNConfig(predict_reward=True, predict_done=True))
    shipped = catalogue.load_shipped_mdnrnn()
    print(f"dream (paper-size MDN-RNN, {args.dream_batch} dreams batched, {torch.get_num_threads()} torch threads), "
          f"steps per {per}, by how M computes:")
    gaps = dream.dream_statistics_gaps(shipped, args.precision, seed=args.seed)
    noise = gaps["fp32"]
    matching = {}
    for precision in args.precision:
        rate = dream.dream_steps_per_second(model, batch_size=args.dream_batch, steps=args.dream_steps,
                                            seed=args.seed, precision=precision, clock=benchmark.CLOCKS[clock])
        gap = gaps[precision]
        same = gap <= dream.SAME_DREAMS * noise
        if same:
            matching[precision] = rate
        print(f"  {precision:9s} {benchmark.format_rate(rate, clock)}; its dreams' statistics lie {gap:.3f} std "
              f"from fp32's ({'the same' if same else 'NOT the same'}: fp32's own sampling noise is {noise:.3f})")
    best = max(matching, key=matching.get)
    print(f"the fastest with the same dreams: {best}")
    for env_id, rate in rates.items():
        print(f"a real step of {env_id} costs {matching[best] / rate:,.3g} dream steps"
              + (" (by CPU time)" if clock == "cpu" else ""))


def cmd_collect(args: argparse.Namespace) -> None:
    import time

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


def cmd_train_vae(args: argparse.Namespace) -> None:
    from .. import checkpoint
    from ..real import rollouts
    from ..worldmodels import train_vae as vae_training
    from ..worldmodels import vae

    config = vae.VAEConfig(z_size=args.z, width=args.width, beta=args.beta, kl_tolerance=args.kl_tolerance,
                           lr=args.lr, batch_size=args.batch_size)
    frames = rollouts.count_frames(args.rollouts)
    print(f"{frames:,} frames in {args.rollouts}; V has "
          f"{checkpoint.count_parameters(vae.ConvVAE(config)):,} parameters")
    history = vae_training.train_vae(args.rollouts, config, args.out, epochs=args.epochs, steps=args.steps,
                                     seed=args.seed, device=args.device, threads=args.threads)
    print(f"saved {args.out}: loss {history['loss'][-1]:.1f} (reconstruction {history['reconstruction'][-1]:.1f}, "
          f"KL {history['kl'][-1]:.2f}) after {history['step'][-1]:,} steps")
    if args.ship:
        vae.save_vae(vae.load_vae(args.out), args.ship, half=True)
        print(f"saved a float16 copy for data/ at {args.ship}")


def cmd_eval_vae(args: argparse.Namespace) -> None:
    from ..experiments.carracing import eval_vae

    print(json.dumps(eval_vae(args.vae, args.rollouts, args.max_frames, device=args.device)))


def cmd_encode(args: argparse.Namespace) -> None:
    from ..worldmodels import latents, vae

    paths = latents.encode_rollouts(vae.load_vae(args.vae, device=args.device), args.rollouts, args.out)
    print(f"encoded {len(paths)} shards into {args.out}")


def cmd_train_mdnrnn(args: argparse.Namespace) -> None:
    from .. import checkpoint
    from ..worldmodels import latents, mdnrnn
    from ..worldmodels import train_mdnrnn as mdnrnn_training

    data = latents.load_encoded(args.data)
    config = mdnrnn.MDNRNNConfig(
        z_size=data.z_size, action_size=data.action_size, hidden=args.hidden, K=args.mixtures, lr=args.lr,
        grad_clip=args.grad_clip, batch_size=args.batch_size, seq_len=args.seq_len,
        predict_reward=args.predict_reward, predict_done=args.predict_done, done_weight=args.done_weight,
        reward_smoothing=args.reward_smoothing, dropout=args.dropout,
    )
    print(f"{len(data)} episodes, {data.num_steps:,} steps, z {data.z_size}, actions {data.action_size}; "
          f"M has {checkpoint.count_parameters(mdnrnn.MDNRNN(config)):,} parameters")
    _, history = mdnrnn_training.train_mdnrnn(data, config, args.out, epochs=args.epochs, seed=args.seed,
                                              device=args.device, held_out=args.held_out, resume=not args.no_resume)
    last = history[-1] if history else {}
    print(f"saved {args.out}: " + ", ".join(f"{k} {v:.4g}" for k, v in last.items()))


def cmd_evolve(args: argparse.Namespace) -> None:
    from ..experiments import carracing

    c = carracing.CarRacingConfig()
    carracing.evolve_controller(args.mdnrnn, args.encoded, args.out, args.tau, args.max_steps,
                                A.config_from_args(c.search.settings(c.seed), args))


def _check_ledger_arguments(args: argparse.Namespace, stage: str, controller_sha256: str | None = None) -> None:
    """--ledger and --setup come together, and this command's steps are not counted yet: checked before the
    episodes, so a rerun by mistake stops before it spends them."""
    from ..shipped import ledger

    if (args.ledger is None) != (args.setup is None):
        raise SettingsError(f"--ledger and --setup go together: pass both to count this run's {stage} steps in a "
                            "run ledger (for example --ledger data/carracing_ledger.json --setup dream-only), or "
                            "neither.")
    if args.ledger:
        ledger.check_new(args.ledger, args.setup, stage, args.command_line, controller_sha256)


def _models(args: argparse.Namespace) -> None:
    """Fill in --vae and --mdnrnn left out: a shipped controller's own (the catalogue), else the ones a controller
    records it was evolved with, else the run folder's (experiments.carracing.paths). Then refuse a V, M and C
    that were not made together, before any episode is played."""
    from ..experiments import carracing
    from ..shipped import catalogue
    from ..worldmodels import agent, controller

    shipped = catalogue.models_for(args.controller)
    recorded = controller.load_controller(args.controller)[2] if not shipped and Path(args.controller).exists() else {}
    run = carracing.paths(carracing.RUNS)
    if args.vae is None:
        args.vae = str(shipped[0] if shipped else recorded.get("vae") or run["vae"])
    if args.mdnrnn is None:
        args.mdnrnn = str(shipped[1] if shipped else recorded.get("mdnrnn") or run["mdnrnn"])
    agent.load_agent(args.controller, args.vae, args.mdnrnn)


def cmd_eval_agent(args: argparse.Namespace) -> None:
    import time

    from .. import artefacts
    from ..experiments.carracing import eval_agent
    from ..shipped import ledger

    path = Path(args.controller)  # the same command may score a replaced file: a new entry, told by its hash
    scored = artefacts.sha256(path) if path.is_file() else None
    _check_ledger_arguments(args, "evaluation", scored)
    if args.ledger:
        ledger.check_look(args.ledger, args.setup, args.another_look)
    elif args.another_look:
        raise SettingsError("--another-look goes with --ledger and --setup: it says that this setup's held-out score "
                            "is to be replaced by this one.")
    _models(args)
    start = time.perf_counter()
    scores = eval_agent(args.controller, args.vae, args.mdnrnn, args.episodes, seed=args.seed,
                        num_envs=args.num_envs, env_id=args.env)
    print(json.dumps(scores))
    if args.ledger:
        ledger.add(args.ledger, ledger.evaluation_entry(args.setup, scores, args.seed, args.num_envs,
                                                        args.command_line, round(time.perf_counter() - start, 1),
                                                        env_id=args.env, controller_sha256=scored))
        print(f"counted {scores['real_steps']:,} real evaluation steps for setup {args.setup} in {args.ledger}")


def cmd_evolve_real(args: argparse.Namespace) -> None:
    import time
    from dataclasses import asdict

    import numpy as np

    from ..shipped import ledger
    from ..worldmodels import controller, real_es

    _check_ledger_arguments(args, "refinement")
    validation_seed = real_es.VALIDATION_SEED if args.select_seed is None else args.select_seed
    if args.ledger and args.select:
        ledger.check_new(args.ledger, args.setup, "selection", args.command_line)
        ledger.check_fresh_tracks(args.ledger, args.setup, list(range(validation_seed, validation_seed + args.select)))
    _models(args)
    start, config, _ = controller.load_controller(args.controller)
    if args.from_scratch:  # real CMA-ES from scratch, the control: only the controller's shape is taken
        start = np.zeros_like(start)
    origin = f"zeros shaped like {args.controller}" if args.from_scratch else args.controller
    settings = A.config_from_args(real_es.RealESConfig(), args)
    run_dir = Path(args.out).with_suffix(".real_es")
    print(f"CMA-ES in real {real_es.ENV_ID} from {origin}: population {settings.population} x {settings.rollouts} "
          f"real episodes a generation, {args.backend} backend; run kept in {run_dir} (rerun the command to resume)")
    chosen = _backend(args)
    cpu = time.process_time()
    mean, history = real_es.evolve_real(start, config, args.vae, args.mdnrnn, run_dir, settings, chosen)
    cpu = time.process_time() - cpu
    selection, kept = None, {}
    if args.select:
        selection = real_es.select_generation(run_dir, config, args.select, chosen, settings.max_steps,
                                               args.select_every, validation_seed, args.select_since)
        mean = selection["params"]
        kept = {"selection": {k: v for k, v in selection.items() if k != "params"}}
        for row in selection["generations"]:
            print(f"generation {row['generation']:>4}: {row['mean']:7.1f} ± {row['std']:5.1f} on {args.select} "
                  "validation tracks" + ("   <- kept" if row["generation"] == selection["chosen"] else ""))
    controller.save_controller(args.out, mean, config, history=history, start=origin, vae=args.vae,
                               mdnrnn=args.mdnrnn, settings=asdict(settings), **kept)
    results = {"controller": args.out, "start": origin, "vae": args.vae, "mdnrnn": args.mdnrnn,
               "backend": args.backend, "settings": asdict(settings), "history": history,
               "total_real_steps": history[-1]["total_real_steps"] if history else 0, **kept}
    Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    last = history[-1]
    measured = [h for h in history if h["real_steps_per_s"]]
    print(f"saved {args.out} and {Path(args.out).with_suffix('.json')}: generation {last['generation']}, real score "
          f"best {last['best']:.1f}, mean {last['mean']:.1f}; {last['total_real_steps']:,} real steps in all")
    if measured:
        _print_rate(args, sum(h["real_steps"] for h in measured), sum(h["seconds"] for h in measured), cpu)
    if args.ledger:
        counted = ledger.counted_generations(args.ledger, args.setup, origin, history)
        if counted < len(history):  # a resumed run: only the generations no earlier entry counted
            entry = ledger.refinement_entry(args.setup, history, origin, args.command_line, counted)
            ledger.add(args.ledger, entry)
            print(f"counted {entry.real_steps:,} real refinement steps for setup {args.setup} in {args.ledger}")
        else:
            print(f"{args.ledger} already counts all {counted} generations of this run for setup {args.setup}")
        if selection:
            ledger.add(args.ledger, ledger.selection_entry(args.setup, selection, str(run_dir), args.command_line))
            print(f"counted {selection['real_steps']:,} real selection steps for setup {args.setup} in {args.ledger}")


def cmd_tau_sweep(args: argparse.Namespace) -> None:
    from ..experiments import tau_sweep

    config = A.config_from_args(tau_sweep.TauSweepConfig(), args)
    sweep = tau_sweep.run_tau_sweep(args.vae, args.mdnrnn, args.encoded, args.out, config)
    print(f"wrote {args.out}: {len(sweep['rows'])} temperatures")


def cmd_pipeline(args: argparse.Namespace) -> None:
    from ..experiments import carracing as carracing_experiment

    config = A.config_from_args(_overlaid(carracing_experiment, carracing_experiment.CarRacingConfig(), args), args)
    report = carracing_experiment.run(args.runs, config, stop_after=args.stop_after)
    print((Path(args.runs) / "report.md").read_text() if report["stages"] else "nothing to do")


def cmd_figures(args: argparse.Namespace) -> None:
    from ..lessons import figures

    if args.list:
        for spec in figures.select(args.only):
            print(f"{spec.name:24s} notebook {spec.notebook}, cell '{spec.cell}'"
                  + ("  (optional)" if spec.optional else ""))
        return
    report = figures.write_figures(args.out, args.only, dpi=args.dpi)
    print(f"{len(report['written'])} figures in {args.out}" + (f", {len(report['skipped'])} optional ones skipped"
                                                              if report["skipped"] else ""))
    if report["failed"]:
        raise CourseError("these figures could not be drawn:\n" + "\n".join(f"  {name}: {why}"
                                                                           for name, why in report["failed"]))


def cmd_dreamer(args: argparse.Namespace) -> None:
    import os

    from ..dreamer import agent as dreamer
    from ..experiments import dreamer as dreamer_experiment

    config = A.config_from_args(dreamer.DreamerConfig(env_id=args.env), args)
    results, paths = dreamer_experiment.run(config, args.out, args.run_dir, resume=not args.no_resume)
    print(f"final real score {results['final']['mean']:.1f} +- {results['final']['std']:.1f} over "
          f"{results['final']['episodes']} episodes; {results['train_seconds']:.0f} s "
          f"({results['train_cpu_seconds']:.0f} s CPU); wrote {', '.join(os.fspath(p) for p in paths)}")


def cmd_cartpole(args: argparse.Namespace) -> None:
    from ..experiments import cartpole as ce
    from ..experiments import cartpole_seeds

    config = A.config_from_args(_overlaid(ce, ce.ExperimentConfig(), args), args)
    if args.seeds:
        cartpole_seeds.run_rows(args.seeds, args.run_dir, config)
        if args.rows_only:
            return
        runs = cartpole_seeds.collect_runs(args.seeds, args.run_dir, config)
        summary = cartpole_seeds.write_over_seeds(runs, args.out, args.run_dir, record=not args.no_record)
        print(ce.format_seeds_table(summary))
        print(f"wrote {args.out}")
        return
    results = ce.run_experiment(config, out=args.out, record=not args.no_record)
    print(ce.format_table(results))
    print(f"wrote {args.out} and its checkpoints beside it ({results['seconds']:.0f} s)")


def cmd_takecover(args: argparse.Namespace) -> None:
    from ..experiments import takecover

    config = A.config_from_args(_overlaid(takecover, takecover.TakeCoverConfig(), args), args)
    if not args.ship_only:
        results = takecover.run(args.out, config)
        for row in results["rows"]:
            print(f"tau {row['tau']:g}: dream {row['dream_mean']:.0f} +- {row['dream_std']:.0f}, "
                  f"real {row['real_mean']:.0f} +- {row['real_std']:.0f} over {row['real_episodes']} episodes")
        for row in results.get("rounds", []):
            print(f"round {row['round']} (+{row['real_steps_collected']:,} real steps): tau {row['tau']:g}: dream "
                  f"{row['dream_mean']:.0f} +- {row['dream_std']:.0f}, "
                  f"real {row['real_mean']:.0f} +- {row['real_std']:.0f}")
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
