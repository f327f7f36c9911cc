"""The registry of slide figures: each lesson module registers the figures of its deck with `@slide(...)`;
`python -m wmcourse figures` (figures.py) draws them. Shared, cached setups of the shipped models live here.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from ..errors import CourseError, MissingArtefactError  # noqa: E402
from . import plots  # noqa: E402
from .plots import horizon_error_plot


SEED = 0


DPI = 110


@dataclass(frozen=True)
class FigureSpec:
    """One slide figure: its file name (without .png), the notebook and cell it comes from, how to draw it."""

    name: str
    notebook: str
    cell: str
    draw: Callable[[], plt.Figure]
    optional: bool = False


FIGURES: dict[str, FigureSpec] = {}


def _figure(name: str, cell: str, optional: bool = False):
    def register(draw: Callable[[], plt.Figure]) -> Callable[[], plt.Figure]:
        FIGURES[name] = FigureSpec(name, name[:2], cell, draw, optional)
        return draw

    return register


def _as_figure(drawn) -> plt.Figure:
    """Plot functions return a Figure or an Axes: the Figure either way."""
    return drawn if isinstance(drawn, plt.Figure) else drawn.figure


@functools.cache
def _vae():
    from ..shipped import catalogue as shipped

    return shipped.load_shipped_vae(z=32)


@functools.cache
def _mdnrnn():
    from ..shipped import catalogue as shipped

    return shipped.load_shipped_mdnrnn()


@functools.cache
def _episode_codes():
    """Held-out episode 0: its frames (T + 1), V's codes of them and the actions, as notebook 02 prepares them."""
    import torch

    from ..shipped import catalogue as shipped
    from ..worldmodels import vae

    episode = shipped.load_heldout_episode(0)
    frames = np.concatenate([episode.obs, episode.final_obs[None]])
    z_mu, _ = vae.encode_frames(_vae(), frames)
    return episode, frames, torch.from_numpy(z_mu), torch.from_numpy(episode.action).float()


@slide("02_horizon_errors", "4. M's predictions, seen through V")
def horizon_errors() -> plt.Figure:
    from ..worldmodels import probes

    _, _, z, actions = _episode_codes()
    errors = probes.horizon_errors(_mdnrnn(), z, actions, horizon=16, mode="likeliest")
    return _as_figure(horizon_error_plot(errors))
