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
    for env_id in args.env:
        print(f"{env_id}: {benchmark.format_rate(benchmark.real_steps_per_second(env_id, args.steps, args.seed))}")


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

    p = sub.add_parser("bench", help="measure real environment steps per second")
    p.add_argument("--env", nargs="+", default=["CarRacing-v3", "CartPole-v1"])
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
