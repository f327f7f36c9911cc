"""Shipped artefacts in data/: find them, record how they were made, and check they are intact.

data/manifest.json lists every shipped file with its sha256, size, the command that made it, the seed,
the date and the figures measured on it, so every number a notebook shows can be traced and remade.

Where the course's folders are (`course_dir`): installed from a wheel, the package carries data/, the notebooks
and docs/ inside itself (wmcourse/_course/, copied there by setup.py's build step) and finds them through
importlib.resources; in a clone of the repository (an editable install, or PYTHONPATH) they are the clone's own
data/, notebooks/ and docs/. Training and collection write elsewhere: to runs/ under the working directory.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.resources
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import CommandFailedError, CorruptArtefactError, MissingArtefactError, SettingsError

MANIFEST_NAME = "manifest.json"
PACKAGED = "_course"  # in a wheel: wmcourse/_course/data, .../notebooks (the .ipynb) and .../docs
COURSE_FOLDERS = ("data", "notebooks", "docs")


def packaged_dir(name: str) -> Path | None:
    """The course folder `name` (data, notebooks or docs) inside the installed package, found through
    importlib.resources; None when the package carries none (a clone of the repository)."""
    if name not in COURSE_FOLDERS:
        raise SettingsError(f"{name!r} is not one of the course's folders {COURSE_FOLDERS}")
    resource = importlib.resources.files(__package__) / PACKAGED / name
    return Path(str(resource)) if resource.is_dir() else None


def course_dir(name: str) -> Path:
    """The course folder `name` (data, notebooks or docs): the one the installed wheel carries, else the
    repository's own (a clone, installed with `pip install -e .` or put on PYTHONPATH)."""
    return packaged_dir(name) or repo_root() / name


def is_checkout() -> bool:
    """True when the package runs from a clone of the repository (its scripts/ and Makefile beside it)."""
    root = repo_root()
    return (root / "scripts").is_dir() and (root / "Makefile").is_file() and packaged_dir("data") is None


def data_dir() -> Path:
    """The folder of shipped artefacts: $WMCOURSE_DATA if set, else the data/ the installed wheel carries, else
    the repository's data/."""
    override = os.environ.get("WMCOURSE_DATA")
    return Path(override) if override else course_dir("data")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(folder: Path | None = None) -> dict[str, dict[str, Any]]:
    """The manifest's entries, by file name (empty when there is no manifest yet)."""
    path = (folder or data_dir()) / MANIFEST_NAME
    if not path.exists():
        return {}
    return json.loads(path.read_text())["artefacts"]


def require(name: str, make_command: str, folder: Path | None = None) -> Path:
    """The path of a shipped artefact, checked against its manifest entry (size, then sha256) before anything
    reads it; a missing, truncated or altered file raises an error that names the file and how to restore or
    remake it."""
    folder = folder or data_dir()
    path = folder / name
    entry = load_manifest(folder).get(name, {})
    command = entry.get("command", make_command)
    if not path.exists():
        raise MissingArtefactError(
            f"The artefact {name!r} is not in {folder}. Make it with:\n    {command}\n"
            f"(or restore it: {_restore_hint('data/')})."
        )
    if entry:
        check_intact(path, entry, command)
    return path


def frames_in(description: str) -> int:
    """63598 from a manifest's description of rollouts, "4 shards, 63,598 frames" (one frame a real step)."""
    found = re.search(r"([\d,]+) frames", description)
    if found is None:
        raise CorruptArtefactError(f"Expected a count of frames (\"4 shards, 63,598 frames\") in {description!r}.")
    return int(found.group(1).replace(",", ""))


def check_intact(path: Path, entry: dict[str, Any], command: str) -> None:
    """Raise CorruptArtefactError unless the file has the size and sha256 its manifest entry recorded."""
    stat = path.stat()
    if stat.st_size != entry["bytes"]:
        problem = "truncated" if stat.st_size < entry["bytes"] else "longer than recorded"
        found = f"{stat.st_size:,} bytes where the manifest recorded {entry['bytes']:,}"
    elif _cached_sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns) != entry["sha256"]:
        problem, found = "altered", "its sha256 differs from the manifest's"
    else:
        return
    raise CorruptArtefactError(
        f"The artefact {path.name!r} ({path}) is {problem}: {found}. Restore the shipped file "
        f"({_restore_hint(str(path))}), or remake it with:\n    {command}"
    )


