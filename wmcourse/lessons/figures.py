"""The figures of the slides, drawn by the notebooks' own plotting functions from the shipped artefacts.

    python -m wmcourse figures --out slides/figures          (every figure, as PNG; about half a minute)
    python -m wmcourse figures --list                        (what there is, and which notebook cell it comes from)

Each figure is named after its notebook ("01_reconstructions.png" comes from notebook 01) and is made by a
plain function of this module that returns a matplotlib figure, or a wmcourse.lessons.animate.Animation, written as
an animated GIF ("06_drive.gif": the notebook's own animation). The slides in slides/ show these files, so a
deck never carries a picture pasted by hand: remake the artefacts in data/ and the decks follow.

Every figure here is quick: it loads shipped artefacts (data/), runs a real environment for a few hundred
steps, or fits a toy model for a second or two; nothing trains for long. Figures marked optional need an
artefact that a later stage of the course makes (a measured tau sweep, say): while it is missing they are
skipped, not failed.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no window, whatever MPLBACKEND says

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..errors import CourseError, MissingArtefactError  # noqa: E402
from . import plots  # noqa: E402

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


# --- shared, loaded once -----------------------------------------------------------------------------------

@functools.cache
def _vae():
    from ..shipped import catalogue as shipped

    return shipped.load_shipped_vae(z=32)


@functools.cache
def _mdnrnn():
    from ..shipped import catalogue as shipped

    return shipped.load_shipped_mdnrnn()


@functools.cache
def _vae_results():
    from ..shipped import catalogue as shipped

    return shipped.load_vae_results()


@functools.cache
def _heldout_frames():
    from ..shipped import catalogue as shipped

    return shipped.pick_heldout_frames(n=8)


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


@functools.cache
def _dream_setup(n_frames: int = 8):
    """The dream of notebook 03: the start code, the real actions and the real frames, from held-out episode 0."""
    import torch

    from ..worldmodels import vae

    episode, _, _, _ = _episode_codes()
    every = min(8, len(episode) // n_frames)
    span = every * (n_frames - 1)
    start = min(100, len(episode) - span)
    z_start, _ = vae.encode_frames(_vae(), episode.obs[start:start + 1])
    actions = torch.from_numpy(episode.action[start:start + span]).float()
    return episode, start, every, span, torch.from_numpy(z_start[0]), actions, episode.obs[start:start + span + 1]


# --- notebook 00 ------------------------------------------------------------------------------------------

@_figure("00_vmc", "An analogy: learning to drift in an empty car park")
def vmc() -> plt.Figure:
    return _as_figure(plots.draw_vmc())


@_figure("00_carracing_frames", "CarRacing-v3: learning from pixels")
def carracing_frames() -> plt.Figure:
    from ..real import envs, evaluate

    raw = evaluate.random_policy_frames("CarRacing-v3", at=(0, 50, 100, 150), seed=SEED)
    small = envs.preprocess_frames(np.stack(list(raw.values())))
    return plots.frame_grid([list(raw.values()), list(small)], ["raw\n96×96", "what V sees\n64×64"],
                            [f"step {t}" for t in raw], size=2.0,
                            suptitle="CarRacing-v3, random actions: the raw frames and the preprocessed ones")


@_figure("00_cartpole", "CartPole-v1: learning from four numbers")
def cartpole_frame() -> plt.Figure:
    import os

    from ..real import envs

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame draws off screen

    env = envs.make_env("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=SEED)
    picture = env.render()
    env.close()
    return plots.show_frames([picture], ["CartPole-v1, rendered"], size=4)


@_figure("00_random_returns", "The bar to clear: a random policy, measured")
def random_returns() -> plt.Figure:
    from ..real import evaluate

    result = evaluate.evaluate("CartPole-v1", None, episodes=100, seed=SEED, num_envs=4, progress=False)
    ax = plots.return_histogram(result.returns, f"CartPole-v1, random policy: {result.mean:.1f} ± {result.std:.1f} "
                                                f"over {len(result.returns)} episodes")
    ax.figure.set_size_inches(6.5, 3.2)
    ax.figure.tight_layout()
    return ax.figure


# --- notebook 01 ------------------------------------------------------------------------------------------

@_figure("01_training_curve", "Watch one learn (a tiny run)")
def training_curve() -> plt.Figure:
    from ..shipped import catalogue as shipped
    from ..worldmodels import train_vae as vae_training
    from ..worldmodels import vae

    frames = shipped.load_heldout_frames(max_frames=300)
    config = vae.VAEConfig(width=0.25, batch_size=32, lr=1e-3)
    steps = 30
    history = vae_training.train_vae(frames, config, steps=steps, seed=SEED, device="cpu", progress=False)
    return plots.training_curve(history, f"A quarter-width VAE, {steps} steps on {len(frames)} frames")


@_figure("01_reconstructions", "The real thing: a VAE trained on CarRacing")
def reconstructions() -> plt.Figure:
    from ..worldmodels import vae

    frames = _heldout_frames()
    return plots.reconstruction_grid(frames, vae.reconstruct(_vae(), frames),
                                     suptitle="Held-out CarRacing frames and their reconstructions (z = 32)")


@_figure("01_prior_samples", "The real thing: a VAE trained on CarRacing")
def prior_samples() -> plt.Figure:
    import torch

    from ..worldmodels import vae

    v = _vae()
    codes = torch.randn(8, v.config.z_size, generator=torch.Generator().manual_seed(SEED))
    return plots.show_frames(list(vae.decode_latents(v, codes)), [f"z ~ N(0, I) #{i}" for i in range(8)], size=1.6,
                             suptitle="Decoded random codes: what V imagines")


@_figure("01_beta_tradeoff", "The β trade-off, measured")
def beta_tradeoff() -> plt.Figure:
    from ..shipped import catalogue as shipped

    sweep = shipped.beta_sweep_results(_vae_results())
    if not sweep:
        raise MissingArtefactError("data/vae_results.json has no beta-sweep models; remake it with:\n    "
                                   + shipped.MAKE_MODELS)
    return _as_figure(plots.beta_tradeoff(sweep))


@functools.cache
def _kl_per_dimension():
    from ..shipped import catalogue as shipped
    from ..worldmodels import probes

    return probes.kl_per_dimension(_vae(), shipped.load_heldout_frames(max_frames=600))


@_figure("01_kl_per_dimension", "Inside the code: one slider per latent dimension")
def kl_per_dimension() -> plt.Figure:
    return _as_figure(plots.kl_per_dimension_bars(_kl_per_dimension()))


@_figure("01_traversal", "Inside the code: one slider per latent dimension")
def traversal() -> plt.Figure:
    from ..worldmodels import vae
    from . import widgets

    v, kl = _vae(), _kl_per_dimension()
    code = vae.encode_frames(v, _heldout_frames()[3][None])[0][0]
    return widgets.traversal_figure(v, code, dims=np.argsort(-kl)[:5].tolist(), values=np.linspace(-3, 3, 7), kl=kl)


@_figure("01_latent_sizes", "How many numbers does $z$ need?")
def latent_sizes() -> plt.Figure:
    from ..shipped import catalogue as shipped
    from ..worldmodels import vae

    frames = _heldout_frames()[:6]
    results = shipped.latent_size_results(_vae_results())
    rows = {}
    for z in shipped.LATENT_SIZES:
        label = f"z = {z}" + (f"\nMSE {results[z]['mse_per_pixel']:.4f}" if z in results else "")
        rows[label] = vae.reconstruct(shipped.load_shipped_vae(z=z, small=True), frames)
    return plots.reconstruction_grid(frames, rows, suptitle="Half-width VAEs that differ only in the size of z "
                                                            "(held-out frames; MSE per pixel on every held-out frame)")


@_figure("01_latent_size_errors", "How many numbers does $z$ need?")
def latent_size_errors() -> plt.Figure:
    from ..shipped import catalogue as shipped

    results = shipped.latent_size_results(_vae_results())
    if not results:
        raise MissingArtefactError("data/vae_results.json has no small VAEs; remake it with:\n    " + shipped.MAKE_MODELS)
    return _as_figure(plots.latent_size_errors(results))


# --- notebook 02 ------------------------------------------------------------------------------------------

@_figure("02_toy_fits", "1. The T-junction, a toy problem")
def toy_fits() -> plt.Figure:
    from ..worldmodels import mdn

    x, y = mdn.bimodal_toy_data(1000, seed=SEED)
    x_test, y_test = mdn.bimodal_toy_data(1000, seed=SEED + 1)
    steps = 1500  # the notebook's full-mode value
    single, _ = mdn.fit_single_gaussian(x, y, steps=steps, seed=SEED)
    mixture, _ = mdn.fit_toy_mdn(x, y, K=5, steps=steps, seed=SEED)
    nll = {"single": single.nll(x_test, y_test), "mixture": mixture.nll(x_test, y_test)}
    return plots.toy_fits_figure(x, y, single, mixture, nll=nll, x_slice=0.6)


@_figure("02_mdnrnn_history", "How well does M predict? The measured NLL")
def mdnrnn_history() -> plt.Figure:
    from ..shipped import catalogue as shipped
    from ..worldmodels import probes

    record = shipped.shipped_training_record()
    if not record["history"]:
        raise MissingArtefactError(f"data/{shipped.MDNRNN_NAME} keeps no training history; remake it with:\n    "
                                   + shipped.MAKE_MODELS)
    baseline = probes.marginal_gaussian_nll(shipped.load_shipped_heldout_encoded(), seed=SEED)
    return plots.mdnrnn_history_plot(record["history"], baseline=baseline)


@_figure("02_predictions", "4. M's predictions, seen through V")
def predictions() -> plt.Figure:
    from . import widgets

    episode, frames, z, actions = _episode_codes()
    horizon = 8
    start = min(120, len(episode) - horizon)
    return widgets.prediction_figure(_mdnrnn(), _vae(), z, actions, frames, start=start, horizon=horizon, samples=2,
                                     seed=SEED)


@_figure("02_horizon_errors", "4. M's predictions, seen through V")
def horizon_errors() -> plt.Figure:
    from ..worldmodels import probes

    _, _, z, actions = _episode_codes()
    errors = probes.horizon_errors(_mdnrnn(), z, actions, horizon=16, mode="likeliest")
    return _as_figure(plots.horizon_error_plot(errors))


# --- notebook 03 ------------------------------------------------------------------------------------------

@_figure("03_tempered_mixture", "1. What τ does to a mixture")
def tempered_mixture() -> plt.Figure:
    import torch

    log_pi = torch.log(torch.tensor([0.6, 0.3, 0.1]))
    mu = torch.tensor([-1.0, 0.8, 2.5])
    log_sigma = torch.log(torch.tensor([0.35, 0.3, 0.4]))
    return plots.tempered_mixture_figure(log_pi, mu, log_sigma, taus=(0.3, 1.0, 1.5, 2.0))


@_figure("03_dream_grid", "2. Dreaming CarRacing at different temperatures")
def dream_grid() -> plt.Figure:
    from . import widgets

    _, _, every, _, z0, actions, real = _dream_setup()
    return widgets.dream_grid_figure(_mdnrnn(), _vae(), z0, actions, real, taus=(0.3, 1.0, 1.5, 2.0), seed=SEED,
                                     every=every, frames=8)


@_figure("03_dream_spread", "3. Measured: how wild are the dreams?")
def dream_spread() -> plt.Figure:
    import torch

    from ..worldmodels import probes, vae

    episode, start, _, span, z0, actions, _ = _dream_setup()
    taus = [0.1, 0.3, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0]
    spread = probes.dream_spread(_mdnrnn(), z0, actions, taus, dreams=64, seed=SEED)
    mu, logvar = vae.encode_frames(_vae(), episode.obs[start:start + span + 1])
    real_step = probes.sampled_step_size(torch.from_numpy(mu), torch.from_numpy(logvar), seed=SEED)
    return plots.dream_spread_plot(spread, real_step=real_step)


@_figure("03_vizdoom_tau", "4. Nightmares: the paper's VizDoom result")
def vizdoom_tau() -> plt.Figure:
    from ..experiments import takecover

    return plots.take_cover_tau_figure(takecover.load_shipped_results(), solved=takecover.SOLVED)


@_figure("03_tau_sweep", "5. Measured τ sweep on CarRacing")
def tau_sweep() -> plt.Figure:
    from ..experiments.tau_sweep import TAU_SWEEP_COMMAND, load_tau_sweep
    from .plots import tau_sweep_plot

    sweep = load_tau_sweep()
    if sweep is None:
        raise MissingArtefactError(f"data/tau_sweep.json does not exist yet; make it with:\n    {TAU_SWEEP_COMMAND}")
    ax = tau_sweep_plot(sweep)
    ax.figure.tight_layout()
    return ax.figure


# --- notebook 04 ------------------------------------------------------------------------------------------

@_figure("04_cma_search", "1. CMA-ES on a banana-shaped valley")
def cma_search() -> plt.Figure:
    from ..worldmodels import evolve

    trace = evolve.trace_cma(evolve.rosenbrock, x0=np.array([-1.5, 2.5]), sigma0=0.4, population=8, generations=80,
                             seed=SEED)
    return plots.cma_search_figure(trace, evolve.rosenbrock, generations=[0, 4, 10, 20, 35, 60],
                                   box=((-2, 2), (-1, 3)))


@_figure("04_cma_run", "1. CMA-ES on a banana-shaped valley")
def cma_run():
    """The notebook's animation of the same run: one frame per generation (a GIF)."""
    from ..worldmodels import evolve
    from . import animate

    trace = evolve.trace_cma(evolve.rosenbrock, x0=np.array([-1.5, 2.5]), sigma0=0.4, population=8, generations=60,
                             seed=SEED)
    return animate.cma_animation(trace, evolve.rosenbrock)


