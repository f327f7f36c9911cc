"""Notebook 07, the CartPole failure case: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
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
from ..worldmodels.cartpole import coverage as package_coverage
from . import animate
from .animate import cartpole_animation as cartpole_animation
from .cartpole_plots import coverage_plot as coverage_plot
from .cartpole_plots import curves_over_seeds_plot as curves_over_seeds_plot
from .cartpole_plots import done_along_plot as done_along_plot
from .cartpole_plots import results_over_seeds_plot as results_over_seeds_plot
from .cartpole_plots import survival_maps as survival_maps
from .cartpole_plots import trajectory_plot as trajectory_plot
from .controls import DriveWidget as DriveWidget
from .controls import FigureControl, slider
from .diagrams import draw_iterative_training as draw_iterative_training
from .drive import CartPoleDriver as CartPoleDriver
from .exercise import Exercise
from .plots import horizon_error_plot
from .slides import SEED, as_figure, slide


def _episode_end_cases():
    """States (N, 4) around CartPole's end rule: inside, outside on each side, exactly on the limits, and
    ones where only the velocities are large (they never end an episode)."""
    import numpy as np

    from ..worldmodels.cartpole import THETA_LIMIT, X_LIMIT

    rows = [[0, 0, 0, 0], [X_LIMIT, 0, 0, 0], [-X_LIMIT, 0, 0, 0], [X_LIMIT + 0.01, 0, 0, 0],
            [-X_LIMIT - 0.01, 0, 0, 0], [0, 0, THETA_LIMIT, 0], [0, 0, -THETA_LIMIT, 0], [0, 0, THETA_LIMIT + 0.01, 0],
            [0, 0, -THETA_LIMIT - 0.01, 0], [0, 3.0, 0, 0], [0, 0, 0, 3.0], [0, 0, 0.5, 0], [0, 0, 11.0, 0],
            [1.0, -1.0, 0.1, -1.0], [-2.0, 0, -0.15, 0], [2.5, 0, 0.3, 0]]
    rng = np.random.default_rng(6)
    random_rows = rng.uniform([-3, -3, -0.4, -3], [3, 3, 0.4, 3], size=(48, 4))
    return np.concatenate([np.array(rows, float), random_rows])  # float64: exactly on the limit stays exact


def _judge_episode_end(f: Any) -> str | None:
    import numpy as np

    from ..worldmodels.cartpole import THETA_LIMIT, X_LIMIT, done_rule

    if not callable(f):
        return f"Expected a function episode_end(states) returning one True/False per state, got {type(f).__name__}."
    states = _episode_end_cases()
    out = f(states.copy())
    if out is None:
        return "Your function returns None: `return` the array of True/False, one per row of states."
    got = np.asarray(out.numpy() if hasattr(out, "numpy") else out)
    if got.shape != (len(states),):
        return f"Return one True/False per state: expected shape ({len(states)},), got {got.shape}."
    got = got.astype(bool)
    want = np.asarray(done_rule(states))
    if (got == want).all():
        return None
    x, theta = np.abs(states[:, 0]), np.abs(states[:, 2])
    if (got == (x > X_LIMIT) | (theta > 12)).all():
        return "The angle is in radians: 12 degrees is 12 * 2 * pi / 360 = 0.2094 rad."
    if (got == (x > X_LIMIT)).all() or (got == (theta > THETA_LIMIT)).all():
        return "There are two ways to lose: the pole falls past 12 degrees OR the cart leaves the track past 2.4."
    if (got == (x >= X_LIMIT) | (theta >= THETA_LIMIT)).all():
        return "Exactly on the limit is still alive: the episode ends only beyond it (use >, not >=)."
    if (got == (states[:, 0] > X_LIMIT) | (states[:, 2] > THETA_LIMIT)).all():
        return "Only one side is checked: the pole can fall left (negative theta) and the cart can leave left too."
    if (got == (np.abs(states[:, 1]) > X_LIMIT) | (np.abs(states[:, 3]) > THETA_LIMIT)).all():
        return ("Columns 1 and 3 are velocities; the rule is about the position x (column 0) and the angle "
                "theta (column 2).")
    wrong = int((got != want).sum())
    return f"{wrong} of {len(states)} states are judged wrongly: check which columns you read and the two limits."


episode_end = Exercise(
    name="episode end",
    judge=_judge_episode_end,
    hint_text="states[:, 0] is the cart position x and states[:, 2] the pole angle theta (radians). An "
              "episode ends when |x| > 2.4 or |theta| > 12 degrees; numpy's np.abs and | (elementwise or) do it for "
              "all rows at once.",
    solution_text=(
        "def episode_end(states):\n"
        "    theta_limit = 12 * 2 * np.pi / 360\n"
        "    return (np.abs(states[:, 0]) > 2.4) | (np.abs(states[:, 2]) > theta_limit)"
    ),
    praise="Correct: that is wmcourse.worldmodels.cartpole.done_rule, the judge that the dream without a done head "
           "applies to M's predicted states. It is exact; what M feeds it is not.",
)


class SurvivalExplorer(FigureControl):
    """Notebook 07: the survival map of a CartPole controller, its dream half recomputed as the dream's
    temperature tau and the done head's threshold move (reality's half stays: it has neither)."""

    def __init__(self, model, params: np.ndarray, features: str, thetas: np.ndarray, theta_dots: np.ndarray,
                 real_steps: np.ndarray, horizon: int = 100, seed: int = 0):
        self.args = (model, params, features)
        self.thetas, self.theta_dots, self.real_steps, self.horizon, self.seed = (thetas, theta_dots, real_steps,
                                                                                  horizon, seed)
        grid = np.zeros((len(thetas) * len(theta_dots), 4), np.float32)
        grid[:, 2], grid[:, 3] = (m.ravel() for m in np.meshgrid(thetas, theta_dots))
        self.starts = grid
        self.tau = slider(W.FloatSlider, "dream temperature tau", value=1.0, min=0.1, max=2.0, step=0.05)
        self.threshold = slider(W.FloatSlider, "done when P(done) >", value=0.5, min=0.05, max=0.95, step=0.05)
        self._build([self.tau, self.threshold])

    def figure_now(self) -> plt.Figure:
        from ..worldmodels import cartpole
        from . import cartpole_plots

        self.dreamed = cartpole.dream_survival(*self.args, self.starts, self.horizon, self.tau.value, self.seed,
                                               self.threshold.value)
        return cartpole_plots.survival_maps(self.thetas, self.theta_dots, self.real_steps, self.dreamed,
                                            self.horizon)


def horizon_errors_side_by_side(errors_by_title: dict[str, dict[str, np.ndarray]],
                                ylabel: str = "squared error per dimension\n(in std units of M's data)") -> plt.Figure:
    """One horizon_error_plot per model, side by side on log axes (notebook 07: the M trained on random data
    next to the M after the iterative loop), each titled by its key."""
    fig, axes = plt.subplots(1, len(errors_by_title), figsize=(6 * len(errors_by_title), 3.4), squeeze=False)
    for ax, (title, errors) in zip(axes[0], errors_by_title.items()):
        horizon_error_plot(errors, ax=ax, title=title)
        ax.set_yscale("log")
        ax.set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def dream_real_histogram(dream: np.ndarray, real: np.ndarray, title: str = "", cap: float = 500.0,
                         ax: plt.Axes | None = None) -> plt.Axes:
    """Scores of one controller in its dream and in reality, as two overlaid histograms with their mean ± std
    (notebook 07: the failure agent; CartPole's cap is 500)."""
    dream, real = np.asarray(dream), np.asarray(real)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    bins = np.linspace(0, cap, 26)
    ax.hist(dream, bins=bins, alpha=0.6, color="#7c3aed",
            label=f"dream: {dream.mean():.1f} ± {dream.std():.1f} ({len(dream)} dreams)")
    ax.hist(real, bins=bins, alpha=0.6, color="#16a34a",
            label=f"reality: {real.mean():.1f} ± {real.std():.1f} ({len(real)} episodes)")
    ax.set_xlabel(f"score (steps the pole stays up; the cap is {cap:.0f})")
    ax.set_ylabel("episodes")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


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


@slide("07_dream_vs_real", "2. The failure, measured")
def slide_cartpole_dream_vs_real():
    """The notebook's animation: the failure controller from one real start, in reality and in its dream (a GIF)."""
    from ..worldmodels import cartpole

    model, params, features, _ = _cartpole_agent("failure")
    real = cartpole.play_real(model, params, features, seed=100_000)
    dream, _ = cartpole.play_dream(model, params, real[0], features, seed=SEED, max_steps=300)
    return animate.cartpole_animation(real, dream, every=3, steps=300)


@slide("07_two_scores", "2. The failure, measured")
def slide_cartpole_two_scores() -> plt.Figure:
    """The notebook's histogram: the failure controller's score in 100 dreams and over 100 real episodes (30 in fast
    mode)."""
    from ..real import evaluate
    from ..worldmodels import cartpole
    from ..worldmodels.dream import controller_returns as dream_returns

    model, params, features, data = _cartpole_agent("failure")
    world, config = cartpole.controller_dream(model, data.first_states, cartpole.ControllerSettings(features=features),
                                              seed=SEED)
    episodes = 30 if fast_mode() else 100  # fast mode: the tests' quick build of the decks
    dream = dream_returns(world, params, config, episodes)
    real = evaluate.evaluate(cartpole.ENV_ID, cartpole.WorldModelPolicy(model, params, features), episodes,
                             seed=100_000, num_envs=10, progress=False)
    return dream_real_histogram(dream, real.returns, "the failure agent (random data, learned done head): "
                                      "dream vs reality").figure


@slide("07_coverage", "3a. What random data covers, and what it does not")
def slide_cartpole_coverage() -> plt.Figure:
    from . import cartpole_plots

    return cartpole_plots.coverage_plot({"random-policy data (M's training set)": _cartpole_agent("failure")[3].states,
                                         "the failure controller, in reality": _failure_runs().states,
                                         "iterative-loop data (the fix)": _cartpole_agent("fixed")[3].states})


def _failure_episode():
    runs = _failure_runs()
    return runs.episode(int(np.argmax(runs.lengths[:-10])))


@slide("07_trajectory", "3b. Errors compound over the horizon")
def slide_cartpole_trajectory() -> plt.Figure:
    from ..worldmodels import cartpole
    from . import cartpole_plots

    model = _cartpole_agent("failure")[0]
    states, actions, _ = _failure_episode()
    dreamed = cartpole.dream_along(model, states, actions, samples=8, seed=SEED)
    return cartpole_plots.trajectory_plot(states, dreamed, cartpole.parting_step(states, dreamed, model),
                                          title="the failure M: same actions, reality vs dream")


@slide("07_horizon_errors", "3b. Errors compound over the horizon")
def slide_cartpole_horizon_errors() -> plt.Figure:
    import torch

    from ..worldmodels import probes

    states, actions, _ = _failure_episode()
    onehot = torch.nn.functional.one_hot(torch.as_tensor(actions), 2).float()
    horizon = min(30, len(actions) - 1)
    errors = {name: probes.horizon_errors(model.m, model.encode(states), onehot, horizon, mode="likeliest")
              for name, model in (("M trained on random data", _cartpole_agent("failure")[0]),
                                  ("M after the iterative loop", _cartpole_agent("fixed")[0]))}
    return horizon_errors_side_by_side(errors)


@slide("07_done_along", "3c. The done signal is missing or weak")
def slide_cartpole_done_along() -> plt.Figure:
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
                                                f"{'the cart left the track' if left_track else 'an ending'} at step "
                                                f"{len(actions)}")


