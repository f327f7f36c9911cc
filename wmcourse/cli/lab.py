"""Start JupyterLab on the course: the one way `make lab` and the browser tests start it.

`python -m wmcourse.cli.lab` (what `make lab` runs) installs the course's JupyterLab settings into this Python's
environment (no news toast, no update check, no extension manager), starts JupyterLab on the course's folder
(the notebooks and the docs they link, so a link to ../docs/glossary.md opens), as root too, opens notebook 00 in a
browser when there is a display, and otherwise prints the address with its token and how to reach it from another
computer (an SSH tunnel). Ctrl+C stops it and its kernels.

Tests start it with `start_lab`, `wait_until_ready` and `stop_lab` (see the `course_in_browser` fixture in
tests/conftest.py).
Only the standard library is imported here, so the launcher starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import CourseError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
# JupyterLab serves the course's folder, not only notebooks/: the notebooks link ../docs/glossary.md and friends
START_NOTEBOOK = "notebooks/00_motivation.ipynb"
SETTINGS = Path(__file__).resolve().parent / "lab_settings"
DEFAULT_PORT = 8888
DEFAULT_IP = "127.0.0.1"
# where JupyterLab reads them: the overrides of the environment's app settings folder (a learner's own
# overrides.json stays untouched), and the environment's server config folder
SETTINGS_TARGETS = {"overrides.json": ("share", "jupyter", "lab", "settings", "overrides.d", "wmcourse.json"),
                    "jupyter_server_config.json": ("etc", "jupyter", "jupyter_server_config.d", "wmcourse.json")}


class LabError(CourseError):
    """JupyterLab could not be started or did not answer."""


@dataclass(frozen=True)
class LabServer:
    """A JupyterLab process started by `start_lab`, and how to reach it."""

    process: subprocess.Popen
    base_url: str  # http://IP:PORT
    token: str
    start_path: str  # the page to open first, e.g. /lab/tree/notebooks/00_motivation.ipynb

    def url(self, path: str | None = None) -> str:
        """The address of `path` (default: the start page) with the token that logs the browser in."""
        return f"{self.base_url}{path or self.start_path}?token={self.token}"


def install_settings(prefix: Path | str = sys.prefix) -> list[Path]:
    """Copy the course's JupyterLab settings into the environment at `prefix`; return the files written.

    Runs on every start (and in `make install`), so `jupyter lab` typed inside the environment has them too.
    """
    written = []
    for name, parts in SETTINGS_TARGETS.items():
        source, target = SETTINGS / name, Path(prefix).joinpath(*parts)
        if target.exists() and target.read_bytes() == source.read_bytes():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    return written


def has_display(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    """Whether a browser opened here would be seen: always on macOS and Windows, else with an X or Wayland display."""
    if platform == "darwin" or platform.startswith("win"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def pick_port(preferred: int = DEFAULT_PORT, ip: str = DEFAULT_IP) -> int:
    """`preferred` if it is free on `ip`, else a free port the system chooses."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind((ip, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise LabError(f"no free port on {ip}: pass another address with --ip")


def lab_command(root_dir: Path | str, port: int, ip: str = DEFAULT_IP, open_browser: bool = False,
                start_path: str = f"/lab/tree/{START_NOTEBOOK}", is_root: bool | None = None) -> list[str]:
    """The `jupyter lab` command line: the port exactly (no retries, so the printed address is right), as root too."""
    is_root = (os.geteuid() == 0) if is_root is None else is_root
    return ([sys.executable, "-m", "jupyterlab", f"--ip={ip}", f"--port={port}", "--ServerApp.port_retries=0",
             f"--ServerApp.root_dir={root_dir}", f"--LabApp.default_url={start_path}"]
            + ([] if open_browser else ["--no-browser"])
            # Jupyter refuses root unless told; containers and cloud notebooks run everything as root
            + (["--allow-root"] if is_root else []))


