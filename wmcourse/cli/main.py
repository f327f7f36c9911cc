"""The command line: `python -m wmcourse STAGE ...` runs each stage of the pipeline. See --help."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from ..errors import CourseError, UnknownEnvironmentError
from ..real import envs
from ..worldmodels.dream import PRECISIONS
from . import arguments as A
from . import commands as C


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


def _add_ledger_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ledger", type=A.output_file, default=None,
                   help="count the real steps in this run ledger (wmcourse.shipped.ledger), "
                        "for example data/carracing_ledger.json")
    from ..shipped.ledger import SETUPS

    p.add_argument("--setup", default=None, choices=list(SETUPS),
                   help="with --ledger: the setup they count for (" + "; ".join(f"{k}: {v}" for k, v in SETUPS.items())
                        + ")")


def _add_backend_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default="local", choices=["local", "ray"],
                   help="local: this machine's processes; ray: Ray tasks (pip install -e .[cluster])")
    p.add_argument("--workers", type=A.positive_int, default=None,
                   help="local: worker processes (default 1, in this process); ray: CPUs of a local Ray instance")
    p.add_argument("--address", default=None,
                   help="ray: an existing cluster ('auto' on a node of it, or ray://HOST:10001); "
                        "default: start a local one")


def _add_fast_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fast", action="store_true", help="the experiment's \"fast\" overlay: a tiny run of the same code "
                                                       "paths (seconds, numbers meaningless); options given win")


def build_parser() -> argparse.ArgumentParser:
    """Every command and option. The defaults of the CarRacing stages (paths and settings) come from
    wmcourse.experiments.carracing (`paths`, `CarRacingConfig`), so `train-vae`, `encode`, `train-mdnrnn`, `evolve`
    and `eval-agent` chain without flags, each reading what the one before wrote."""
    from ..experiments import carracing

    run, cr = carracing.paths(carracing.RUNS), carracing.CarRacingConfig()
    parser = _Parser(prog="python -m wmcourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("envs", help="list the environments the course supports")
    p.set_defaults(run=C.cmd_envs)

    p = sub.add_parser("baseline", help="score a random policy in the real environment")
    p.add_argument("--env", type=_env_id, default="CartPole-v1")
    p.add_argument("--episodes", type=A.positive_int, default=100)
    p.add_argument("--num-envs", type=A.positive_int, default=2)
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument("--json", action="store_true", help="also print the result as JSON")
    p.set_defaults(run=C.cmd_baseline)

    p = sub.add_parser("bench", help="measure real environment steps and batched dream steps per second, "
                                     "and their ratio")
    p.add_argument("--env", type=_env_id, nargs="+", default=["CarRacing-v3", "CartPole-v1"])
    p.add_argument("--steps", type=A.positive_int, default=500)
    p.add_argument("--dream-batch", type=A.positive_int, default=1024,
                   help="dreams stepped together (a CMA-ES population x rollouts)")
    p.add_argument("--dream-steps", type=A.positive_int, default=100)
    p.add_argument("--precision", nargs="+", choices=PRECISIONS, default=list(PRECISIONS),
                   help="how M computes in the dream: fp32 as trained, bf16 (a bfloat16 copy), compiled "
                        "(torch.compile); each is timed and its dreams compared with fp32's")
    p.add_argument("--drive", action="store_true", help="instead: the frame rate of driving the dream yourself "
                                                        "(notebooks 06 and 07), with the shipped models")
    p.add_argument("--threads", type=A.positive_int, default=1,
                   help="torch threads for --drive (1: as the widget runs)")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall: seconds on the clock; cpu: this process's CPU seconds, all threads (on a shared "
                        "machine, what a step costs rather than how much of the machine it got; with several torch "
                        "threads, their waiting counts too: compare with one, e.g. OMP_NUM_THREADS=1)")
    p.add_argument("--seed", type=A.seed, default=0)
    p.set_defaults(run=C.cmd_bench)

    p = sub.add_parser("collect", help="play a policy in the real environment and store the episodes (resumable)")
    p.add_argument("--env", type=_env_id, default="CarRacing-v3")
    p.add_argument("--episodes", type=A.positive_int, default=100, help="the paper used 10,000")
    p.add_argument("--out", type=A.folder, default=None,
                   help="default runs/ENV/rollouts; rerun the same command to resume")
    p.add_argument("--num-envs", type=A.positive_int, default=2, help="environment copies stepped together")
    p.add_argument("--policy", default="auto", choices=["auto", "random", "walk", "hold", "pilot", "mix"],
                   help="auto: walk for CarRacing, random for CartPole, hold for Take Cover; mix: pilot and walk "
                        "shards alternate (see wmcourse.real.rollouts)")
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument("--max-steps", type=A.positive_int, default=None, help="cut episodes at this length (quick tests)")
    p.add_argument("--episodes-per-shard", type=A.positive_int, default=None)
    _add_backend_arguments(p)
    p.set_defaults(run=C.cmd_collect)

    from ..worldmodels.vae import VAEConfig  # the paper's values, as defaults

    v = VAEConfig()
    p = sub.add_parser("train-vae", help="train the VAE (V) on collected frames (resumable)")
    p.add_argument("--rollouts", type=A.folder, default=str(run["rollouts"]))
    p.add_argument("--out", type=A.output_file, default=str(run["vae"]),
                   help="checkpoint with optimizer state; rerun to resume")
    p.add_argument("--z", type=A.positive_int, default=v.z_size)
    p.add_argument("--width", type=A.positive_float, default=v.width,
                   help="channel multiplier (0.5: a quarter of the parameters)")
    p.add_argument("--beta", type=A.non_negative_float, default=v.beta)
    p.add_argument("--kl-tolerance", type=A.non_negative_float, default=v.kl_tolerance,
                   help="free bits: nats per latent dimension")
    p.add_argument("--lr", type=A.positive_float, default=v.lr)
    p.add_argument("--batch-size", type=A.positive_int, default=v.batch_size)
    p.add_argument("--epochs", type=A.positive_int, default=cr.vae_epochs)
    p.add_argument("--steps", type=A.positive_int, default=None, help="optimizer steps (overrides --epochs)")
    p.add_argument("--seed", type=A.seed, default=cr.seed)
    p.add_argument("--device", type=A.device, default="auto", help="auto (a CUDA GPU when there is one), cpu or cuda")
    p.add_argument("--threads", type=A.positive_int, default=None,
                   help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--ship", type=A.output_file, default=None,
                   help="also write a float16 copy of the weights here (for data/)")
    p.set_defaults(run=C.cmd_train_vae)

    p = sub.add_parser("eval-vae", help="held-out reconstruction error (MSE per pixel) "
                                        "and KL of a trained VAE, as JSON")
    p.add_argument("--vae", type=A.archive(".pt"), default=str(run["vae"]))
    p.add_argument("--rollouts", type=A.folder, default=str(run["heldout"]), help="held-out frames (the shipped ones: "
                   "data/carracing_heldout)")
    p.add_argument("--max-frames", type=A.positive_int, default=None)
    p.add_argument("--device", type=A.device, default="auto")
    p.set_defaults(run=C.cmd_eval_vae)

    p = sub.add_parser("encode", help="encode rollouts with a trained VAE into the data M trains on")
    p.add_argument("--vae", type=A.archive(".pt"), default=str(run["vae"]))
    p.add_argument("--rollouts", type=A.folder, default=str(run["rollouts"]))
    p.add_argument("--out", type=A.folder, default=str(run["encoded"]))
    p.add_argument("--device", type=A.device, default="auto")
    p.set_defaults(run=C.cmd_encode)

    m = carracing.mdnrnn_config(cr)  # the paper's M, with the course's windows, batches and heads
    p = sub.add_parser("train-mdnrnn", help="train the MDN-RNN (M) on encoded episodes "
                                            "(see wmcourse.worldmodels.latents)")
    p.add_argument("--data", type=A.folder_or_archive, default=str(run["encoded"]),
                   help="an .npz of encoded episodes, or a folder of them")
    p.add_argument("--out", type=A.output_file, default=str(run["mdnrnn"]),
                   help="checkpoint written each epoch; rerun to resume")
    p.add_argument("--epochs", type=A.positive_int, default=cr.mdnrnn_epochs)
    p.add_argument("--seed", type=A.seed, default=cr.seed)
    p.add_argument("--device", type=A.device, default="auto", help="auto (a CUDA GPU when there is one), cpu or cuda")
    p.add_argument("--hidden", type=A.positive_int, default=m.hidden)
    p.add_argument("--mixtures", type=A.positive_int, default=m.K, help="Gaussians per latent dimension")
    p.add_argument("--lr", type=A.positive_float, default=m.lr)
    p.add_argument("--grad-clip", type=A.positive_float, default=m.grad_clip)
    p.add_argument("--batch-size", type=A.positive_int, default=m.batch_size)
    p.add_argument("--seq-len", type=A.positive_int, default=m.seq_len)
    p.add_argument("--predict-reward", action=argparse.BooleanOptionalAction, default=m.predict_reward)
    p.add_argument("--predict-done", action=argparse.BooleanOptionalAction, default=m.predict_done,
                   help="a done head (a dream needs one to end)")
    p.add_argument("--done-weight", type=A.non_negative_float, default=m.done_weight, help="weight of done = 1 steps")
    p.add_argument("--reward-smoothing", type=A.positive_int, default=m.reward_smoothing,
                   help="reward target: mean of the next k rewards (1: raw)")
    p.add_argument("--dropout", type=A.fraction, default=m.dropout,
                   help="drop M's inputs and what its heads read with this probability, one mask per sequence "
                        "(and per dream: a variant of Dropout's Dream Land)")
    p.add_argument("--held-out", type=A.fraction, default=0.05, help="fraction of episodes kept for evaluation")
    p.add_argument("--no-resume", action="store_true", help="start over even if --out exists")
    p.set_defaults(run=C.cmd_train_mdnrnn)

    p = sub.add_parser("evolve", help="evolve the controller with CMA-ES inside the dream (resumable)")
    p.add_argument("--mdnrnn", type=A.archive(".pt"), default=str(run["mdnrnn"]))
    p.add_argument("--encoded", type=A.folder_or_archive, default=str(run["encoded"]),
                   help="encoded episodes: their first frames start the dreams")
    p.add_argument("--out", type=A.output_file, default=str(run["controller"]))
    p.add_argument("--tau", type=A.positive_float, default=cr.tau)
    p.add_argument("--max-steps", type=A.positive_int, default=cr.dream_steps)
    A.add_config_options(p, cr.search.settings(cr.seed), helps={"rollouts": "dreams per candidate"})
    p.set_defaults(run=C.cmd_evolve)

    models = ("default: a shipped controller's own (the catalogue), else the one the controller was evolved with, "
              "else the run folder's")
    p = sub.add_parser("eval-agent", help="score a controller with its V and M in the real environment")
    p.add_argument("--controller", type=A.archive(".npz"), default=str(run["controller"]))
    p.add_argument("--vae", type=A.archive(".pt"), default=None, help=models)
    p.add_argument("--mdnrnn", type=A.archive(".pt"), default=None, help=models)
    p.add_argument("--env", type=_env_id, default=carracing.ENV_ID)
    p.add_argument("--episodes", type=A.positive_int, default=cr.eval_episodes)
    p.add_argument("--num-envs", type=A.positive_int, default=cr.num_envs)
    p.add_argument("--seed", type=A.seed, default=cr.eval_seed,
                   help="track seeds: keep them apart from the training data's")
    _add_ledger_arguments(p)
    p.add_argument("--another-look", action="store_true",
                   help="with --ledger: score a setup the held-out tracks already scored; this score replaces the "
                        "earlier one, higher or lower (a setup reports its last look)")
    p.set_defaults(run=C.cmd_eval_agent)

    from ..worldmodels.real_es import RealESConfig

    p = sub.add_parser("evolve-real", help="CMA-ES with every candidate scored in the REAL environment, "
                                           "from a starting controller (the paper's recipe; resumable; "
                                           "--backend ray for a cluster)")
    p.add_argument("--controller", type=A.archive(".npz"), default="data/controller_carracing_round2.npz",
                   help="where the search starts")
    p.add_argument("--from-scratch", action="store_true",
                   help="start from zeros (the paper's start) and take only the shape of --controller")
    p.add_argument("--vae", type=A.archive(".pt"), default=None, help=models)
    p.add_argument("--mdnrnn", type=A.archive(".pt"), default=None, help=models)
    p.add_argument("--out", type=A.output_file, default=str(run["real_es"]),
                   help="the controller (the search mean); a .json with every generation's scores and real steps "
                        "beside it; the run's state in a .real_es folder beside it")
    A.add_config_options(p, RealESConfig(), helps={"generations": "the paper: about 1,800",
                                                   "rollouts": "real episodes per candidate, every generation"})
    p.add_argument("--select", type=A.positive_int, default=None, metavar="TRACKS",
                   help="after the run, keep the search mean (or the start) with the best mean return on TRACKS "
                        "validation tracks (seeds 6,000,000 on, or --select-seed), instead of the last one; with "
                        "--ledger its steps count as selection")
    p.add_argument("--select-every", type=A.positive_int, default=1, metavar="K",
                   help="with --select: validate the start, every K-th generation's mean and the last one "
                        "(K times fewer validation episodes)")
    p.add_argument("--select-since", type=A.generation, default=0, metavar="G",
                   help="with --select: validate every K-th generation from generation G on (default 0)")
    p.add_argument("--select-seed", type=A.seed, default=None, metavar="SEED",
                   help="with --select: the first validation track's seed (default 6,000,000); a fresh range "
                        "when these tracks have already chosen once")
    _add_backend_arguments(p)
    _add_ledger_arguments(p)
    p.set_defaults(run=C.cmd_evolve_real)

    from ..experiments.tau_sweep import TauSweepConfig

    p = sub.add_parser("tau-sweep", help="evolve a controller in the dream at each temperature; "
                                         "score it in dream and reality")
    p.add_argument("--vae", type=A.archive(".pt"), default=str(run["vae"]))
    p.add_argument("--mdnrnn", type=A.archive(".pt"), default=str(run["mdnrnn"]))
    p.add_argument("--encoded", type=A.folder_or_archive, default=str(run["encoded"]),
                   help="encoded episodes: their first frames start the dreams")
    p.add_argument("--out", type=A.output_file, default=str(run["tau_sweep"]),
                   help="the table (controllers go beside it)")
    A.add_config_options(p, TauSweepConfig(), helps={"rollouts": "dreams per candidate while evolving",
                                                     "dream_episodes": "dreams that score the final controller",
                                                     "real_episodes": "real episodes that score it"})
    p.set_defaults(run=C.cmd_tau_sweep)

    p = sub.add_parser("pipeline", help="the CarRacing experiment from nothing (wmcourse.experiments.carracing): "
                                        "collect, the Vs, M, C in the dream, real scores, the tau sweep, the "
                                        "iterative rounds (resumable)")
    p.add_argument("task", choices=["carracing"])
    p.add_argument("--runs", type=A.folder, default=carracing.RUNS, help="where everything is written; rerun to resume")
    A.add_config_options(p, cr, types={"round_noise": A.non_negative_float},
                         choices={"policy": ["random", "walk", "hold", "pilot", "mix"]})
    p.add_argument("--stop-after", default=None, choices=carracing.STAGES,
                   help="stop after this stage (the rounds come last)")
    _add_fast_argument(p)
    p.set_defaults(run=C.cmd_pipeline)

    from ..experiments.takecover import TakeCoverConfig

    p = sub.add_parser("takecover", help="the paper's own dream: VizDoom Take Cover, V, M, C evolved in the dream at "
                                         "each temperature, scored in 100 real episodes (resumable)")
    p.add_argument("--out", type=A.folder, default="runs/TakeCover",
                   help="where everything is written; rerun to resume")
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
    _add_fast_argument(p)
    p.add_argument("--ship", type=A.folder, default=None,
                   help="afterwards copy the small results into this folder (data) with manifest entries")
    p.add_argument("--ship-only", action="store_true", help="only ship a finished run")
    p.add_argument("--controller-seeds", type=A.seed, nargs="+", default=None,
                   help="afterwards evolve more tau = 1.15 controllers from the same V and M, one per CMA-ES seed "
                        "(not the run's --seed), each scored like a table row")
    p.add_argument("--select", type=A.positive_int, default=None, metavar="EPISODES",
                   help="afterwards keep the round (0: the table's) whose tau = round_tau controller lives longest "
                        "over EPISODES held-out real episodes, and score it on real_episodes fresh ones")
    p.set_defaults(run=C.cmd_takecover)

    p = sub.add_parser("figures", help="draw the slides' figures (PNG) from the shipped artefacts, as the notebooks do")
    p.add_argument("--out", type=A.folder, default="slides/figures")
    p.add_argument("--only", nargs="+", default=None, help="figure names or notebook numbers (00, 01, ...)")
    p.add_argument("--dpi", type=A.positive_int, default=110)
    p.add_argument("--list", action="store_true", help="list the figures and the notebook cell each comes from")
    p.set_defaults(run=C.cmd_figures)

    from ..dreamer.agent import DreamerConfig
    from ..experiments import dreamer as dreamer_experiment

    p = sub.add_parser("dreamer", help="train the minimal Dreamer agent (notebook 08) and write its learning curve")
    p.add_argument("--env", type=_env_id, default="CartPole-v1", choices=["CartPole-v1"],
                   help="the minimal Dreamer reads state vectors: CartPole-v1 only")
    p.add_argument("--out", type=A.output_file, default=dreamer_experiment.OUT,
                   help="results JSON (the agent goes beside it as .pt); "
                        "inside data/ both are recorded in the manifest")
    p.add_argument("--run-dir", type=A.folder, default=None,
                   help="checkpoints (default runs/dreamer/ENV-seedN); rerun to resume")
    A.add_config_options(p, DreamerConfig(), only=("steps", "seed", "train_every", "gamma", "eval_every"),
                         types={"gamma": A.discount}, helps={
                             "steps": "real environment steps", "train_every": "real steps per update",
                             "gamma": "discount (DreamerV3: 0.997)",
                             "eval_every": "real steps between points of the learning curve"})
    p.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    p.set_defaults(run=C.cmd_dreamer)

    from ..experiments.cartpole import ExperimentConfig

    p = sub.add_parser("cartpole", help="notebook 07: the CartPole World Model that fails on random data, its fixes, "
                                        "and DQN on the same real budget (the measured table)")
    p.add_argument("--out", type=A.output_file, default="data/cartpole_results.json",
                   help="the table; checkpoints are written beside it")
    A.add_config_options(p, ExperimentConfig(), only=("seed",))
    p.add_argument("--seeds", type=A.seed, nargs="+", default=None,
                   help="run the table once per seed (each in RUN_DIR/seedN/, skipped when already there) and write "
                        "the table over seeds to --out")
    p.add_argument("--run-dir", default="runs/cartpole", help="with --seeds: where each seed's rows go")
    p.add_argument("--rows-only", action="store_true",
                   help="with --seeds: only run the missing rows (several processes may share one sweep)")
    _add_fast_argument(p)
    p.add_argument("--no-record", action="store_true", help="do not add the files to data/manifest.json")
    p.set_defaults(run=C.cmd_cartpole)

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