@slide("07_survival", "3d. Sensitivity near the failure boundary")
def slide_cartpole_survival() -> plt.Figure:
    from ..worldmodels import cartpole
    from . import cartpole_plots

    model, params, features, _ = _cartpole_agent("failure")
    thetas, theta_dots, grid = cartpole.survival_grid(25)
    real, dreamed = cartpole.survival(model, params, features, grid, horizon=100, seed=SEED)
    return cartpole_plots.survival_maps(thetas, theta_dots, real, dreamed, horizon=100)


@slide("07_results", "4. The fixes, measured")
def slide_cartpole_results() -> plt.Figure:
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


@slide("07_learning_curves", "4. The fixes, measured")
def slide_cartpole_learning_curves() -> plt.Figure:
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


@slide("07_rounds", "4. The fixes, measured")
def slide_cartpole_rounds() -> plt.Figure:
    """Every round of every iterative loop, scored in reality (dream range in the title): over seeds once the
    loops are in data/cartpole_seeds.json, else the earlier single run, labelled one seed."""
    from ..experiments import cartpole as cartpole_experiment
    from . import cartpole_plots

    summary = cartpole_experiment.load_over_seeds()
    rows = [row for row in summary["rows"] if len(row.get("rounds", ())) > 1]
    if rows:
        dreams = [v for row in rows for r in row["rounds"] for v in r["dream"]["per_seed"].values()]
        ax = cartpole_plots.curves_over_seeds_plot({row["label"]: row["curve"] for row in rows},
                                                   budget=summary["budget"])
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


