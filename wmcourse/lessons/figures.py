"""The figures of the slides, drawn by the notebooks' own plotting functions from the shipped artefacts.

    python -m wmcourse figures --out slides/figures          (every figure, as PNG; about half a minute)
    python -m wmcourse figures --list                        (what there is, and which notebook cell it comes from)

Each figure is named after its notebook ("01_reconstructions.png" comes from notebook 01) and is made by a
plain function of its notebook's lesson module (wmcourse/lessons/nNN_*.py, decorated `@slide`) that returns a matplotlib
figure, or a wmcourse.lessons.animate.Animation, written as an animated GIF ("06_drive.gif": the notebook's own
animation). The slides in slides/ show these files, so a deck never carries a picture pasted by hand: remake the
artefacts in data/ and the decks follow.

Every figure here is quick: it loads shipped artefacts (data/), runs a real environment for a few hundred
steps, or fits a toy model for a second or two; nothing trains for long. Figures marked optional need an
artefact that a later stage of the course makes (a measured tau sweep, say): while it is missing they are
skipped, not failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no window, whatever MPLBACKEND says
import matplotlib.pyplot as plt  # noqa: E402

from ..errors import MissingArtefactError, SettingsError  # noqa: E402
from . import (  # noqa: E402, F401  (each lesson registers the figures of its deck)
    n00_motivation,
    n01_vae,
    n02_mdn,
    n03_temperature,
    n04_cma_es,
    n05_take_cover,
    n06_dream_vs_real,
    n07_cartpole_failure,
    n08_dreamer,
)
from .slides import DPI, FIGURES, FigureSpec  # noqa: E402


def select(names: Sequence[str] | None = None) -> list[FigureSpec]:
    """The figures asked for: every one, or those whose names (or notebook numbers, "01") are given."""
    if not names:
        return list(FIGURES.values())
    chosen = [spec for spec in FIGURES.values() if spec.name in names or spec.notebook in names]
    unknown = [n for n in names if n not in FIGURES and n not in {s.notebook for s in FIGURES.values()}]
    if unknown:
        raise SettingsError(f"Unknown figure(s) {', '.join(unknown)}: `python -m wmcourse figures --list` lists them.")
    return chosen


def write_figures(out: str | Path, names: Sequence[str] | None = None, dpi: int = DPI,
                  log: Callable[[str], None] | None = print) -> dict[str, list]:
    """Draw the figures into `out` as NAME.png. Returns {"written": [paths], "skipped": [(name, why)],
    "failed": [(name, why)]}: an optional figure whose artefact is missing is skipped, any other problem
    (a missing artefact included) fails that figure; the others are still written."""
    import torch

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, list] = {"written": [], "skipped": [], "failed": []}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is many times faster than two that fight over busy cores
    try:
        _write(out, select(names), dpi, log, report)
    finally:
        torch.set_num_threads(threads)
    return report


def _write(out: Path, specs: list[FigureSpec], dpi: int, log, report: dict[str, list]) -> None:
    with plt.rc_context({"figure.max_open_warning": 0}):
        for spec in specs:
            start = time.perf_counter()
            try:
                fig = spec.draw()
            except MissingArtefactError as exc:
                report["skipped" if spec.optional else "failed"].append((spec.name, str(exc)))
                if log:
                    log(f"{'skipped' if spec.optional else 'FAILED '} {spec.name}: {str(exc).splitlines()[0]}")
                continue
            except Exception as exc:  # noqa: BLE001 - report it and go on to the other figures
                report["failed"].append((spec.name, f"{type(exc).__name__}: {exc}"))
                if log:
                    log(f"FAILED  {spec.name}: {type(exc).__name__}: {exc}")
                continue
            from .animate import Animation

            if isinstance(fig, Animation):
                path = fig.save_gif(out / f"{spec.name}.gif", scale=min(fig.scale, 2))
            else:
                path = out / f"{spec.name}.png"
                fig.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")
            plt.close("all")
            report["written"].append(path)
            if log:
                log(f"wrote   {path}  ({time.perf_counter() - start:.1f} s)")