def _restore_hint(path: str) -> str:
    """How to get the shipped files back: from git in a clone, by reinstalling the wheel otherwise."""
    if packaged_dir("data") is not None:
        return "reinstall the course's wheel: pip install --force-reinstall --no-deps wmcourse-*.whl"
    return f"`git checkout -- {path}` from the repository root"


@lru_cache(maxsize=256)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a file, computed once per (path, size, modification time): notebooks load the same files often."""
    return sha256(Path(path))


def record(path: Path, command: str, seed: int | None, figures: dict[str, Any], folder: Path | None = None,
           **details: Any) -> dict[str, Any]:
    """Add or replace a file's entry in the manifest of `folder` (default data/, which must contain the file):
    hash, size, command, seed, date and the figures measured on it."""
    path = Path(path).resolve()
    folder = (folder or data_dir()).resolve()
    if not path.is_relative_to(folder):
        raise SettingsError(f"{path} is not inside {folder}: copy it into the artefact folder before recording it.")
    entries = load_manifest(folder)
    entry = {
        "sha256": sha256(path),
        "bytes": path.stat().st_size,
        "command": command,
        "seed": seed,
        "date": _dt.date.today().isoformat(),
        "figures": figures,
        **details,
    }
    entries[path.relative_to(folder).as_posix()] = entry
    (folder / MANIFEST_NAME).write_text(json.dumps({"artefacts": dict(sorted(entries.items()))}, indent=2) + "\n")
    return entry


def verify(folder: Path | None = None) -> list[str]:
    """Problems with the shipped artefacts: files missing, unlisted or changed since they were recorded."""
    folder = folder or data_dir()
    entries = load_manifest(folder)
    problems = []
    for name, entry in entries.items():
        path = folder / name
        if not path.exists():
            problems.append(f"{name} is in the manifest but not in {folder}.")
        elif sha256(path) != entry["sha256"]:
            problems.append(f"{name} changed since it was recorded: remake it with `{entry['command']}`.")
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name not in entries and path.name not in (MANIFEST_NAME, "README.md", "collection.json"):
            problems.append(f"{name} is in {folder} but not in the manifest: record it with wmcourse.artefacts.record.")
    return problems


def repo_root() -> Path:
    """The folder that holds the package: in a clone, the repository's root (where scripts/ and the Makefile
    are); installed from a wheel, site-packages (see is_checkout)."""
    return Path(__file__).resolve().parent.parent


def run_command(command: str) -> None:
    """Run a shell command, showing its output (progress bars too) as it comes; the command's `python` is this
    Python. For a notebook's RETRAIN flag. In a clone it runs from the repository's root. Installed from a wheel it
    runs from the working directory (runs/ there is the learner's own), and a command that remakes data/ or needs
    the repository's scripts/ is refused with what to do instead. Raises if the command fails."""
    import subprocess
    import sys

    checkout = is_checkout()
    if not checkout and ("scripts/" in command or re.search(r"(^|[\s=])data(/|\s|$)", command)):
        raise MissingArtefactError(
            f"`{command}` remakes the shipped artefacts in the repository's data/ (with its scripts/), which the "
            "installed package only reads: clone the course's repository, run `make lab` there and retrain from "
            "the clone. Commands that write to runs/ work from here."
        )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    print(f"$ {command}", flush=True)
    with subprocess.Popen(command, shell=True, cwd=repo_root() if checkout else Path.cwd(), env=env,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT) as process:
        for chunk in iter(lambda: process.stdout.read1(4096), b""):
            sys.stdout.write(chunk.decode(errors="replace"))
            sys.stdout.flush()
    if process.returncode:
        raise CommandFailedError(f"`{command}` failed with exit status {process.returncode} (its output is above).")
