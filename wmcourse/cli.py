"""The command line: `python -m wmcourse STAGE ...` runs each stage of the pipeline. See --help."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import benchmark, envs, evaluate
from .errors import CourseError


def _cmd_envs(args: argparse.Namespace) -> None:
    for env_id, what in envs.SUPPORTED_ENVS.items():
        print(f"{env_id:14s} {what}")


def _cmd_baseline(args: argparse.Namespace) -> None:
    result = evaluate.evaluate(args.env, None, args.episodes, seed=args.seed, num_envs=args.num_envs)
    print(f"random policy on {args.env}: {result}")
    if args.json:
        print(json.dumps({"env": args.env, "mean": result.mean, "std": result.std, "episodes": len(result.returns)}))


def _cmd_bench(args: argparse.Namespace) -> None:
    from . import mdnrnn

    rates = {}
    for env_id in args.env:
        rates[env_id] = benchmark.real_steps_per_second(env_id, args.steps, args.seed)
        print(f"real {env_id}: {benchmark.format_rate(rates[env_id])}")
    model = mdnrnn.MDNRNN(mdnrnn.MDNRNNConfig(predict_reward=True, predict_done=True))  # the cost does not depend on the weights
    dream = mdnrnn.dream_steps_per_second(model, batch_size=args.dream_batch, steps=args.dream_steps, seed=args.seed)
    print(f"dream (paper-size MDN-RNN, {args.dream_batch} dreams batched): {benchmark.format_rate(dream)}")
    for env_id, rate in rates.items():
        print(f"a real {env_id} step costs {dream / rate:,.3g} dream steps")


def _cmd_collect(args: argparse.Namespace) -> None:
    from . import rollouts

    out = args.out or f"runs/{args.env}/rollouts"
    paths = rollouts.collect(args.env, args.episodes, out, num_envs=args.num_envs, policy=args.policy, seed=args.seed,
                             episodes_per_shard=args.episodes_per_shard, max_steps=args.max_steps)
    returns, lengths = rollouts.episode_returns(out)
    print(f"{len(returns)} episodes in {len(paths)} shards in {out}: {lengths.sum():,} steps, "
          f"length {lengths.mean():.0f}, return {returns.mean():.1f} +- {returns.std():.1f}")


def _cmd_train_vae(args: argparse.Namespace) -> None:
    from . import rollouts, vae

    config = vae.VAEConfig(z_size=args.z, width=args.width, beta=args.beta, kl_tolerance=args.kl_tolerance,
                           lr=args.lr, batch_size=args.batch_size)
    frames = rollouts.count_frames(args.rollouts)
    print(f"{frames:,} frames in {args.rollouts}; V has {vae.count_parameters(vae.ConvVAE(config)):,} parameters")
    history = vae.train_vae(args.rollouts, config, args.out, epochs=args.epochs, steps=args.steps, seed=args.seed,
                            device=args.device, threads=args.threads)
    print(f"saved {args.out}: loss {history['loss'][-1]:.1f} (reconstruction {history['reconstruction'][-1]:.1f}, "
          f"KL {history['kl'][-1]:.2f}) after {history['step'][-1]:,} steps")
    if args.ship:
        vae.save_vae(vae.load_vae(args.out), args.ship, half=True)
        print(f"saved a float16 copy for data/ at {args.ship}")


def _cmd_eval_vae(args: argparse.Namespace) -> None:
    from . import rollouts, vae

    model = vae.load_vae(args.vae, device=args.device)
    frames = rollouts.load_frames(args.rollouts, max_frames=args.max_frames)
    result = {"vae": args.vae, "frames": len(frames), "z_size": model.config.z_size, "beta": model.config.beta,
              "parameters": vae.count_parameters(model), "mse_per_pixel": vae.evaluate_reconstruction(model, frames),
              "kl_nats_per_frame": vae.mean_kl(model, frames)}
    print(json.dumps(result))


def _cmd_encode(args: argparse.Namespace) -> None:
    from . import vae

    paths = vae.encode_rollouts(vae.load_vae(args.vae, device=args.device), args.rollouts, args.out)
    print(f"encoded {len(paths)} shards into {args.out}")


def _cmd_train_mdnrnn(args: argparse.Namespace) -> None:
    from . import mdnrnn

    data = mdnrnn.load_encoded(args.data)
    config = mdnrnn.MDNRNNConfig(
        z_size=data.z_size, action_size=data.action_size, hidden=args.hidden, K=args.mixtures, lr=args.lr,
        grad_clip=args.grad_clip, batch_size=args.batch_size, seq_len=args.seq_len,
        predict_reward=args.predict_reward, predict_done=args.predict_done, done_weight=args.done_weight,
    )
    print(f"{len(data)} episodes, {data.num_steps:,} steps, z {data.z_size}, actions {data.action_size}; "
          f"M has {mdnrnn.parameter_count(mdnrnn.MDNRNN(config)):,} parameters")
    _, history = mdnrnn.train_mdnrnn(data, config, args.out, epochs=args.epochs, seed=args.seed, device=args.device,
                                     held_out=args.held_out, resume=not args.no_resume)
    last = history[-1] if history else {}
    print(f"saved {args.out}: " + ", ".join(f"{k} {v:.4g}" for k, v in last.items()))


def _cmd_evolve(args: argparse.Namespace) -> None:
    import torch

    from . import agent, controller, dream, evolve, mdnrnn

    model = mdnrnn.load_mdnrnn(args.mdnrnn)
    starts = agent.start_latents(mdnrnn.load_encoded(args.encoded))
    c = model.config
    config = controller.ControllerConfig(input_size=c.z_size + c.hidden, action_size=c.action_size)
    generator = torch.Generator().manual_seed(args.seed)
    world = dream.BatchedDream(model, starts, tau=args.tau, max_steps=args.max_steps, generator=generator)
    settings = evolve.EvolveConfig(population=args.population, rollouts=args.rollouts, sigma_init=args.sigma_init,
                                   generations=args.generations, seed=args.seed)

    def score(candidates):
        return dream.population_returns(world, torch.as_tensor(candidates, dtype=torch.float32), config,
                                        args.rollouts).numpy()

    print(f"evolving {config.n_params} parameters in the dream of {args.mdnrnn} (tau {args.tau}), "
          f"{len(starts)} real start frames")
    result = evolve.evolve(score, config.n_params, settings, checkpoint=args.out + ".es.pkl")
    controller.save_controller(args.out, result.best_params, config, history=result.history, tau=args.tau,
                               mdnrnn=args.mdnrnn)
    last = result.history[-1]
    print(f"saved {args.out}: generation {last['generation']}, dream score best {last['best']:.1f}, "
          f"mean {last['mean']:.1f}")


def _cmd_eval_agent(args: argparse.Namespace) -> None:
    from . import agent, controller, mdnrnn, vae

    params, config, _ = controller.load_controller(args.controller)
    wm = agent.WorldModelAgent(vae.load_vae(args.vae), mdnrnn.load_mdnrnn(args.mdnrnn), params, config)
    result = evaluate.evaluate(args.env, wm, args.episodes, seed=args.seed, num_envs=args.num_envs)
    print(f"{args.controller} in real {args.env}: {result}")
    print(json.dumps({"controller": args.controller, "mean": result.mean, "std": result.std,
                      "episodes": len(result.returns), "returns": result.returns.round(2).tolist()}))


def _cmd_pipeline(args: argparse.Namespace) -> None:
    from pathlib import Path

    from . import pipeline

    fields = {k: getattr(args, k) for k in ("episodes", "num_envs", "vae_epochs", "generations", "eval_episodes", "seed")
              if getattr(args, k) is not None}
    report = pipeline.run_pipeline(Path(args.runs), pipeline.PipelineConfig(**fields), stop_after=args.stop_after)
    print((Path(args.runs) / "report.md").read_text() if report["stages"] else "nothing to do")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wmcourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("envs", help="list the environments the course supports")
    p.set_defaults(run=_cmd_envs)

    p = sub.add_parser("baseline", help="score a random policy in the real environment")
    p.add_argument("--env", default="CartPole-v1")
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--num-envs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="also print the result as JSON")
    p.set_defaults(run=_cmd_baseline)

    p = sub.add_parser("bench", help="measure real environment steps and batched dream steps per second, and their ratio")
    p.add_argument("--env", nargs="+", default=["CarRacing-v3", "CartPole-v1"])
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--dream-batch", type=int, default=1024, help="dreams stepped together (a CMA-ES population x rollouts)")
    p.add_argument("--dream-steps", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_cmd_bench)

    p = sub.add_parser("collect", help="play a policy in the real environment and store the episodes (resumable)")
    p.add_argument("--env", default="CarRacing-v3")
    p.add_argument("--episodes", type=int, default=100, help="the paper used 10,000")
    p.add_argument("--out", default=None, help="default runs/ENV/rollouts; rerun the same command to resume")
    p.add_argument("--num-envs", type=int, default=2, help="environment copies stepped together")
    p.add_argument("--policy", default="auto", choices=["auto", "random", "walk", "pilot", "mix"],
                   help="auto: walk for CarRacing, random for CartPole; mix: pilot and walk shards alternate (see wmcourse.rollouts)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=None, help="cut episodes at this length (quick tests)")
    p.add_argument("--episodes-per-shard", type=int, default=None)
    p.set_defaults(run=_cmd_collect)

    from .vae import VAEConfig  # the paper's values, as defaults

    v = VAEConfig()
    p = sub.add_parser("train-vae", help="train the VAE (V) on collected frames (resumable)")
    p.add_argument("--rollouts", default="runs/CarRacing-v3/rollouts")
    p.add_argument("--out", default="runs/CarRacing-v3/vae.pt", help="checkpoint with optimizer state; rerun to resume")
    p.add_argument("--z", type=int, default=v.z_size)
    p.add_argument("--width", type=float, default=v.width, help="channel multiplier (0.5: a quarter of the parameters)")
    p.add_argument("--beta", type=float, default=v.beta)
    p.add_argument("--kl-tolerance", type=float, default=v.kl_tolerance, help="free bits: nats per latent dimension")
    p.add_argument("--lr", type=float, default=v.lr)
    p.add_argument("--batch-size", type=int, default=v.batch_size)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--steps", type=int, default=None, help="optimizer steps (overrides --epochs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (a CUDA GPU when there is one), cpu or cuda")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--ship", default=None, help="also write a float16 copy of the weights here (for data/)")
    p.set_defaults(run=_cmd_train_vae)

    p = sub.add_parser("eval-vae", help="held-out reconstruction error (MSE per pixel) and KL of a trained VAE, as JSON")
    p.add_argument("--vae", default="data/vae_carracing_z32.pt")
    p.add_argument("--rollouts", default="data/carracing_heldout")
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--device", default="auto")
    p.set_defaults(run=_cmd_eval_vae)

    p = sub.add_parser("encode", help="encode rollouts with a trained VAE into the data M trains on")
    p.add_argument("--vae", default="runs/CarRacing-v3/vae.pt")
    p.add_argument("--rollouts", default="runs/CarRacing-v3/rollouts")
    p.add_argument("--out", default="runs/CarRacing-v3/encoded")
    p.add_argument("--device", default="auto")
    p.set_defaults(run=_cmd_encode)

    from .mdnrnn import MDNRNNConfig  # the paper's values, as defaults

    m = MDNRNNConfig()
    p = sub.add_parser("train-mdnrnn", help="train the MDN-RNN (M) on encoded episodes (see wmcourse.mdnrnn)")
    p.add_argument("--data", default="runs/CarRacing-v3/encoded", help="an .npz of encoded episodes, or a folder of them")
    p.add_argument("--out", default="runs/CarRacing-v3/mdnrnn.pt", help="checkpoint written each epoch; rerun to resume")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (a CUDA GPU when there is one), cpu or cuda")
    p.add_argument("--hidden", type=int, default=m.hidden)
    p.add_argument("--mixtures", type=int, default=m.K, help="Gaussians per latent dimension")
    p.add_argument("--lr", type=float, default=m.lr)
    p.add_argument("--grad-clip", type=float, default=m.grad_clip)
    p.add_argument("--batch-size", type=int, default=m.batch_size)
    p.add_argument("--seq-len", type=int, default=m.seq_len)
    p.add_argument("--predict-reward", action="store_true")
    p.add_argument("--predict-done", action="store_true")
    p.add_argument("--done-weight", type=float, default=m.done_weight, help="weight of done = 1 steps")
    p.add_argument("--held-out", type=float, default=0.05, help="fraction of episodes kept for evaluation")
    p.add_argument("--no-resume", action="store_true", help="start over even if --out exists")
    p.set_defaults(run=_cmd_train_mdnrnn)

    p = sub.add_parser("evolve", help="evolve the controller with CMA-ES inside the dream (resumable)")
    p.add_argument("--mdnrnn", default="runs/CarRacing-v3/mdnrnn.pt")
    p.add_argument("--encoded", default="runs/CarRacing-v3/encoded", help="encoded episodes: their first frames start the dreams")
    p.add_argument("--out", default="runs/CarRacing-v3/controller.npz")
    p.add_argument("--tau", type=float, default=1.0)
    p.add_argument("--generations", type=int, default=200)
    p.add_argument("--population", type=int, default=64)
    p.add_argument("--rollouts", type=int, default=16)
    p.add_argument("--sigma-init", type=float, default=0.1)
    p.add_argument("--max-steps", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_cmd_evolve)

    p = sub.add_parser("eval-agent", help="score a controller with its V and M in the real environment")
    p.add_argument("--controller", default="runs/CarRacing-v3/controller.npz")
    p.add_argument("--vae", default="runs/CarRacing-v3/vae_z32.pt")
    p.add_argument("--mdnrnn", default="runs/CarRacing-v3/mdnrnn.pt")
    p.add_argument("--env", default="CarRacing-v3")
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--num-envs", type=int, default=2)
    p.add_argument("--seed", type=int, default=1000, help="track seeds: keep them apart from the training data's")
    p.set_defaults(run=_cmd_eval_agent)

    p = sub.add_parser("pipeline", help="run every stage from nothing: collect, V, M, C in the dream, real evaluation")
    p.add_argument("task", choices=["carracing"])
    p.add_argument("--runs", default="runs/CarRacing-v3", help="where everything is written; rerun to resume")
    p.add_argument("--episodes", type=int, default=None)
    p.add_argument("--num-envs", type=int, default=None)
    p.add_argument("--vae-epochs", type=int, default=None)
    p.add_argument("--generations", type=int, default=None)
    p.add_argument("--eval-episodes", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--stop-after", default=None, choices=["collect", "train-vae", "encode", "train-mdnrnn", "evolve"])
    p.set_defaults(run=_cmd_pipeline)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
