"""Dreamer next to World Models on CartPole-v1 (notebook 08, sections 8 and 10): the shipped Dreamer runs, the
World Models side read from notebook 07's artefacts, and the tables that set them side by side.

The World Models side is written by wmcourse.experiments.cartpole: data/cartpole_results.json (one run, made by
cartpole_experiment.COMMAND) and data/cartpole_seeds.json (5 seeds, cartpole_experiment.load_over_seeds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..checkpoint import count_parameters
from ..dreamer import train as dreamer_training

SOLVED = 475  # CartPole-v1 counts as solved at an average of 475 (of at most 500)
# the over-seeds rows worth setting beside Dreamer, by their label in notebook 08
WORLD_MODELS_LABELS = {"World Models, iterative loop": "fixed_variant", "World Models, random data": "failure_variant",
                       "DQN": None}


def load_world_models_results(folder: str | Path | None = None) -> dict[str, Any] | None:
    """data/cartpole_results.json (the World Models agent and DQN on CartPole, notebook 07), or None while it
    has not been made (cartpole_experiment.COMMAND makes it)."""
    from ..artefacts import data_dir
    from . import cartpole as cartpole_experiment

    path = Path(folder or data_dir()) / cartpole_experiment.RESULTS_NAME
    return json.loads(path.read_text()) if path.exists() else None


def dreamer_runs(results: dict[str, Any], folder: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """The Dreamer runs to compare, by label "Dreamer (γ = ...)": `results` (the shipped run) first, then the
    same run with γ = 0.99 (data/dreamer_cartpole_gamma099.json) when it is shipped."""
    from ..artefacts import data_dir

    runs = {f"Dreamer (γ = {results['config']['gamma']})": results}
    shorter = Path(folder or data_dir()) / dreamer_training.GAMMA_099_NAME
    if shorter.exists():
        other = dreamer_training.load_dreamer_results(shorter)
        runs[f"Dreamer (γ = {other['config']['gamma']})"] = other
    return runs


SEEDS = (0, 1, 2)  # the shipped default run is seed 0; the same command with --seed 1 and --seed 2 repeats it


def seed_results_name(seed: int) -> str:
    """data/ name of the default Dreamer run (gamma 0.997) with this training seed."""
    return dreamer_training.RESULTS_NAME if seed == 0 else f"dreamer_cartpole_seed{seed}.json"


def dreamer_seed_runs(folder: str | Path | None = None) -> dict[int, dict[str, Any]]:
    """The shipped runs of the default Dreamer by training seed (those of SEEDS that are in data/), each checked
    against the manifest; the command that makes each is in its "command"."""
    from ..artefacts import data_dir

    folder = Path(folder or data_dir())
    return {seed: dreamer_training.load_dreamer_results(folder / seed_results_name(seed)) for seed in SEEDS
            if (folder / seed_results_name(seed)).exists()}


def curves_over_seeds(runs: dict[str, dict], over_seeds: dict[str, Any],
                      world_models: dict[str, Any] | None = None,
                      seed_runs: dict[int, dict[str, Any]] | None = None) -> dict[str, dict]:
    """The learning curves of notebook 08's plot, for cartpole_plots.curves_over_seeds_plot: each Dreamer run
    (the first over every seed in `seed_runs`, dreamer_seed_runs; the others one seed each), then World Models'
    iterative loop and DQN over notebook 07's seeds, or, where those were not run over seeds yet, their single
    run in `world_models` (data/cartpole_results.json), labelled "(one run)"."""
    from .over_seeds import curve_spread

    curves = {name: curve_spread([r["curve"]], [r["config"]["seed"]]) for name, r in runs.items()}
    if seed_runs:
        first = next(iter(runs))
        curves[first] = curve_spread([r["curve"] for r in seed_runs.values()], list(seed_runs))
    for key, label in (("wm_iterative", "World Models, iterative loop"), ("dqn", "DQN (model-free)")):
        if key in over_seeds["curves"]:
            curves[label] = over_seeds["curves"][key]
        elif world_models is not None:
            curves[f"{label} (one run)"] = curve_spread([world_models["curves"][key]], [world_models["seed"]])
    return curves


def world_models_sizes() -> dict[str, int]:
    """Parameters of the shipped World Models agents (M + C; V is only a normaliser on CartPole) and of DQN's
    Q-network, by their label in results_table; an agent whose files are missing is left out."""
    from . import cartpole as cartpole_experiment

    sizes: dict[str, int] = {}
    try:
        for which, label in (("fixed", "World Models, iterative loop"), ("failure", "World Models, random data")):
            model, params, _, _ = cartpole_experiment.load_shipped(which)
            sizes[label] = count_parameters(model) + int(np.size(params))
        sizes["DQN"] = count_parameters(cartpole_experiment.load_shipped_dqn())
    except (FileNotFoundError, RuntimeError, KeyError):
        pass
    return sizes


def _world_models_rows(over_seeds: dict[str, Any]) -> dict[str, dict]:
    """The rows of the table over seeds that stand beside Dreamer, by label (absent ones left out)."""
    by_name = {row["name"]: row for row in over_seeds["rows"]}
    names = {label: over_seeds[key] if key else "dqn" for label, key in WORLD_MODELS_LABELS.items()}
    return {label: by_name[name] for label, name in names.items() if name in by_name}


def results_table(runs: dict[str, dict], over_seeds: dict[str, Any] | None = None,
                  sizes: dict[str, int] | None = None, seed_runs: dict[int, dict[str, Any]] | None = None) -> str:
    """Notebook 08's measured table, as Markdown: one row per Dreamer run (final real score mean ± std over its
    final episodes, real steps, wall and CPU time, trained parameters), the first Dreamer again over the training
    seeds in `seed_runs` (mean ± std across seeds of each seed's final score, lowest–highest seed; times as a
    range), then, given the table over seeds (data/cartpole_seeds.json), the World Models agents and DQN (mean ±
    std across seeds, lowest–highest seed) with their parameters from `sizes` (world_models_sizes; "-" where
    unknown)."""
    from .over_seeds import spread

    table = ("| agent | real score (final) | real steps | wall time | CPU time | parameters |\n"
             "|---|---:|---:|---:|---:|---:|\n")
    for name, r in runs.items():
        table += (f"| {name} | {r['final']['mean']:.1f} ± {r['final']['std']:.1f} | {r['real_steps']:,} | "
                  f"{r['train_seconds'] / 60:.0f} min | {r['train_cpu_seconds'] / 60:.0f} min | "
                  f"{r['parameters']['total (trained)']:,} |\n")
    if seed_runs and len(seed_runs) > 1:
        name, first = next(iter(runs.items()))
        real = spread([r["final"]["mean"] for r in seed_runs.values()], list(seed_runs))
        wall = [r["train_seconds"] / 60 for r in seed_runs.values()]
        cpu = [r["train_cpu_seconds"] / 60 for r in seed_runs.values()]
        table += (f"{_over_seeds_cells(name, real)}{first['real_steps']:,} | {min(wall):.0f}–{max(wall):.0f} min | "
                  f"{min(cpu):.0f}–{max(cpu):.0f} min | {first['parameters']['total (trained)']:,} |\n")
    sizes = sizes or {}
    for label, row in (_world_models_rows(over_seeds) if over_seeds is not None else {}).items():
        real, size = row["real"], f"{sizes[label]:,}" if label in sizes else "-"
        table += f"{_over_seeds_cells(label, real)}{row['steps']:,} | - | - | {size} |\n"
    return table


def _over_seeds_cells(label: str, real: dict) -> str:
    """The first two cells of a row over seeds: the label with the seed count, then mean ± std across seeds
    and the lowest–highest seed (`real` is an over_seeds.spread)."""
    return (f"| {label} ({real['n']} seeds: mean ± std across seeds, lowest–highest) | "
            f"{real['mean']:.1f} ± {real['std']:.1f} ({real['min']:.0f}–{real['max']:.0f}) | ")


def first_solved(runs: dict[str, dict], solved: float = SOLVED) -> list[str]:
    """For each run whose learning curve reaches `solved`: when it first did, and its lowest evaluation after
    that (does it stay solved?), one line each."""
    lines = []
    for name, r in runs.items():
        first = next((i for i, p in enumerate(r["curve"]) if p["mean"] >= solved), None)
        if first is not None:
            low = min(r["curve"][first:], key=lambda p: p["mean"])
            lines.append(f"{name}: first at {solved:.0f}+ after {r['curve'][first]['steps']:,} real steps; lowest "
                         f"evaluation after that {low['mean']:.0f} (at {low['steps']:,} steps)")
    return lines


def design_table(results: dict[str, Any], over_seeds: dict[str, Any], dream_score: float, real_score: float) -> str:
    """Notebook 08's section 10 as Markdown: one row per design difference between World Models and Dreamer,
    what it fixes, and what the course measured (the shipped Dreamer `results`, the World Models rows over
    seeds, and the shipped agent's mean score in its dream and in reality, from section 9)."""
    from ..dreamer.agent import DreamerConfig

    config = DreamerConfig.from_dict(results["config"])
    final, counts = results["final"], results["parameters"]
    rows_by_name = {row["name"]: row for row in over_seeds["rows"]}
    wm_rows = {label: rows_by_name[name] for label, name in (("iterative loop", over_seeds["fixed_variant"]),
                                                              ("random data", over_seeds["failure_variant"]))
               if name in rows_by_name}
    wm_text = "; ".join(f"{label}: {row['real']['mean']:.0f} ± {row['real']['std']:.0f} across {row['real']['n']} "
                        f"seeds after {row['steps']:,} steps" for label, row in wm_rows.items())
    wm_dream = wm_rows.get("random data")
    wm_gap = (f"; World Models on random data: dream {wm_dream['dream']['mean']:.0f} vs real "
              f"{wm_dream['real']['mean']:.0f} (means across {wm_dream['real']['n']} seeds)"
              if wm_dream is not None else "")
    rows = [
        ("training", "stage by stage, data from a random policy", "a loop: act, fit the model, dream, repeat",
         "data from a policy that stops improving is a fixed view of the world (notebook 07)",
         f"Dreamer: {final['mean']:.0f} ± {final['std']:.0f} after {results['real_steps']:,} real steps; "
         f"World Models: {wm_text}"),
        ("state", "z from V (frame alone) + LSTM h", "[h, z], z inferred from h and x together",
         "z only carries what the memory could not foresee, shaped to be predictable", "reading"),
        ("latent", "Gaussian", f"{config.rssm.groups} x {config.rssm.classes} one-hot, straight-through",
         "crisp states, stable training (V2's finding on Atari)", "reading (the estimator is tested: section 3)"),
        ("KL", "to a fixed N(0, 1), floored", "balanced 0.5 / 0.1, 1 free nat",
         "the prior learns to dream faster than the posterior forgets", "gradients measured: section 4"),
        ("policy", "linear, CMA-ES", "MLP actor, policy gradient", "gradients scale to many parameters",
         f"actor {counts['actor']:,} parameters"),
        ("value", "none (whole episodes scored)", "critic + λ-returns", "short dreams suffice",
         "dream drift: section 9"),
        ("dream length", "whole episodes (Take Cover: up to 2,100 dreamed steps)", f"{config.horizon} steps",
         f"model errors can pile up for at most {config.horizon} steps",
         f"Dreamer: dream {dream_score:.0f} vs real {real_score:.0f}{wm_gap}"),
        ("scales", "C's search needs none: CMA-ES uses only the ranking of scores", "symlog",
         "one set of settings for every task's losses", "reading"),
        ("cost", "", "", "", f"Dreamer: {results['train_seconds'] / 60:.0f} min wall, "
         f"{results['train_cpu_seconds'] / 60:.0f} min CPU, {counts['total (trained)']:,} parameters"),
    ]
    table = "| | World Models | Dreamer | what it fixes | measured here |\n|---|---|---|---|---|\n"
    return table + "\n".join("| " + " | ".join(r) + " |" for r in rows)