@_figure("04_es_race", "2. Exercise: the simplest evolution strategy")
def es_race() -> plt.Figure:
    """The notebook's race: a simple ES with a fixed round cloud at three sizes against CMA-ES, same start."""
    return plots.es_race_figure(np.array([-1.5, 2.5]), seed=SEED)


@_figure("04_shipped_evolution", "The shipped controller's evolution")
def shipped_evolution() -> plt.Figure:
    from ..shipped import catalogue as shipped

    _, _, details = shipped.load_shipped_controller()
    ax = plots.evolution_curve(details["history"], "the shipped controller: its score in the dream, per generation")
    ax.figure.tight_layout()
    return ax.figure


# --- notebook 06 ------------------------------------------------------------------------------------------

@functools.cache
def _two_drives(steps: int = 160):
    """Notebook 06's two drives of the shipped controller: in the real car, and in a dream from the same frame."""
    import torch

    from ..shipped import catalogue as shipped
    from ..worldmodels import agent

    params, config, details = shipped.load_shipped_controller()
    evaluation = shipped.load_shipped_evaluation()
    real = agent.drive_real(agent.WorldModelAgent(_vae(), _mdnrnn(), params, config),
                            seed=evaluation.get("seed", 1000), max_steps=steps)
    dream = agent.drive_dream(_mdnrnn(), params, config, torch.as_tensor(real["z"][0]), tau=details["tau"],
                              max_steps=steps, seed=SEED)
    return details, evaluation, real, dream


