"""The registry of slide figures: each lesson module registers the figures of its deck with `@slide(...)`;
`python -m wmcourse figures` (figures.py) draws them. Shared, cached setups of the shipped models live here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

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


def slide(name: str, cell: str, optional: bool = False):
    def register(draw: Callable[[], plt.Figure]) -> Callable[[], plt.Figure]:
        FIGURES[name] = FigureSpec(name, name[:2], cell, draw, optional)
        return draw

    return register


def as_figure(drawn) -> plt.Figure:
    """Plot functions return a Figure or an Axes: the Figure either way."""
    return drawn if isinstance(drawn, plt.Figure) else drawn.figure


@functools.cache
def shipped_vae():
    from ..shipped import catalogue as shipped

    return shipped.load_shipped_vae(z=32)


@functools.cache
def shipped_mdnrnn():
    from ..shipped import catalogue as shipped

    return shipped.load_shipped_mdnrnn()


@functools.cache
def episode_codes():
    """Held-out episode 0: its frames (T + 1), V's codes of them and the actions, as notebook 02 prepares them."""
    import torch

    from ..shipped import catalogue as shipped
    from ..worldmodels import vae

    episode = shipped.load_heldout_episode(0)
    frames = np.concatenate([episode.obs, episode.final_obs[None]])
    z_mu, _ = vae.encode_frames(shipped_vae(), frames)
    return episode, frames, torch.from_numpy(z_mu), torch.from_numpy(episode.action).float()
