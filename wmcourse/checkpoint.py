"""Checkpoints: one way to write a file atomically, save a model with its config, and resume safely.

Every trainer in the course (V, M, Dreamer, CMA-ES, the CartPole and Take Cover experiments) writes through
these functions, so every checkpoint has the same guarantees:

- atomic: the file is written beside its final name and renamed into place, so a run killed mid-write
  leaves the previous checkpoint, never half of a new one;
- tagged: a `format` string says which code wrote it, and loading another kind of file is a clear error;
- checked on resume: a run resumed with other settings stops and names the settings that differ,
  instead of silently mixing two experiments.
"""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import CourseError, MissingArtefactError


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """The number of scalar weights in `module` (only those with requires_grad when trainable_only)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file and a rename (readers never see half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode())


def atomic_pickle(path: str | Path, obj: object) -> Path:
    return atomic_write_bytes(path, pickle.dumps(obj))


def save_torch(path: str | Path, fmt: str, config: Any, **payload: Any) -> Path:
    """torch.save({"format": fmt, "config": config-as-dict, **payload}) to `path`, atomically."""
    buffer = io.BytesIO()
    torch.save({"format": fmt, "config": asdict(config) if is_dataclass(config) else config, **payload}, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_torch(path: str | Path, fmt: str, remake: str, device: torch.device | str = "cpu", kind: str = "") -> dict:
    """A checkpoint written by save_torch with this `fmt`; `remake` is the command that makes a missing one,
    `kind` what it holds ("VAE"), named in the errors."""
    path = Path(path)
    if not path.exists():
        raise MissingArtefactError(f"No {kind + ' ' if kind else ''}checkpoint at {path}. Make it with:\n    {remake}")
    blob = torch.load(path, map_location=device, weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != fmt:
        raise CourseError(f"{path} is not a {fmt} checkpoint (its format is "
                          f"{blob.get('format') if isinstance(blob, dict) else type(blob).__name__!r})"
                          f"{f', so it holds no {kind}' if kind else ''}.")
    return blob


def check_same_config(path: str | Path, saved: dict, wanted: Any) -> None:
    """Raise when a checkpoint at `path` was made with other settings than `wanted` (a dataclass or dict)."""
    wanted = asdict(wanted) if is_dataclass(wanted) else dict(wanted)
    changed = [f"{k}: {saved.get(k)!r} -> {v!r}" for k, v in wanted.items() if saved.get(k) != v]
    changed += [f"{k}: {v!r} -> (absent)" for k, v in saved.items() if k not in wanted]
    if changed:
        raise CourseError(f"{path} was made with other settings ({'; '.join(changed)}). Resume with the same "
                          "settings, use another output path, or delete it to start again.")