CARRACING_SCORE = "score (CarRacing reward: +1000/N per tile, -0.1 per frame)"


@_figure("06_two_scores", "1. Two scores for one controller")
def two_scores() -> plt.Figure:
    from .. import paper
    from ..shipped import catalogue as shipped

    _, _, details = shipped.load_shipped_controller()
    evaluation = shipped.load_shipped_evaluation()
    bars = {"dream (while evolving)": details["history"][-1]["mean"],
            f"real (this controller, {evaluation['episodes']} episodes)": evaluation["mean"],
            "paper: evolved in REAL env": paper.CARRACING_TABLE["full World Model (z, h)"][0]}
    return plots.score_bars(bars, paper.CARRACING_SOLVED, CARRACING_SCORE).figure

@_figure("06_two_worlds", "2. The same controller in the real car and in the dream")
def two_worlds() -> plt.Figure:
    from ..worldmodels import vae

    _, _, real, dream = _two_drives()
    shown = np.linspace(0, min(len(real["frames"]), len(dream["z"])) - 1, 8).astype(int)
    return plots.frame_grid([real["frames"][shown], vae.decode_latents(_vae(), real["z"][shown]),
                             vae.decode_latents(_vae(), dream["z"][shown])],
                            ["real", "V's view\nof real", "dream"], [f"step {t}" for t in shown],
                            suptitle="one controller, two worlds")


