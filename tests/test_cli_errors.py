"""Every command of `python -m wmcourse` answers a bad value with one line saying what was expected, exit status 2,
and no traceback: counts of zero or below, unknown environments, policies and devices, missing paths, a folder
where a file belongs, a file of the wrong kind.

Every case runs in-process (main() returns the status; seconds in all); one case per command also runs as a real
`python -m wmcourse` subprocess, so the exit status and the absence of a traceback are checked end to end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from wmcourse.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
TEXT = "README.md"  # a file of the wrong kind: text where a checkpoint or a folder belongs
MISSING = "no/such/file.pt"
MISSING_DIR = "no/such/folder"
VAE, MDNRNN, CONTROLLER = "data/vae_carracing_z32.pt", "data/mdnrnn_carracing.pt", "data/controller_carracing.npz"

# (command line, a word the one-line message must contain); DIR stands for an existing folder
CASES = [
    (["envs", "--verbose"], "unrecognized arguments"),
    (["baseline", "--episodes", "-3"], "at least 1"),
    (["baseline", "--episodes", "0"], "at least 1"),
    (["baseline", "--episodes", "many"], "whole number"),
    (["baseline", "--env", "Pong-v5"], "CartPole-v1"),
    (["baseline", "--env", "cartpole-v1"], "Did you mean"),
    (["baseline", "--num-envs", "0"], "at least 1"),
    (["baseline", "--seed", "-1"], "seed"),
    (["bench", "--steps", "0"], "at least 1"),
    (["bench", "--env", "CartPole-v1", "Pong-v5"], "Pong-v5"),
    (["bench", "--dream-batch", "-1"], "at least 1"),
    (["bench", "--precision", "fp16"], "invalid choice"),
    (["bench", "--clock", "gpu"], "invalid choice"),
    (["collect", "--episodes", "-3"], "at least 1"),
    (["collect", "--policy", "fly"], "invalid choice"),
    (["collect", "--env", "Pong-v5"], "CarRacing-v3"),
    (["collect", "--max-steps", "0"], "at least 1"),
    (["collect", "--out", TEXT], "expected a folder"),
    (["train-vae", "--rollouts", MISSING_DIR], "collect"),
    (["train-vae", "--rollouts", TEXT], "expected a folder"),
    (["train-vae", "--rollouts", "DIR"], "No rollouts"),
    (["train-vae", "--epochs", "0"], "at least 1"),
    (["train-vae", "--z", "0"], "at least 1"),
    (["train-vae", "--lr", "-1"], "above 0"),
    (["train-vae", "--beta", "-1"], "at least 0"),
    (["train-vae", "--device", "tpu"], "expected auto, cpu"),
    (["train-vae", "--out", "DIR"], "is a folder"),
    (["eval-vae", "--vae", MISSING], "No VAE checkpoint"),
    (["eval-vae", "--vae", TEXT], "not a .pt file"),
    (["eval-vae", "--vae", "DIR"], "is a folder"),
    (["eval-vae", "--vae", MDNRNN], "so it holds no VAE"),
    (["eval-vae", "--vae", "NPZ.pt"], "not a .pt file"),  # a zip, but numpy's
    (["eval-vae", "--vae", VAE, "--rollouts", MISSING_DIR], "collect"),
    (["eval-vae", "--max-frames", "0"], "at least 1"),
    (["encode", "--vae", MISSING], "No VAE checkpoint"),
    (["encode", "--vae", TEXT], "not a .pt file"),
    (["encode", "--vae", VAE, "--rollouts", MISSING_DIR], "collect"),
    (["train-mdnrnn", "--data", MISSING_DIR], "encode"),
    (["train-mdnrnn", "--data", TEXT], "not a .npz file"),
    (["train-mdnrnn", "--data", CONTROLLER], "lacks the arrays"),
    (["train-mdnrnn", "--data", "DIR"], "No encoded episodes"),
    (["train-mdnrnn", "--epochs", "0"], "at least 1"),
    (["train-mdnrnn", "--held-out", "1.5"], "below 1"),
    (["train-mdnrnn", "--mixtures", "0"], "at least 1"),
    (["evolve", "--mdnrnn", MISSING], "No MDN-RNN checkpoint"),
    (["evolve", "--mdnrnn", TEXT], "not a .pt file"),
    (["evolve", "--mdnrnn", VAE], "so it holds no MDN-RNN"),
    (["evolve", "--mdnrnn", MDNRNN, "--encoded", MISSING_DIR], "encode"),
    (["evolve", "--mdnrnn", MDNRNN, "--encoded", "data/carracing_heldout"], "lacks the arrays"),  # frames, not codes
    (["evolve", "--population", "1"], "at least 2"),
    (["evolve", "--tau", "0"], "above 0"),
    (["eval-agent", "--controller", MISSING], "No controller"),
    (["eval-agent", "--controller", TEXT], "not a .npz file"),
    (["eval-agent", "--vae", CONTROLLER], "not a .pt file"),
    (["eval-agent", "--env", "Pong-v5"], "CarRacing-v3"),
    (["eval-agent", "--controller", "data/cartpole_c_random.npz", "--vae", VAE, "--mdnrnn", MDNRNN], "was not evolved"),
    (["eval-agent", "--controller", CONTROLLER, "--vae", "data/vae_takecover_z64.pt", "--mdnrnn", MDNRNN],
     "were not trained together"),
    (["eval-agent", "--episodes", "0"], "at least 1"),
    (["eval-agent", "--setup", "second", "--ledger", "ledger.json"], "invalid choice"),
    (["eval-agent", "--ledger", "DIR", "--setup", "refined"], "is a folder"),
    (["eval-agent", "--ledger", TEXT, "--setup", "refined"], "not a run ledger"),
    (["eval-agent", "--setup", "dream-only"], "--ledger and --setup go together"),
    (["evolve-real", "--controller", MISSING], "No controller"),
    (["evolve-real", "--controller", "data/cartpole_c_random.npz", "--vae", VAE, "--mdnrnn", MDNRNN,
      "--out", "DIR/c.npz"],
     "was not evolved"),
    (["evolve-real", "--controller", CONTROLLER, "--mdnrnn", "data/mdnrnn_takecover.pt", "--out", "DIR/c.npz"],
     "were not trained together"),
    (["evolve-real", "--population", "1"], "at least 2"),
    (["evolve-real", "--workers", "0"], "at least 1"),
    (["evolve-real", "--backend", "dask"], "invalid choice"),
    (["collect", "--address", "auto"], "--backend ray"),
    (["tau-sweep", "--taus", "1.0", "0"], "above 0"),
    (["tau-sweep", "--vae", MISSING, "--mdnrnn", MISSING], "checkpoint"),
    (["tau-sweep", "--generations", "0"], "at least 1"),
    (["tau-sweep", "--population", "0"], "at least 2"),
    (["pipeline", "chess"], "invalid choice"),
    (["pipeline", "carracing", "--episodes", "0"], "at least 1"),
    (["pipeline", "carracing", "--runs", TEXT], "expected a folder"),
    (["figures", "--only", "nosuch"], "Unknown figure"),
    (["figures", "--dpi", "0"], "at least 1"),
    (["figures", "--out", TEXT], "expected a folder"),
    (["dreamer", "--steps", "0"], "at least 1"),
    (["dreamer", "--env", "Pong-v5"], "CartPole-v1"),
    (["dreamer", "--env", "CarRacing-v3"], "invalid choice"),  # the minimal Dreamer reads state vectors
    (["dreamer", "--gamma", "2"], "at most 1"),
    (["dreamer", "--out", "DIR"], "is a folder"),
    (["cartpole", "--out", "DIR"], "is a folder"),
    (["cartpole", "--seed", "-1"], "seed"),
    (["cartpole", "--seeds", "0", "-2"], "seed"),
    (["takecover", "--episodes", "0"], "at least 1"),
    (["takecover", "--real-episodes", "-5"], "at least 1"),
    (["takecover", "--out", TEXT], "folder"),
    (["takecover", "--controller-seeds", "-1"], "seed"),
    (["takecover", "--select", "0"], "at least 1"),
    (["takecover", "--policy", "greedy"], "invalid choice"),
    (["takecover", "--out", "DIR", "--rounds", "1", "--taus", "0.5"], "round_tau"),
    (["get-notebooks", TEXT], "expected a folder"),
]


def _argv(argv: list[str], folder: Path) -> list[str]:
    """DIR: an existing folder; NPZ.pt: numpy's zip under torch's suffix."""
    (folder / "NPZ.pt").write_bytes((ROOT / CONTROLLER).read_bytes())
    return [str(folder) if a == "DIR" else str(folder / a) if a == "NPZ.pt" else a for a in argv]


def test_every_command_is_covered():
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert commands == {argv[0] for argv, _ in CASES}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("argv, expected", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_bad_value_is_one_line_and_exit_status_2(argv, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status = main(_argv(argv, tmp_path))
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert status == 2, (status, out, err)
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert expected in lines[0], lines[0]
    assert "Traceback" not in out + err


# as real processes (the in-process test above covers every command, and each start costs seconds of imports):
# an argparse error, and a course error raised by a run's settings
REAL_PROCESS = [(["evolve-real", "--backend", "dask"], "invalid choice"),
                (["takecover", "--out", "DIR", "--rounds", "1", "--taus", "0.5"], "round_tau")]


@pytest.mark.timeout(300)
def test_commands_fail_cleanly_as_real_processes(tmp_path):
    assert all(case in CASES for case in REAL_PROCESS)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}

    def run(argv: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "wmcourse", *_argv(argv, tmp_path)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(max_workers=2) as pool:  # each start is mostly importing torch: use both cores
        results = list(pool.map(run, [argv for argv, _ in REAL_PROCESS]))
    for (argv, expected), done in zip(REAL_PROCESS, results):
        command = "python -m wmcourse " + " ".join(argv)
        assert done.returncode == 2, f"{command}: exit status {done.returncode}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stdout + done.stderr, f"{command}:\n{done.stderr[-2000:]}"
        assert len(done.stderr.strip().splitlines()) == 1 and expected in done.stderr, f"{command}:\n{done.stderr}"




def test_every_deliberate_raise_is_a_course_error():
    """`python -m wmcourse` answers a CourseError with one line: so every error the package raises on purpose is
    one (argparse's own errors and a user's Ctrl-C aside)."""
    import ast
    import inspect

    from wmcourse import errors

    course = {name for name, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.CourseError)}
    # AttributeError: what a module's __getattr__ must raise for a name it does not have (Python's protocol)
    allowed = course | {"LabError", "_Error", "argparse.ArgumentTypeError", "KeyboardInterrupt", "NotImplementedError",
                        "AttributeError"}
    found = []
    for path in sorted((ROOT / "wmcourse").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                raised = ast.unparse(node.exc.func if isinstance(node.exc, ast.Call) else node.exc)
                if raised not in allowed:
                    found.append(f"{name}:{node.lineno} raises {raised}")
    assert not found, found
