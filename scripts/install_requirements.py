"""Install pinned requirement files into this Python's environment with uv, from where pip would install them.

    .venv/bin/python scripts/install_requirements.py requirements.txt [requirements-cluster.txt ...]
    .venv/bin/python scripts/install_requirements.py --editable .      (the course itself, without its dependencies)

`make install` runs it. uv (pinned in requirements.txt) installs the same pinned packages as pip does, about eight
times faster (the course's requirements into a new environment: 9 s against 74 s for pip on a 2-core machine), so
CI's fresh install stays short. uv does not read pip's settings, so they are handed over: pip's index and extra
indexes, find-links folders, constraint files and certificate (`pip config list` and PIP_* variables) become uv's
UV_* variables, with pip's rule of taking the best version across all indexes. When uv cannot install (no wheel
for this machine, an index it cannot read), pip installs instead, as before.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

# pip's setting (config key and PIP_ variable) -> uv's variable
SETTINGS = {
    "index-url": "UV_DEFAULT_INDEX",
    "extra-index-url": "UV_INDEX",
    "find-links": "UV_FIND_LINKS",
    "constraint": "UV_CONSTRAINT",
    "cert": "SSL_CERT_FILE",
}


def pip_settings() -> dict[str, str]:
    """pip's settings as pip itself resolves its files (`pip config list`), overridden by PIP_* variables."""
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    found = {}
    for line in listed.splitlines():
        match = re.match(r"^[^.]*\.([a-z-]+)='(.*)'$", line.strip())
        if match and match.group(1) in SETTINGS:
            found[match.group(1)] = match.group(2)
    for key in SETTINGS:
        value = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        if value:
            found[key] = value
    return found


def uv_environment(settings: dict[str, str]) -> dict[str, str]:
    """The environment that makes uv install from pip's indexes, folders and constraints."""
    env = dict(os.environ, UV_INDEX_STRATEGY="unsafe-best-match", UV_HTTP_TIMEOUT="180", UV_NO_PROGRESS="1")
    for key, value in settings.items():
        env[SETTINGS[key]] = " ".join(shlex.split(value))
    return env


def uv_pin(requirements: Path) -> str:
    """The uv release pinned in requirements.txt."""
    for line in requirements.read_text().splitlines():
        if line.startswith("uv=="):
            return line.strip()
    raise SystemExit(f"{requirements} pins no uv release (a line uv==X.Y.Z): add one, or install with pip")


def main(args: list[str]) -> int:
    """Install requirement files, or with --editable PATH the project at PATH in editable mode and without its
    dependencies (pip took 9 s to build the editable wheel, uv 3 s)."""
    if not args:
        raise SystemExit(__doc__)
    if args[0] == "--editable" and len(args) != 2:
        raise SystemExit("--editable takes one path, the project's folder: install_requirements.py --editable .")
    what = ["--no-deps", "-e", args[1]] if args[0] == "--editable" else [a for name in args for a in ("-r", name)]
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    if importlib.util.find_spec("uv") is None:
        subprocess.run([*pip, uv_pin(Path(__file__).resolve().parent.parent / "requirements.txt")], check=True)
    uv = [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", sys.executable]
    if subprocess.run([*uv, *what], env=uv_environment(pip_settings())).returncode == 0:
        return 0
    print("uv could not install; pip installs instead", file=sys.stderr)
    return subprocess.run([*pip, *what]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