@slide("07_iterative_training", "The loop, round by round")
def slide_iterative_training() -> plt.Figure:
    return as_figure(draw_iterative_training(rounds=4))


# --- the learner's iterative training loop: checked on made-up parts whose every call is recorded ------------------

class ProbeParts:
    """Stand-ins for the loop's four parts and `join`: data are sets of episode names, an M is the data it was
    trained on, a controller is (number, M), and the held-out scores are known in advance."""

    def __init__(self, held_out_scores: list[float]):
        self.scores = held_out_scores
        self.collected, self.trained, self.evolved, self.scored = [], [], [], []

    def collect(self, controller):
        batch = frozenset({f"episodes of {'random play' if controller is None else f'C{controller[0]}'}"
                           f" #{len(self.collected)}"})
        self.collected.append((controller, batch))
        return batch

    def join(self, a, b):
        return frozenset(a) | frozenset(b)

    def train_m(self, data):
        self.trained.append(frozenset(data))
        return ("M", len(self.trained) - 1, frozenset(data))

    def evolve_c(self, m):
        self.evolved.append(m)
        return (len(self.evolved) - 1, m)

    def held_out(self, controller):
        self.scored.append(controller)
        return self.scores[controller[0]] if controller[0] < len(self.scores) else 0.0


def _judge_iterative_training(f: Any) -> str | None:
    if not callable(f):
        return f"Expected a function iterative_training(parts, rounds), got {type(f).__name__}."
    rounds = 3
    parts = ProbeParts([10.0, 60.0, 30.0, 20.0])  # round 1's controller is the best on the held-out episodes
    out = f(parts, rounds)
    if out is None:
        return "Your function returns None: `return` the controller to keep and the held-out score of every round."
    if not isinstance(out, tuple) or len(out) != 2:
        return "Return two things: (the controller to keep, the list of every round's held-out score)."
    kept, history = out
    if len(parts.evolved) != rounds + 1:
        return (f"Round 0 plus {rounds} rounds make {rounds + 1} controllers; your loop evolved {len(parts.evolved)}. "
                "Round 0 learns from random play, then each round adds data from the last controller.")
    if not parts.collected or parts.collected[0][0] is not None:
        return "Round 0 has no controller yet: collect its data with a random policy, parts.collect(None)."
    if any(c is None for c, _ in parts.collected[1:]):
        return ("After round 0, collect with the current controller (plus the noise parts.collect adds): random data "
                "never reaches the states a better controller visits.")
    for i, (c, _) in enumerate(parts.collected[1:], start=1):
        if c[0] != i - 1:
            return ("Collect each round's data with the newest controller, the one the previous round evolved: its "
                    "mistakes happen where the next controller will drive.")
    everything = frozenset()
    for i, (_, batch) in enumerate(parts.collected):
        everything |= batch
        if i < len(parts.trained) and parts.trained[i] != everything:
            missing = "the newest episodes" if not parts.trained[i] >= batch else "the earlier rounds' episodes"
            return (f"Train each round's M on ALL the data so far: the M of round {i} did not see {missing}. "
                    "Keep the data and parts.join(data, new) each round.")
    for i, m in enumerate(parts.evolved):
        if m[1] != i:
            return ("Evolve each round's controller in the dream of the M trained that round (the new M), "
                    "not an old one.")
    if [c[0] for c in parts.scored] != list(range(rounds + 1)):
        return ("Score every round's controller once on the held-out episodes, round 0 included, and only to choose: "
                "the search itself never sees a real score.")
    if [round(float(h), 6) for h in history] != parts.scores[:rounds + 1]:
        return "Return the held-out score of every round, in order (round 0 first)."
    if kept is None or not isinstance(kept, tuple) or kept[0] != 1:
        if isinstance(kept, tuple) and kept[0] == rounds:
            return ("You kept the last round's controller. More rounds do not always help: keep the round whose "
                    "controller the held-out episodes rate best.")
        return "Keep the controller whose held-out score is the best of all rounds."
    return None