def start_lab(root_dir: Path | str = ROOT, start_file: str = START_NOTEBOOK, port: int = DEFAULT_PORT,
              ip: str = DEFAULT_IP, open_browser: bool = False, env: Mapping[str, str] | None = None,
              extra_args: Sequence[str] = (), log: IO | None = None, token: str | None = None) -> LabServer:
    """Start JupyterLab serving `root_dir` in its own process session; return at once (see `wait_until_ready`).

    `env` adds to this process's environment (the kernels inherit it); `log` receives JupyterLab's messages
    (default: this terminal). `port` is taken if free, else any free port.
    """
    if importlib.util.find_spec("jupyterlab") is None:
        raise LabError(f"JupyterLab is not installed in {sys.prefix}: run `make install` (or pip install -r "
                       "requirements.txt)")
    root_dir = Path(root_dir).resolve()
    if not (root_dir / start_file).is_file():
        raise LabError(f"{root_dir / start_file} not found: expected the course's notebooks (run `make notebooks`)")
    try:
        install_settings()
    except OSError as exc:  # a read-only environment: JupyterLab still runs, with its own defaults
        print(f"note: the course's JupyterLab settings could not be installed into {sys.prefix} ({exc})",
              file=sys.stderr)
    port = pick_port(port, ip)
    token = token or secrets.token_hex(24)
    start_path = f"/lab/tree/{start_file}"
    command = lab_command(root_dir, port, ip, open_browser, start_path) + list(extra_args)
    # the token through the environment keeps it out of the process list
    process = subprocess.Popen(command, cwd=root_dir, env={**os.environ, **(env or {}), "JUPYTER_TOKEN": token},
                               stdout=log, stderr=subprocess.STDOUT if log else None, start_new_session=True)
    host = "127.0.0.1" if ip in ("0.0.0.0", "", "*") else ip
    return LabServer(process, f"http://{host}:{port}", token, start_path)


def wait_until_ready(server: LabServer, timeout: float = 120) -> None:
    """Return once the server answers its status API; raise LabError if it exits or stays silent."""
    request = urllib.request.Request(f"{server.base_url}/api/status",
                                     headers={"Authorization": f"token {server.token}"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LabError(f"JupyterLab exited with status {server.process.returncode} before it answered: "
                           "see its messages above")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    raise LabError(f"JupyterLab did not answer at {server.base_url} within {timeout:.0f} s")


def stop_lab(server: LabServer, timeout: float = 20) -> None:
    """Stop JupyterLab (it shuts its kernels down), then anything left in its process session."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its own session only (start_new_session): a stray kernel
    except (ProcessLookupError, PermissionError):
        pass


def access_message(server: LabServer, opened: bool, environ: Mapping[str, str] = os.environ) -> str:
    """What to tell the learner once the server answers: the address, and without a display how to reach it."""
    url = server.url()
    if opened:
        return f"\nThe course is open in your browser. If it is not, open:\n    {url}\nStop JupyterLab with Ctrl+C.\n"
    port = server.base_url.rsplit(":", 1)[1]
    # SSH_CONNECTION is "client_ip client_port server_ip server_port" in an SSH session
    host = environ.get("SSH_CONNECTION", "").split()[2:3] or ["THIS_MACHINE"]
    user = environ.get("USER") or environ.get("LOGNAME") or "you"
    return (f"\nNo display here, so no browser was opened. Open this address in a browser on this machine:\n"
            f"    {url}\n"
            f"From another computer, first forward the port over SSH (leave it running), then open the same address:\n"
            f"    ssh -N -L {port}:127.0.0.1:{port} {user}@{host[0]}\n"
            f"Stop JupyterLab with Ctrl+C.\n")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wmcourse.cli.lab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="taken if free, else any free port")
    parser.add_argument("--ip", default=DEFAULT_IP, help="address to listen on (0.0.0.0: every interface, e.g. "
                                                         "in a container with a published port)")
    parser.add_argument("--no-browser", action="store_true", help="only print the address")
    parser.add_argument("--install-settings", action="store_true",
                        help=f"only install the course's JupyterLab settings into {sys.prefix} (make install does)")
    args = parser.parse_args(argv)
    if args.install_settings:
        for path in install_settings():
            print(f"wrote {path}")
        return 0
    opened = has_display() and not args.no_browser
    try:
        server = start_lab(port=args.port, ip=args.ip, open_browser=opened)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # the server runs in its own session (so Ctrl+C does not reach it and ask to confirm): stop it ourselves.
    # SIGINT too: a launcher started in the background of a script inherits Ctrl+C as ignored, and would leave
    # JupyterLab running
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        wait_until_ready(server)
        print(access_message(server, opened), flush=True)
        return server.process.wait()
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping JupyterLab", flush=True)
        return 0
    finally:
        stop_lab(server)


if __name__ == "__main__":
    sys.exit(main())