@_figure("06_drive", "2. The same controller in the real car and in the dream")
def drive():
    """The notebook's animation: real car, V's view and the dream, in step (a GIF)."""
    import functools as ft

    from ..worldmodels import vae
    from . import animate

    _, _, real, dream = _two_drives()
    return animate.drive_animation(real, dream, ft.partial(vae.decode_latents, _vae()), every=2)


@_figure("06_reward_gap", "3. Where the dream pays and reality does not")
def reward_gap() -> plt.Figure:
    _, _, real, dream = _two_drives()
    return plots.reward_gap_figure(real, dream)


@_figure("06_real_step_curves", "4. The paper's fix, one round: let reality correct the dream")
def real_step_curves() -> plt.Figure:
    from ..shipped import catalogue as shipped

    return _as_figure(plots.real_step_curves(shipped.carracing_step_curves()))


# --- notebook 07 ------------------------------------------------------------------------------------------

@functools.cache
def _cartpole_agent(which: str):
    """The shipped "failure" (random data) or "fixed" (iterative loop) agent of notebook 07: (M, C, features, data)."""
    from ..experiments import cartpole as cartpole_experiment

    return cartpole_experiment.load_shipped(which)


@functools.cache
def _failure_runs():
    """Notebook 07's 3,000 real steps of the failure controller (section 2), the states that section 3 studies."""
    from ..worldmodels import cartpole

    model, params, features, _ = _cartpole_agent("failure")
    return cartpole.collect_episodes(cartpole.WorldModelPolicy(model, params, features), 3000, seed=SEED + 1)