def reference_iterative_training(parts, rounds):
    """The paper's iterative training for a fixed number of rounds, plus the course's addition, a held-out look at
    reality that picks the round to keep: returns (the controller kept, the held-out score of every round)."""
    data = parts.collect(None)                 # round 0: random play
    controller = parts.evolve_c(parts.train_m(data))
    history = [parts.held_out(controller)]
    kept, best = controller, history[0]
    for _ in range(rounds):
        data = parts.join(data, parts.collect(controller))   # the current controller drives, plus noise
        controller = parts.evolve_c(parts.train_m(data))     # a new M on ALL the data; C evolved in its dream
        history.append(parts.held_out(controller))           # a real score only picks the round to keep
        if history[-1] > best:
            kept, best = controller, history[-1]
    return kept, history


iterative_training = Exercise(
    name="the iterative loop",
    judge=_judge_iterative_training,
    hint_text=("Round 0: data = parts.collect(None); M = parts.train_m(data); C = parts.evolve_c(M); score it with "
               "parts.held_out(C). Each later round: data = parts.join(data, parts.collect(C)), then a new M and a "
               "new C the same way. Keep the C with the best held-out score."),
    solution_text=inspect.getsource(reference_iterative_training).replace("def reference_iterative_training",
                                                                          "def iterative_training"),
    praise="Correct: that is the paper's loop (collect with the current C, retrain M on all the data, evolve C in "
           "its dream), plus the course's addition: held-out real episodes pick which round to keep.",
)


