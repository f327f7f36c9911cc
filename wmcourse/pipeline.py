"""The whole World Models pipeline from nothing, one stage after another, each timed and resumable.

    collect -> train-vae -> encode -> train-mdnrnn -> evolve (CMA-ES in the dream) -> eval-agent (real)

Every stage is a `python -m wmcourse` command that skips or resumes the work already done, so running the
pipeline again after an interruption continues where it stopped. The report (report.json and report.md in
the run folder) lists each stage's command and wall time, and the final real score.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm


@dataclass(frozen=True)
class PipelineConfig:
    """Sized for a 2-core CPU within about 3 hours; the paper's sizes are in the comments."""

    episodes: int = 64  # paper: 10,000
    num_envs: int = 2
    policy: str = "mix"
    vae_epochs: int = 3  # paper: 10 on 10,000 rollouts
    mdnrnn_epochs: int = 100  # paper: 20 epochs of 10,000 episodes; here about as many optimizer steps
    mdnrnn_seq_len: int = 200  # paper: whole 1000-step episodes, 100 a batch; with 64 episodes shorter windows
    mdnrnn_batch: int = 32  # give enough optimizer steps per epoch
    generations: int = 100  # paper's appendix: 1,800 (CarRacing, in the real env)
    population: int = 64
    rollouts: int = 16
    tau: float = 1.0
    eval_episodes: int = 100
    seed: int = 0


def stages(runs: Path, c: PipelineConfig) -> list[tuple[str, list[str]]]:
    """The stages as (name, command-line arguments of `python -m wmcourse`)."""
    r = str(runs)
    return [
        ("collect", ["collect", "--env", "CarRacing-v3", "--episodes", str(c.episodes), "--episodes-per-shard", "16",
                     "--num-envs", str(c.num_envs), "--policy", c.policy, "--seed", str(c.seed), "--out", f"{r}/rollouts"]),
        ("train-vae", ["train-vae", "--rollouts", f"{r}/rollouts", "--z", "32", "--epochs", str(c.vae_epochs),
                       "--seed", str(c.seed), "--out", f"{r}/vae_z32.pt"]),
        ("encode", ["encode", "--vae", f"{r}/vae_z32.pt", "--rollouts", f"{r}/rollouts", "--out", f"{r}/encoded"]),
        ("train-mdnrnn", ["train-mdnrnn", "--data", f"{r}/encoded", "--out", f"{r}/mdnrnn.pt", "--epochs",
                          str(c.mdnrnn_epochs), "--seq-len", str(c.mdnrnn_seq_len), "--batch-size", str(c.mdnrnn_batch),
                          "--predict-reward", "--predict-done", "--seed", str(c.seed)]),
        ("evolve", ["evolve", "--mdnrnn", f"{r}/mdnrnn.pt", "--encoded", f"{r}/encoded", "--out", f"{r}/controller.npz",
                    "--tau", str(c.tau), "--generations", str(c.generations), "--population", str(c.population),
                    "--rollouts", str(c.rollouts), "--seed", str(c.seed)]),
        ("eval-agent", ["eval-agent", "--controller", f"{r}/controller.npz", "--vae", f"{r}/vae_z32.pt",
                        "--mdnrnn", f"{r}/mdnrnn.pt", "--episodes", str(c.eval_episodes), "--num-envs", str(c.num_envs)]),
    ]


def run_pipeline(runs: Path, config: PipelineConfig = PipelineConfig(), stop_after: str | None = None) -> dict:
    """Run the stages in order (up to `stop_after`), print their output, and write the report."""
    from .cli import main  # the stages are the command line's own commands

    runs.mkdir(parents=True, exist_ok=True)
    report = {"config": asdict(config), "stages": []}
    for name, argv in tqdm(stages(runs, config), desc="pipeline", unit="stage"):
        start = time.perf_counter()
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            code = main(argv)
        print(output.getvalue(), end="")
        stage = {"stage": name, "command": "python -m wmcourse " + shlex.join(argv),
                 "seconds": round(time.perf_counter() - start, 1)}
        if name == "eval-agent" and code == 0:
            stage["result"] = json.loads(output.getvalue().strip().splitlines()[-1])
        report["stages"].append(stage)
        _write_report(runs, report)
        if code != 0:
            raise SystemExit(f"stage {name} failed: see its message above")
        if name == stop_after:
            break
    return report


def _write_report(runs: Path, report: dict) -> None:
    (runs / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    lines = ["# World Models pipeline report", "", "| stage | wall time | command |", "|---|---|---|"]
    for s in report["stages"]:
        lines.append(f"| {s['stage']} | {s['seconds'] / 60:.1f} min | `{s['command']}` |")
    total = sum(s["seconds"] for s in report["stages"])
    lines += ["", f"Total: {total / 60:.1f} min."]
    for s in report["stages"]:
        if "result" in s:
            r = s["result"]
            lines.append(f"Real score of the dream-trained controller: {r['mean']:.1f} +- {r['std']:.1f} "
                         f"over {r['episodes']} episodes.")
    (runs / "report.md").write_text("\n".join(lines) + "\n")