@_figure("07_dream_vs_real", "2. The failure, measured")
def cartpole_dream_vs_real():
    """The notebook's animation: the failure controller from one real start, in reality and in its dream (a GIF)."""
    from ..worldmodels import cartpole
    from . import animate

    model, params, features, _ = _cartpole_agent("failure")
    real = cartpole.play_real(model, params, features, seed=100_000)
    dream, _ = cartpole.play_dream(model, params, real[0], features, seed=SEED, max_steps=300)
    return animate.cartpole_animation(real, dream, every=3, steps=300)


@_figure("07_two_scores", "2. The failure, measured")
def cartpole_two_scores() -> plt.Figure:
    """The notebook's histogram: the failure controller's score in 100 dreams and over 100 real episodes."""
    from ..real import evaluate
    from ..worldmodels import cartpole
    from ..worldmodels.dream import controller_returns as dream_returns

    model, params, features, data = _cartpole_agent("failure")
    world, config = cartpole.controller_dream(model, data.first_states, cartpole.ControllerSettings(features=features),
                                              seed=SEED)
    dream = dream_returns(world, params, config, 100)
    real = evaluate.evaluate(cartpole.ENV_ID, cartpole.WorldModelPolicy(model, params, features), 100,
                             seed=100_000, num_envs=10, progress=False)
    return plots.dream_real_histogram(dream, real.returns, "the failure agent (random data, learned done head): "
                                      "dream vs reality").figure


@_figure("07_coverage", "3a. What random data covers, and what it does not")
def cartpole_coverage() -> plt.Figure:
    from . import cartpole_plots

    return cartpole_plots.coverage_plot({"random-policy data (M's training set)": _cartpole_agent("failure")[3].states,
                                         "the failure controller, in reality": _failure_runs().states,
                                         "iterative-loop data (the fix)": _cartpole_agent("fixed")[3].states})


def _failure_episode():
    runs = _failure_runs()
    return runs.episode(int(np.argmax(runs.lengths[:-10])))


@_figure("07_trajectory", "3b. Errors compound over the horizon")
def cartpole_trajectory() -> plt.Figure:
    from ..worldmodels import cartpole
    from . import cartpole_plots

    model = _cartpole_agent("failure")[0]
    states, actions, _ = _failure_episode()
    dreamed = cartpole.dream_along(model, states, actions, samples=8, seed=SEED)
    return cartpole_plots.trajectory_plot(states, dreamed, cartpole.parting_step(states, dreamed, model),
                                          title="the failure M: same actions, reality vs dream")


@_figure("07_horizon_errors", "3b. Errors compound over the horizon")
def cartpole_horizon_errors() -> plt.Figure:
    import torch

    from ..worldmodels import probes

    states, actions, _ = _failure_episode()
    onehot = torch.nn.functional.one_hot(torch.as_tensor(actions), 2).float()
    horizon = min(30, len(actions) - 1)
    errors = {name: probes.horizon_errors(model.m, model.encode(states), onehot, horizon, mode="likeliest")
              for name, model in (("M trained on random data", _cartpole_agent("failure")[0]),
                                  ("M after the iterative loop", _cartpole_agent("fixed")[0]))}
    return plots.horizon_errors_side_by_side(errors)