@dataclass
class CartPoleParts:
    """The loop's parts on real CartPole, from the package (small sizes: seconds a round). A controller is
    (params, the M it reads); held_out plays real episodes from seeds that nothing else in the notebook uses."""

    first_steps: int = 2000
    round_steps: int = 2000
    train_steps: int = 60
    epsilon: float = 0.1
    held_out_episodes: int = 10
    settings: Any = None
    seed: int = 0

    def __post_init__(self):
        from ..worldmodels import cartpole as cp

        self.settings = self.settings or cp.ControllerSettings(population=16, rollouts=4, generations=4,
                                                               max_steps=200)
        self.rounds_seen = 0

    def collect(self, controller):
        from ..worldmodels import cartpole as cp

        self.rounds_seen += 1
        if controller is None:
            return cp.collect_episodes(None, self.first_steps, seed=self.seed)
        params, model = controller
        policy = cp.WorldModelPolicy(model, params, self.settings.features)
        return cp.collect_episodes(policy, self.round_steps, seed=self.seed + 1000 * self.rounds_seen,
                                   epsilon=self.epsilon)

    def join(self, a, b):
        from ..worldmodels import cartpole as cp

        return cp.Episodes.join([a, b])

    def train_m(self, data):
        from ..worldmodels import cartpole as cp

        model, _ = cp.train_world_model(data, cp.WorldModelConfig(train_steps=self.train_steps),
                                        seed=self.seed + self.rounds_seen)
        model.start_states = data.first_states
        return model

    def evolve_c(self, model):
        from ..worldmodels import cartpole as cp
        from ..worldmodels import evolve

        world, config = cp.controller_dream(model, model.start_states, self.settings, seed=self.seed)
        result = evolve.evolve_in_dream(world, config, cp.evolve_settings(self.settings, self.seed), progress=False)
        return np.asarray(result.best_params), model

    def held_out(self, controller) -> float:
        from ..real.evaluate import evaluate
        from ..worldmodels import cartpole as cp

        params, model = controller
        policy = cp.WorldModelPolicy(model, params, self.settings.features)
        return evaluate(cp.ENV_ID, policy, self.held_out_episodes, seed=LOOP_HELD_OUT_SEED, num_envs=5,
                        progress=False).mean


