"""Notebook 04, CMA-ES and the controller: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

# what the notebook shows from the shared lessons modules (re-exported)
from .. import paper as paper
from ..artefacts import data_dir as data_dir
from ..artefacts import run_command as run_command
from ..checkpoint import count_parameters as count_parameters
from ..runtime import fast_mode as fast_mode
from . import animate
from .animate import cma_animation as cma_animation
from .controls import FigureControl, slider
from .diagrams import draw_dream_loop as draw_dream_loop
from .exercise import _FUNCTION_NOT_DONE, Exercise
from .slides import SEED, slide


def _es_update_mistakes(candidates, values, elite):
    """The typical wrong mean updates after one generation, each with the sentence that names the mistake."""
    import numpy as np

    order = np.argsort(values)
    return [
        (candidates[order[-elite:]].mean(axis=0),
         "The mean moved towards the worst candidates: keep the `elite` with the LOWEST objective "
         "(np.argsort sorts from low to high)."),
        (candidates.mean(axis=0), "The mean moved to the average of ALL candidates: average only the `elite` best."),
        (candidates[order[0]], "The mean jumped to the single best candidate: average the `elite` best, not one."),
        (candidates[order[:elite + 1]].mean(axis=0), "Off by one: average exactly `elite` candidates."),
        (candidates[order[:max(elite - 1, 1)]].mean(axis=0), "Off by one: average exactly `elite` candidates."),
    ]


def _judge_simple_es(f: Any) -> str | None:
    """Run the learner's ES for a few generations with a spy objective that records every candidate, and check
    the first generation's samples and the first update of the mean exactly against
    wmcourse.worldmodels.evolve.simple_es."""
    import numpy as np

    from ..worldmodels.evolve import simple_es as reference

    if not callable(f):
        return ("Expected a function simple_es(objective, x0, sigma, population, elite, generations, seed), got "
                f"{type(f).__name__}.")
    x0, sigma, population, elite, generations, seed = np.array([-2.0, 3.0]), 0.3, 10, 3, 60, 0
    seen: list = []

    def bowl(x):  # minimised at (1, 1); the start (-2, 3) is 3.6 away, 12 step sizes
        x = np.atleast_2d(np.asarray(x, float))
        seen.append(x.copy())
        return ((x - 1.0) ** 2).sum(axis=1)

    curve = f(bowl, x0.copy(), sigma, population, elite, generations, seed)
    if curve is None or curve is Ellipsis:
        return _FUNCTION_NOT_DONE
    try:
        curve = [float(v) for v in curve]
    except TypeError:
        return "Return the list of the best objective value seen so far, one number per generation."
    if len(curve) == 0:
        return "Not attempted yet: write the loop that replaces the `...` and run the cell again."
    if len(curve) != generations:
        return f"Expected one number per generation ({generations} here), got {len(curve)}."
    rows = np.concatenate(seen) if seen else np.zeros((0, 2))
    if len(rows) < 2 * population:
        return (f"The objective saw {len(rows)} candidates in {generations} generations: score all `population` "
                "candidates every generation.")
    first, second = rows[:population], rows[population:2 * population]
    rng = np.random.default_rng(seed)
    eps1 = rng.standard_normal((population, len(x0)))
    eps2 = rng.standard_normal((population, len(x0)))
    close = lambda a, b: np.allclose(a, b, rtol=1e-9, atol=1e-9)  # noqa: E731
    if not close(first, x0 + sigma * eps1):
        if close(first, x0 + eps1):
            return "The candidates are not scaled: x_i = mean + sigma * eps_i."
        return ("The first candidates are not mean + sigma * eps with "
                "eps = rng.standard_normal((population, len(mean))) from the rng you are given: draw them that way, "
                "once per generation, so the checker can follow your search exactly.")
    values = ((first - 1.0) ** 2).sum(axis=1)
    want = first[np.argsort(values)[:elite]].mean(axis=0)
    if not close(second, want + sigma * eps2):
        for wrong, sentence in _es_update_mistakes(first, values, elite):
            if close(second, wrong + sigma * eps2):
                return sentence
        if close(second, x0 + sigma * eps2):
            return "The mean never moved: after scoring, set it to the average of the `elite` best candidates."
        return ("After the first generation the mean is not the average of the `elite` candidates with the lowest "
                "objective: check the update line.")
    want_curve = reference(lambda x: ((np.atleast_2d(x) - 1.0) ** 2).sum(axis=1), x0, sigma, population, elite,
                           generations, seed)
    if any(b > a + 1e-12 for a, b in zip(curve, curve[1:])):
        return "The best value so far can never go up: keep the minimum over every generation, not the last one's."
    if not np.allclose(curve, want_curve, rtol=1e-9, atol=1e-12):
        return ("The update is right, but the curve is not the best value seen so far: after each generation record "
                "min(best, the lowest value of this generation).")
    return None


simple_es = Exercise(
    name="simple evolution strategy",
    judge=_judge_simple_es,
    hint_text=("Each generation: candidates = mean + sigma * rng.standard_normal((population, len(mean))); "
               "values = objective(candidates); mean = average of the `elite` candidates with the lowest values."),
    solution_text=(
        "def simple_es(objective, x0, sigma, population, elite, generations, seed):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    mean, best, curve = np.asarray(x0, float), np.inf, []\n"
        "    for _ in range(generations):\n"
        "        candidates = mean + sigma * rng.standard_normal((population, len(mean)))\n"
        "        values = objective(candidates)\n"
        "        mean = candidates[np.argsort(values)[:elite]].mean(axis=0)\n"
        "        best = min(best, values.min())\n"
        "        curve.append(best)\n"
        "    return curve"
    ),
    praise="Correct: one update checked exactly against wmcourse.worldmodels.evolve.simple_es, "
           "and the whole curve matches.",
)


class CMAScrubber(FigureControl):
    """Notebook 04: a generation slider over a CMA-ES run (its search distribution at that generation, beside
    the best value and the spread of the whole run) and a population-size slider that runs CMA-ES again."""

    def __init__(self, objective, x0: np.ndarray, sigma0: float = 0.4, population: int = 8, generations: int = 80,
                 seed: int = 0, box=((-2, 2), (-1, 3))):
        self.objective, self.x0, self.sigma0, self.seed, self.box = objective, np.asarray(x0), sigma0, seed, box
        self.generations = generations
        self.generation = slider(W.IntSlider, "generation", value=0, min=0, max=generations - 1)
        self.population = slider(W.IntSlider, "candidates a generation", value=population, min=4, max=32,
                                  width="300px")
        self.trace, self.traced = [], None
        self._build([self.generation, self.population])

    def figure_now(self) -> plt.Figure:
        from ..worldmodels import evolve

        if self.traced != self.population.value:  # a new population size: run CMA-ES again
            self.trace = evolve.trace_cma(self.objective, self.x0, self.sigma0, self.population.value,
                                          self.generations, self.seed)
            self.traced = self.population.value
        return cma_scrubber_figure(self.trace, self.objective, self.generation.value, self.box)


def cma_search_figure(trace: Sequence, objective, generations: Sequence[int], box=((-2, 2), (-1, 3)),
                      title: str = "CMA-ES on Rosenbrock's valley") -> plt.Figure:
    """The search distribution moving and reshaping: for each chosen generation, the contours of log f, the
    candidates drawn (dots), the mean (cross) and the 2-sigma ellipse of N(m, sigma^2 C).
    trace: wmcourse.worldmodels.evolve.trace_cma's snapshots."""
    (x0, x1), (y0, y1) = box
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    f = np.log10(objective(np.stack([gx.ravel(), gy.ravel()], axis=1)) + 1e-3).reshape(gx.shape)
    fig, axes = plt.subplots(1, len(generations), figsize=(3.1 * len(generations), 3.2), sharey=True)
    for ax, g in zip(np.atleast_1d(axes), generations):
        snap = trace[g]
        ax.contourf(gx, gy, f, levels=20, cmap="Greys_r", alpha=0.55)
        ax.scatter(*snap.candidates.T, s=10, color="#2563eb", zorder=3, label="candidates")
        ax.plot(*animate.ellipse_points(snap.mean, snap.covariance).T, color="#dc2626", lw=1.5, label="2-sigma ellipse")
        ax.plot(*snap.mean, "x", color="#dc2626", ms=9, mew=2, label="mean m")
        ax.plot(1, 1, "*", color="#facc15", ms=12, mec="k", label="optimum")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_title(f"generation {g}\nbest so far {snap.best:.2g}", fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def cma_search_panel(ax: plt.Axes, trace: Sequence, objective, generation: int, box=((-2, 2), (-1, 3)),
                     path: bool = True) -> plt.Axes:
    """One generation of a CMA-ES run on one axes (for the animation and the generation scrubber of notebook 04):
    log f as a background, the candidates drawn, the mean, the path the mean took so far and the 2-sigma ellipse
    of N(m, sigma^2 C). trace: wmcourse.worldmodels.evolve.trace_cma's snapshots."""
    (x0, x1), (y0, y1) = box
    gx, gy = np.meshgrid(np.linspace(x0, x1, 160), np.linspace(y0, y1, 160))
    f = np.log10(objective(np.stack([gx.ravel(), gy.ravel()], axis=1)) + 1e-3).reshape(gx.shape)
    ax.imshow(f, extent=(x0, x1, y0, y1), origin="lower", cmap="Greys_r", alpha=0.55, aspect="auto")
    snap = trace[generation]
    if path:
        means = np.array([s.mean for s in trace[:generation + 1]])
        ax.plot(*means.T, color="#dc2626", lw=0.8, alpha=0.5)
    ax.scatter(*snap.candidates.T, s=12, color="#2563eb", zorder=3, label="candidates")
    ax.plot(*animate.ellipse_points(snap.mean, snap.covariance).T, color="#dc2626", lw=1.5, label="2-sigma ellipse")
    ax.plot(*snap.mean, "x", color="#dc2626", ms=9, mew=2, label="mean m")
    ax.plot(1, 1, "*", color="#facc15", ms=12, mec="k", label="optimum")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(f"generation {generation}: best so far {snap.best:.3g}", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    return ax


def cma_scrubber_figure(trace: Sequence, objective, generation: int, box=((-2, 2), (-1, 3))) -> plt.Figure:
    """Notebook 04's generation scrubber: the search distribution at one generation (cma_search_panel) beside
    the whole run's best value and step size sigma, the chosen generation marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1, 1.2]})
    cma_search_panel(left, trace, objective, generation, box)
    generations = np.arange(len(trace))
    right.semilogy(generations, [max(s.best, 1e-12) for s in trace], color="#2563eb", label="best so far f")
    spread = [np.sqrt(np.sqrt(max(np.linalg.det(s.covariance), 1e-300))) for s in trace]
    right.semilogy(generations, spread, color="#dc2626", label="spread: det(sigma^2 C)^(1/4)")
    right.axvline(generation, color="k", lw=1, ls=":")
    right.plot([generation], [max(trace[generation].best, 1e-12)], "o", color="#2563eb")
    right.plot([generation], [spread[generation]], "o", color="#dc2626")
    right.set_xlabel("generation")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def evolution_curve(history: Sequence[dict], title: str, ax: plt.Axes | None = None) -> plt.Axes:
    """Best, mean and worst score of each CMA-ES generation (wmcourse.worldmodels.evolve's history rows)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.4))
    gens = [r["generation"] for r in history]
    ax.fill_between(gens, [r["worst"] for r in history], [r["best"] for r in history], color="#bfdbfe",
                    label="worst to best candidate")
    ax.plot(gens, [r["mean"] for r in history], color="#1d4ed8", label="population mean")
    ax.plot(gens, [r["best"] for r in history], color="#1e3a8a", lw=0.8, ls="--", label="best candidate")
    ax.set_xlabel("generation")
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def es_race_figure(x0: np.ndarray, sigmas: Sequence[float] = (0.03, 0.1, 0.3), generations: int = 80,
                   seed: int = 0, es=None) -> plt.Figure:
    """Best value so far on Rosenbrock's valley: a simple ES with a fixed round cloud at several sizes against
    CMA-ES, same start, 8 candidates a generation. `es` is the simple ES to race, with the signature of
    wmcourse.worldmodels.evolve.simple_es (the learner's own, in notebook 04); None races the package's."""
    from ..worldmodels import evolve

    name = "simple ES" if es is None else "your ES"
    es = es or evolve.simple_es
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for sigma in sigmas:
        ax.semilogy(es(evolve.rosenbrock, x0, sigma, 8, 2, generations, seed), label=f"{name}, fixed sigma = {sigma}")
    ax.semilogy([s.best for s in evolve.trace_cma(evolve.rosenbrock, x0, 0.4, 8, generations, seed)], "k", lw=2,
                label="CMA-ES (cma package)")
    ax.set_xlabel("generation (8 evaluations each)")
    ax.set_ylabel("best f so far (log)")
    ax.set_title("Rosenbrock: a fixed round cloud against an adaptive one")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@slide("04_cma_search", "1. CMA-ES on a banana-shaped valley")
def slide_cma_search() -> plt.Figure:
    from ..worldmodels import evolve

    trace = evolve.trace_cma(evolve.rosenbrock, x0=np.array([-1.5, 2.5]), sigma0=0.4, population=8, generations=80,
                             seed=SEED)
    return cma_search_figure(trace, evolve.rosenbrock, generations=[0, 4, 10, 20, 35, 60],
                                   box=((-2, 2), (-1, 3)))


@slide("04_cma_run", "1. CMA-ES on a banana-shaped valley")
def slide_cma_run():
    """The notebook's animation of the same run: one frame per generation (a GIF)."""
    from ..worldmodels import evolve
    from . import animate

    trace = evolve.trace_cma(evolve.rosenbrock, x0=np.array([-1.5, 2.5]), sigma0=0.4, population=8, generations=60,
                             seed=SEED)
    return animate.cma_animation(trace, evolve.rosenbrock)


@slide("04_es_race", "2. Exercise: the simplest evolution strategy")
def slide_es_race() -> plt.Figure:
    """The notebook's race: a simple ES with a fixed round cloud at three sizes against CMA-ES, same start."""
    return es_race_figure(np.array([-1.5, 2.5]), seed=SEED)


@slide("04_shipped_evolution", "The shipped controller's evolution")
def slide_shipped_evolution() -> plt.Figure:
    from ..shipped import catalogue as shipped

    _, _, details = shipped.load_shipped_controller()
    ax = evolution_curve(details["history"], "the shipped controller: its score in the dream, per generation")
    ax.figure.tight_layout()
    return ax.figure