@_figure("07_done_along", "3c. The done signal is missing or weak")
def cartpole_done_along() -> plt.Figure:
    from ..worldmodels import cartpole
    from . import cartpole_plots

    failure_m, fixed_m, data = _cartpole_agent("failure")[0], _cartpole_agent("fixed")[0], _cartpole_agent("fixed")[3]
    example, left_track = cartpole.ending_example(data)
    states, actions, dones = data.episode(example)
    heads = {name: cartpole.done_along(model, states, actions) for name, model in
             (("done head, random data", failure_m), ("done head, iterative data", fixed_m))
             if model.m.done_head is not None}
    return cartpole_plots.done_along_plot(states, heads, bool(dones[-1]),
                                          title=f"iterative-data episode {example}: "
                                                f"{'the cart left the track' if left_track else 'an ending'} at step {len(actions)}")


@_figure("07_survival", "3d. Sensitivity near the failure boundary")
def cartpole_survival() -> plt.Figure:
    from ..worldmodels import cartpole
    from . import cartpole_plots

    model, params, features, _ = _cartpole_agent("failure")
    thetas, theta_dots, grid = cartpole.survival_grid(25)
    real, dreamed = cartpole.survival(model, params, features, grid, horizon=100, seed=SEED)
    return cartpole_plots.survival_maps(thetas, theta_dots, real, dreamed, horizon=100)


@_figure("07_results", "4. The fixes, measured")
def cartpole_results() -> plt.Figure:
    """The table over seeds (data/cartpole_seeds.json) as bars: mean dream and real score of every row across
    seeds, the std across seeds, and each seed's real score."""
    from ..experiments import cartpole as cartpole_experiment
    from . import cartpole_plots

    summary = cartpole_experiment.load_over_seeds()
    ax = cartpole_plots.results_over_seeds_plot(summary["rows"])
    ax.figure.set_size_inches(9, 0.5 * len(summary["rows"]) + 1.2)
    ax.figure.tight_layout()
    return ax.figure


@functools.cache
def _cartpole_results() -> dict:
    from ..experiments import cartpole as cartpole_experiment

    return cartpole_experiment.load_cartpole_results()


@_figure("07_learning_curves", "4. The fixes, measured")
def cartpole_learning_curves() -> plt.Figure:
    """The World Model's loop and DQN against real steps: over seeds where data/cartpole_seeds.json has them,
    else the earlier single run (data/cartpole_results.json), labelled one run."""
    from ..experiments import cartpole as cartpole_experiment
    from . import cartpole_plots

    summary = cartpole_experiment.load_over_seeds()
    curves = cartpole_experiment.learning_curves(summary, _cartpole_results())
    ax = cartpole_plots.curves_over_seeds_plot(curves, budget=summary["budget"])
    ax.set_title(f"real score (each seed: mean of {summary['config']['eval_episodes']} episodes) vs real steps",
                 fontsize=10)
    ax.figure.tight_layout()
    return ax.figure


@_figure("07_rounds", "4. The fixes, measured")
def cartpole_rounds() -> plt.Figure:
    """Every round of every iterative loop, scored in reality (dream range in the title): over seeds once the
    loops are in data/cartpole_seeds.json, else the earlier single run, labelled one seed."""
    from ..experiments import cartpole as cartpole_experiment
    from . import cartpole_plots

    summary = cartpole_experiment.load_over_seeds()
    rows = [row for row in summary["rows"] if len(row.get("rounds", ())) > 1]
    if rows:
        dreams = [v for row in rows for r in row["rounds"] for v in r["dream"]["per_seed"].values()]
        ax = cartpole_plots.curves_over_seeds_plot({row["label"]: row["curve"] for row in rows}, budget=summary["budget"])
        which = f"{len(summary['seeds'])} seeds"
    else:
        results = _cartpole_results()
        loops = [row for row in results["rows"] if len(row.get("rounds", ())) > 1]
        dreams = [r["dream_mean"] for row in loops for r in row["rounds"]]
        ax = cartpole_plots.learning_curves_plot({row["label"]: [{"steps": r["steps"], "mean": r["real_mean"],
                                                                  "std": r["real_std"]} for r in row["rounds"]]
                                                  for row in loops}, budget=results["budget"])
        which = f"one earlier run, seed {results['seed']}"
    ax.set_title(f"every round of each iterative loop, real score ({which}); "
                 f"in the dream every round scores {min(dreams):.0f} to {max(dreams):.0f}", fontsize=10)
    ax.figure.set_size_inches(8, 3.6)
    ax.figure.tight_layout()
    return ax.figure