LOOP_HELD_OUT_SEED = 8_000_000  # the held-out episodes of the learner's loop (no other result uses them)


# --- coverage, written by the learner ------------------------------------------------------------------------------

def _judge_coverage(f: Any) -> str | None:
    from ..worldmodels.cartpole import COVERAGE_CELL, coverage

    if not callable(f):
        return f"Expected a function my_coverage(reference, states, cell, min_count), got {type(f).__name__}."
    rng = np.random.default_rng(3)
    reference = rng.normal(0, 0.25, (400, 4)) * np.array([1, 1, 0.1, 1])
    states = np.concatenate([rng.normal(0, 0.25, (150, 4)) * np.array([1, 1, 0.1, 1]),
                             rng.normal(0.9, 0.25, (50, 4)) * np.array([1, 1, 0.1, 1])])
    cell = COVERAGE_CELL
    out = f(reference.copy(), states.copy(), cell, 3)
    if out is None:
        return "Your function returns None: `return` the share of `states` in well-visited cells (a number in [0, 1])."
    try:
        got = float(out)
    except (TypeError, ValueError):
        return f"Return one number, the share of states covered, got {type(out).__name__}."
    right = coverage(reference, states, cell, 3)
    if abs(got - right) < 1e-9:
        return None
    if abs(got - 100 * right) < 1e-6:
        return "Return a share between 0 and 1, not a percentage."
    if abs(got - coverage(states, reference, cell, 3)) < 1e-9:
        return ("The two arrays are swapped: count the cells of M's data (reference), then ask which of the "
                "controller's states (states) fall in cells that data visited.")
    if abs(got - coverage(reference, states, cell, 1)) < 1e-9:
        return "A cell visited once or twice is not well known to M: count only cells with at least min_count states."
    if abs(got - coverage(reference, states, tuple(2 * c for c in cell), 3)) < 1e-9 or \
            abs(got - coverage(reference, states, (cell[0],) * 4, 3)) < 1e-9:
        return "Use the cell sizes you are given, one per dimension (theta's cell is much smaller than x's)."
    return ("Expected the share of `states` whose box (np.floor(state / cell)) holds at least min_count states of "
            "`reference`.")


coverage_exercise = Exercise(
    name="coverage",
    judge=_judge_coverage,
    hint_text=("boxes = np.floor(reference / np.array(cell)).astype(int); count each box (np.unique with "
               "return_counts, or collections.Counter of tuples); then the mean over states of 'my box has at "
               "least min_count'."),
    solution_text=inspect.getsource(package_coverage).replace("def coverage", "def my_coverage"),
    praise="Correct: the controller's states that M's data never visited are where the dream can only guess.",
)
