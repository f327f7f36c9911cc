"""Run-time choices shared by notebooks and commands: fast mode, device, CPU threads, seeds."""

from __future__ import annotations

import contextlib
import os

import torch

from .errors import SettingsError


def fast_mode() -> bool:
    """True when WMCOURSE_FAST=1 (set by `make test`): notebooks then use tiny runs and fewer episodes."""
    return os.environ.get("WMCOURSE_FAST", "0") not in ("", "0", "false", "False")


def pick_device(device: str = "auto") -> torch.device:
    """'auto' -> CUDA when there is a GPU, else the CPU; or the named device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SettingsError(f"Device {device!r} was asked for but this machine has no CUDA GPU: "
                            "use --device cpu or auto.")
    return torch.device(device)


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Use n CPU threads inside the block and restore the previous number after (None: leave it)."""
    previous = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