# --- notebook 08 ------------------------------------------------------------------------------------------

@_figure("08_side_by_side", "1. The two architectures, side by side")
def side_by_side() -> plt.Figure:
    from . import dreamer_plots

    dreamer_plots.draw_side_by_side()
    fig = plt.gcf()
    fig.tight_layout()
    return fig


@_figure("08_symlog", "5. symlog: one scale for every reward")
def symlog() -> plt.Figure:
    return plots.symlog_figure()


@_figure("08_lambda_returns", "6. Learning in imagination: λ-returns")
def lambda_returns() -> plt.Figure:
    """The notebook's made-up 15-step dream: every step pays 1, the pole falls after step 10, and the critic is a
    noisy, over-optimistic guesser (about 40 everywhere); the targets R_t for several lambda."""
    from . import dreamer_plots

    return dreamer_plots.plot_lambda_targets(SEED)


# --- writing them ----------------------------------------------------------------------------------------

def select(names: Sequence[str] | None = None) -> list[FigureSpec]:
    """The figures asked for: every one, or those whose names (or notebook numbers, "01") are given."""
    if not names:
        return list(FIGURES.values())
    chosen = [spec for spec in FIGURES.values() if spec.name in names or spec.notebook in names]
    unknown = [n for n in names if n not in FIGURES and n not in {s.notebook for s in FIGURES.values()}]
    if unknown:
        raise CourseError(f"Unknown figure(s) {', '.join(unknown)}: `python -m wmcourse figures --list` lists them.")
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


# --- notebook 05 ------------------------------------------------------------------------------------------

@_figure("05_tau_table", "3. The measured temperature table")
def take_cover_tau_table() -> plt.Figure:
    from ..experiments import takecover

    return plots.take_cover_tau_figure(takecover.load_shipped_results(), solved=takecover.SOLVED)


@_figure("05_training_seeds", "3. The measured temperature table")
def take_cover_training_seeds() -> plt.Figure:
    from ..experiments import takecover

    return plots.take_cover_seeds_figure(takecover.load_training_seeds(), solved=takecover.SOLVED)


def _take_cover_drive(tau: float, steps: int = 400) -> tuple[dict, dict, np.ndarray]:
    """A real Take Cover episode of the controller evolved at tau, its dream at tau from the same first
    frame, and the dream's decoded frames."""
    import torch

    from ..experiments import takecover
    from ..real.envs import TAKE_COVER
    from ..worldmodels import agent, vae

    v, m, _ = takecover.load_shipped_models()
    params, config, _ = takecover.load_shipped_controller(tau)
    seed = takecover.load_shipped_results()["config"]["eval_seed"]
    real = agent.drive_real(agent.WorldModelAgent(v, m, params, config), seed=seed, max_steps=steps, env_id=TAKE_COVER)
    dream = agent.drive_dream(m, params, config, torch.as_tensor(real["z"][0]), tau=tau, max_steps=steps, seed=SEED)
    return real, dream, vae.decode_latents(v, dream["z"])


@_figure("05_dream_vs_real", "4. One controller, in its dream and in reality")
def take_cover_dream_vs_real() -> plt.Figure:
    from ..experiments import takecover
    from ..worldmodels import vae

    real, dream, decoded = _take_cover_drive(1.15)
    v, _, _ = takecover.load_shipped_models()
    n = min(len(real["frames"]), len(decoded))
    shown = np.linspace(0, n - 1, 8).astype(int)
    return plots.frame_grid([real["frames"][shown], vae.decode_latents(v, real["z"][shown]), decoded[shown]],
                            ["real", "V's view", "dream\ntau 1.15"], [f"step {t}" for t in shown], size=1.4)


@_figure("05_cheating", "5. Cheating at low temperature: the fireballs that never come")
def take_cover_cheating() -> plt.Figure:
    real, dream, decoded = _take_cover_drive(0.1)
    n = min(len(real["frames"]), len(decoded))
    shown = np.linspace(0, n - 1, 8).astype(int)
    return plots.frame_grid([real["frames"][shown], decoded[shown]], ["real", "dream\ntau 0.1"],
                            [f"step {t}" for t in shown], size=1.4)
