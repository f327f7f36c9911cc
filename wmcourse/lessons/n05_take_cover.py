"""Notebook 05, Take Cover, the paper's own dream: its exercises and checkers, its figures and controls, and the slide
figures of its deck (drawn by the same functions the notebook calls).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import paper as paper
from ..artefacts import run_command as run_command
from ..checkpoint import count_parameters as count_parameters
from ..errors import SettingsError, ShapeError

# what the notebook shows from the shared lessons modules (re-exported)
from ..real.envs import TAKE_COVER as TAKE_COVER
from ..real.envs import TAKE_COVER_MAX_STEPS as TAKE_COVER_MAX_STEPS
from ..runtime import fast_mode as fast_mode
from .animate import animate_side_by_side as animate_side_by_side
from .controls import DriveWidget as DriveWidget
from .controls import FigureControl, slider
from .diagrams import draw_dream_loop as draw_dream_loop
from .diagrams import draw_iterative_training as draw_iterative_training
from .drive import DoomDriver as DoomDriver
from .exercise import Exercise, ProbeM, answer_array, probe_mixture, run_probe, sampling_problem
from .plots import bare
from .plots import frame_grid as frame_grid
from .plots import predicted_done_plot as predicted_done_plot
from .plots import return_histogram as return_histogram
from .plots import take_cover_tau_figure as take_cover_tau_figure
from .slides import SEED, as_figure, slide


def _judge_thirds_action(f: Any) -> str | None:
    from ..real.envs import thirds

    if not callable(f):
        return f"Expected a function to_action(o) that maps raw outputs to -1, 0 or +1, got {type(f).__name__}."
    o = np.concatenate([np.linspace(-3, 3, 241), [0.34, 0.345, -0.34, -0.345, 0.36, -0.36]]).astype(np.float32)
    out = f(o.copy())
    if out is None:
        return "Your function returns None: `return` the actions, one per output."
    got = np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float64).reshape(-1)
    if got.shape != o.shape:
        return f"Return one action per output: expected shape {o.shape}, got {got.shape}."
    want = thirds(np.tanh(o))
    if np.array_equal(got, want):
        return None
    if np.array_equal(got, -want):
        return "Left and right are swapped: the lowest third (tanh(o) < -1/3) is left, -1."
    if np.array_equal(got, thirds(o)):
        return "Squash first: the thirds split tanh(o), which lies in [-1, 1], not the raw output o."
    if np.array_equal(got, np.sign(np.tanh(o))):
        return "There are three choices, not two: the middle third (|tanh(o)| <= 1/3) means stay, 0."
    if set(np.unique(got)) - {-1.0, 0.0, 1.0}:
        return "Each action must be exactly -1 (left), 0 (stay) or +1 (right)."
    wrong = int((got != want).sum())
    return f"{wrong} of {len(o)} outputs are mapped wrongly: compare tanh(o) with -1/3 and +1/3."


thirds_action = Exercise(
    name="thirds action",
    judge=_judge_thirds_action,
    hint_text=("t = np.tanh(o); then -1 where t < -1/3, +1 where t > 1/3, 0 elsewhere (np.where, or booleans "
               "subtracted)."),
    solution_text=(
        "def to_action(o):\n"
        "    t = np.tanh(o)\n"
        "    return (t > 1 / 3).astype(float) - (t < -1 / 3).astype(float)"
    ),
    praise="Correct: that is the paper's Take Cover action, wmcourse.real.envs.thirds applied to tanh of C's output.",
)


def take_cover_seeds_figure(summary: dict, solved: float = 750.0) -> plt.Figure:
    """Each training seed's real score (100 episodes, mean ± std) at every tau all seeds measured, and after
    each round of iterative training it ran, beside its dream score: does the temperature table's story survive
    new data, a new V, M and C, and what do the rounds change? (`summary` as `takecover.training_seed_summary`
    returns it.)"""
    from ..experiments.takecover import chosen_test

    taus = [float(t) for t in summary["across_seeds"]]
    rounds = sorted({row["round"]: row["tau"] for run in summary["runs"] for row in run.get("rounds", [])}.items())
    chosen = bool(summary.get("chosen_across_seeds"))  # every seed kept a round on held-out episodes (select_round)
    columns = len(taus) + len(rounds) + chosen
    fig, ax = plt.subplots(figsize=(10, 3.8))
    width = 0.8 / len(summary["runs"])
    colours = ["#0284c7", "#16a34a", "#ea580c", "#7c3aed"]
    for i, (run, colour) in enumerate(zip(summary["runs"], colours)):
        by_tau = {row["tau"]: row for row in run["rows"]}
        by_round = {row["round"]: row for row in run.get("rounds", [])}
        cells = [(k, by_tau[t]) for k, t in enumerate(taus)]  # a round this seed did not run has no bar
        cells += [(len(taus) + k, by_round[r]) for k, (r, _) in enumerate(rounds) if r in by_round]
        if chosen:  # the kept round's controller on fresh episodes, with that round's dream score
            selection = run["selection"]
            made = by_round.get(selection["chosen_round"]) or by_tau[selection["tau"]]
            test = chosen_test(selection)
            cells.append((columns - 1, {**made, "real_mean": test["real_mean"], "real_std": test["real_std"]}))
        x = np.array([k for k, _ in cells]) + (i - (len(summary["runs"]) - 1) / 2) * width
        ax.bar(x, [row["real_mean"] for _, row in cells], width * 0.9, yerr=[row["real_std"] for _, row in cells],
               color=colour, ec="k", capsize=3, label=f"training seed {run['seed']}: real")
        ax.plot(x, [row["dream_mean"] for _, row in cells], "v", color=colour, mec="k", ms=9)
    ax.plot([], [], "v", color="w", mec="k", ms=9, label="its dream score")
    random = np.mean([run["random_real_mean"] for run in summary["runs"]])
    ax.axhline(solved, color="k", ls="--", lw=1, label=f"solved ({solved:g})")
    ax.axhline(random, color="#6b7280", ls=":", lw=1.2, label=f"random policy ({random:.0f})")
    ax.set_xticks(np.arange(columns), [f"τ = {t:g}" for t in taus]
                  + [f"τ = {tau:g}\nafter round {r}" for r, tau in rounds] + ["kept round,\nfresh episodes"] * chosen)
    if rounds:
        ax.axvline(len(taus) - 0.5, color="#9ca3af", lw=1)
    if chosen:
        ax.axvline(columns - 1.5, color="#9ca3af", lw=1)
    ax.set_ylabel("steps survived")
    ax.set_title("Take Cover over training seeds: each a new dataset, V, M and C", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


@slide("05_tau_table", "3. The measured temperature table")
def slide_take_cover_tau_table() -> plt.Figure:
    from ..experiments import takecover

    return take_cover_tau_figure(takecover.load_shipped_results(), solved=takecover.SOLVED)


@slide("05_training_seeds", "3. The measured temperature table")
def slide_take_cover_training_seeds() -> plt.Figure:
    from ..experiments import takecover

    return take_cover_seeds_figure(takecover.load_training_seeds(), solved=takecover.SOLVED)


# the slides' Take Cover episodes and dreams are cut here (fast mode: the tests' quick build of the decks)
SLIDE_STEPS = 150 if fast_mode() else 400


@functools.cache
def _take_cover_drive(tau: float, steps: int = SLIDE_STEPS) -> tuple[dict, dict, np.ndarray]:
    """A real Take Cover episode of the controller evolved at tau, its dream at tau from the same first
    frame (play_tau), and the dream's decoded frames (played once per tau and step count: several slides show
    them)."""
    from ..experiments import takecover
    from ..worldmodels import vae

    v, m, _ = takecover.load_shipped_models()
    real, dream = play_tau(v, m, tau, takecover.load_shipped_results()["config"]["eval_seed"], steps)
    return real, dream, vae.decode_latents(v, dream["z"])


@slide("05_dream_vs_real", "4. One controller, in its dream and in reality")
def slide_take_cover_dream_vs_real() -> plt.Figure:
    from ..experiments import takecover
    from ..worldmodels import vae

    real, dream, decoded = _take_cover_drive(1.15)
    v, _, _ = takecover.load_shipped_models()
    n = min(len(real["frames"]), len(decoded))
    shown = np.linspace(0, n - 1, 8).astype(int)
    return frame_grid([real["frames"][shown], vae.decode_latents(v, real["z"][shown]), decoded[shown]],
                      ["real", "V's view", "dream\ntau 1.15"], [f"step {t}" for t in shown], size=1.4)


@slide("05_cheating", "5. Cheating at low temperature: the fireballs that never come")
def slide_take_cover_cheating() -> plt.Figure:
    real, dream, decoded = _take_cover_drive(0.1)
    n = min(len(real["frames"]), len(decoded))
    shown = np.linspace(0, n - 1, 8).astype(int)
    return frame_grid([real["frames"][shown], decoded[shown]], ["real", "dream\ntau 0.1"],
                      [f"step {t}" for t in shown], size=1.4)


# --- the learner picks the temperature: one shipped controller, its dream and its real game -----------------------

def shipped_taus() -> list[float]:
    """The temperatures the course ships a Take Cover controller for (the rows of the measured table)."""
    from ..experiments import takecover

    return [float(row["tau"]) for row in takecover.load_shipped_results()["rows"]]


REAL_EVERY = 2  # a picked episode keeps every 2nd real frame (a 2,100-step episode: about 13 MB) and every dream code


def play_tau(v, m, tau: float, seed: int, max_steps: int = TAKE_COVER_MAX_STEPS,
             dream_seed: int = SEED) -> tuple[dict, dict]:
    """The shipped controller evolved in the dream at `tau`, played twice: one real episode (seed `seed`) and one
    dream at the same tau from V's code of that episode's first frame (wmcourse.worldmodels.agent.drive_real and
    drive_dream, as in the notebook's section 4). Returns (real, dream)."""
    from ..experiments import takecover
    from ..worldmodels import agent

    if not tau > 0:
        raise SettingsError(f"tau must be positive, got {tau}.")
    params, config, _ = takecover.load_shipped_controller(tau)
    real = agent.drive_real(agent.WorldModelAgent(v, m, params, config), seed=seed, max_steps=max_steps,
                            env_id=TAKE_COVER)
    dream = agent.drive_dream(m, params, config, torch.as_tensor(real["z"][0]), tau=tau, max_steps=max_steps,
                              seed=dream_seed)
    return real, dream


def tau_episode(v, m, tau: float, seed: int, max_steps: int = TAKE_COVER_MAX_STEPS, dream_seed: int = SEED) -> dict:
    """play_tau's real episode and dream, kept as tau_dream_vs_real_figure shows them (episode_record)."""
    return episode_record(tau, *play_tau(v, m, tau, seed, max_steps, dream_seed), max_steps)


def episode_record(tau: float, real: dict, dream: dict, max_steps: int = TAKE_COVER_MAX_STEPS) -> dict:
    """A real episode and a dream already played (drive_real, drive_dream) as tau_episode keeps them: the steps
    survived in each, every REAL_EVERY-th real frame, and the dream's codes (V decodes the ones shown)."""
    return {"tau": float(tau), "max_steps": max_steps, "real_steps": len(real["rewards"]),
            "dream_steps": len(dream["rewards"]), "real_frames": np.asarray(real["frames"][::REAL_EVERY], np.uint8),
            "dream_z": np.asarray(dream["z"], np.float32)}


def _survived(steps: int, max_steps: int) -> str:
    if steps >= max_steps:
        return f"{steps:,} steps (the cap)" if max_steps == TAKE_COVER_MAX_STEPS else f"{steps:,} steps (cut here)"
    return f"{steps:,} steps"


def _shown_steps(last: int, start: int | None, frames: int, spacing: int) -> np.ndarray:
    """Steps to show: `frames` evenly over 0..last (start None), else start, start + spacing, ..."""
    if start is None:
        return np.linspace(0, last, frames).round().astype(int)
    return start + spacing * np.arange(frames)


def tau_dream_vs_real_figure(v, episodes: list[dict] | dict, start: int | None = None, frames: int = 8,
                             spacing: int = 8, size: float = 1.25) -> plt.Figure:
    """Each episode (tau_episode) as two rows, in step: its dream at its tau (codes decoded by V), then its real game,
    each frame captioned with its step, each row with the steps it survived. start None: `frames` frames spread
    over each whole episode; a step number: a close-up, `frames` frames `spacing` steps apart from that step (a
    game that is over by then shows an empty panel)."""
    from ..worldmodels import vae as _vae

    episodes = [episodes] if isinstance(episodes, dict) else list(episodes)
    if not episodes:
        raise SettingsError("Expected at least one episode (lesson.tau_episode), got none.")
    fig, axes = plt.subplots(2 * len(episodes), frames, squeeze=False,
                             figsize=(size * frames + 2.2, 2 * len(episodes) * (size + 0.35)))
    for i, e in enumerate(episodes):
        dream_at = _shown_steps(e["dream_steps"], start, frames, spacing)   # codes: the start, then one per step
        real_at = _shown_steps(e["real_steps"] - 1, start, frames, spacing)
        inside = dream_at <= e["dream_steps"]
        dreamed = np.zeros((frames, 64, 64, 3), np.uint8)
        if inside.any():
            dreamed[inside] = _vae.decode_latents(v, e["dream_z"][dream_at[inside]])
        kept = np.minimum(real_at // REAL_EVERY, len(e["real_frames"]) - 1)
        rows = ((f"dream, τ = {e['tau']:g}\nsurvived {_survived(e['dream_steps'], e['max_steps'])}", dreamed,
                 dream_at, inside, "#7c3aed"),
                (f"real game\nsurvived {_survived(e['real_steps'], e['max_steps'])}", e["real_frames"][kept],
                 kept * REAL_EVERY, real_at < e["real_steps"], "#15803d"))
        for r, (label, images, at, alive, colour) in enumerate(rows):
            for j in range(frames):
                ax = bare(axes[2 * i + r][j])
                if alive[j]:
                    ax.imshow(images[j], interpolation="nearest")
                    ax.set_xlabel(f"step {int(at[j])}", fontsize=7, labelpad=1)
                else:
                    ax.set_xlabel("over", fontsize=7, labelpad=1, color="#b91c1c")
                if j == 0:
                    ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9, color=colour)
    which = (f"the controller evolved at τ = {episodes[0]['tau']:g}" if len(episodes) == 1
             else "the controllers evolved at each τ")
    where = "over the whole episode" if start is None else f"every {spacing} steps from step {start}"
    fig.suptitle(f"{which}: its dream at that τ, then the real game ({where})", fontsize=10)
    fig.tight_layout()
    return fig


class TemperaturePicker(FigureControl):
    """Notebook 05: pick tau on a slider of the shipped temperatures; see the controller evolved at that tau in
    its dream (at the same tau) and in one real episode (tau_episode, tau_dream_vs_real_figure): the whole episode,
    or a close-up from a step on the scrubber. Each tau's episodes are played once and kept, so going back to a tau
    costs nothing. `played` {tau: (real, dream)}: episodes the notebook has already played (the same seed, the same
    max_steps, the dream from the real first frame's code at that tau with seed SEED), kept without playing them
    again."""

    def __init__(self, v, m, seed: int, max_steps: int = TAKE_COVER_MAX_STEPS, taus: list[float] | None = None,
                 tau: float = 1.15, played: dict[float, tuple[dict, dict]] | None = None, spacing: int = 8):
        import ipywidgets as W

        self.v, self.m, self.seed, self.max_steps, self.spacing = v, m, seed, max_steps, spacing
        taus = sorted(shipped_taus() if taus is None else taus)
        if tau not in taus:
            raise SettingsError(f"There is no shipped controller for tau = {tau}: pick one of {taus}.")
        self.episodes: dict[float, dict] = {float(t): episode_record(t, real, dream, max_steps)
                                            for t, (real, dream) in (played or {}).items()}
        self.tau = slider(W.SelectionSlider, "τ the controller was evolved at", options=[(f"{t:g}", t) for t in taus],
                          value=tau, width="330px")
        self.view = W.ToggleButtons(options=["whole episode", "close-up"], value="whole episode",
                                    style={"button_width": "105px"})
        self.start = slider(W.IntSlider, "close-up from step", value=0, min=0, max=max_steps - 1, step=spacing,
                            width="330px")
        self.start.observe(lambda _: setattr(self.view, "value", "close-up"), names="value")  # scrubbing: close up
        self._build([self.tau, self.view, self.start])

    def episode(self, tau: float) -> dict:
        """tau_episode for this tau, played the first time it is asked for."""
        if tau not in self.episodes:
            self.episodes[tau] = tau_episode(self.v, self.m, tau, self.seed, self.max_steps)
        return self.episodes[tau]

    def figure_now(self) -> plt.Figure:
        start = None if self.view.value == "whole episode" else self.start.value
        return tau_dream_vs_real_figure(self.v, self.episode(self.tau.value), start, spacing=self.spacing)


@slide("05_pick_temperature", "Pick the temperature yourself")
def slide_pick_temperature() -> plt.Figure:
    """What the TemperaturePicker shows for tau 0.1 and 1.15 (tau_dream_vs_real_figure), the episodes cut at
    SLIDE_STEPS: the same real episode and dream as the slides of sections 4 and 5."""
    from ..experiments import takecover

    v, _, _ = takecover.load_shipped_models()
    episodes = []
    for tau in (0.1, 1.15):
        real, dream, _ = _take_cover_drive(tau)
        episodes.append(episode_record(tau, real, dream, max_steps=SLIDE_STEPS))
    fig = tau_dream_vs_real_figure(v, episodes)
    fig.suptitle(f"the controllers evolved at τ = 0.1 and at τ = 1.15: each in its dream at that τ, then in the real "
                 f"game (the first {SLIDE_STEPS} steps)", fontsize=10)
    return fig


# --- the learner's dream rollout: checked on a made-up M whose every number the checker knows -----------------

def _judge_dream_rollout(f: Any) -> str | None:
    if not callable(f):
        return f"Expected a function dream_rollout(m, policy, z0, tau, max_steps), got {type(f).__name__}."
    # 1. the order of a step, the features C reads, and when a dream ends
    ends = torch.tensor([3.0, 5.0, 8.0, 2.0])
    m = ProbeM(probe_mixture([1.0], [0.0], [0.1]), ends)
    scores, policy = run_probe(f, m, 1.0, 20, len(ends))
    if isinstance(scores, str):
        return scores
    if not policy.seen or not m.seen_z:
        return "Your rollout must call policy(features) and m.step(z, action, state) each step."
    if any(len(seen) != len(ends) for seen in policy.seen):
        return ("Keep every dream in the batch until the last one ends (a mask says which still count): C's "
                "population is matched to the rows of the batch by their position.")
    first = policy.seen[0]
    if first.shape[-1] != m.z_size + 2 * m.hidden:
        return (f"Take Cover's C reads [z, h, c]: {m.z_size} + {m.hidden} + {m.hidden} numbers here, got "
                f"{first.shape[-1]}. Concatenate z, M's h and M's cell c.")
    later = policy.seen[2][0] if len(policy.seen) > 2 else None
    if later is not None:
        h_part, c_part = later[m.z_size:m.z_size + m.hidden], later[m.z_size + m.hidden:]  # dream 0, step 2
        if (torch.allclose(h_part, torch.full_like(h_part, 4.0))
                and torch.allclose(c_part, torch.full_like(c_part, 2.0))):
            return "The memory parts are in the wrong order: C reads [z, h, c], h before c."
        if not torch.allclose(h_part, torch.full_like(h_part, 2.0)):
            return ("C was shown a memory h that M had not updated with the last step: after each m.step, keep the "
                    "new state it returns and give C that (h_t after t steps).")
    if any(not torch.equal(a.reshape(given.shape), given) for a, given in zip(m.seen_actions, policy.given)):
        return "Give M the action C chose this step: m.step(z, policy(features), state)."
    if torch.allclose(scores, torch.full_like(scores, 20.0)):
        return ("Your dreams never end: M's done head says when the game is over (end a dream where "
                "sigmoid(out.done_logit) > 0.5), and a dream that has ended earns nothing more.")
    if torch.allclose(scores, torch.full_like(scores, float(ends.max()))) or (scores > ends).any():
        return ("A dream that has ended earned more: keep adding only while a dream is alive (a mask), since the "
                "batch goes on stepping until its last dream ends.")
    if torch.allclose(scores, torch.full_like(scores, float(ends.min()))):
        return "You stopped every dream when the first one ended: each dream ends on its own step."
    if torch.allclose(scores, ends - 1):
        return "Count the step on which M ends the game too: a dream that ends after its 3rd step survived 3 steps."
    if not torch.allclose(scores, ends):
        return (f"Expected each dream to score the steps it survived, {ends.tolist()} here; got "
                f"{[round(float(s), 2) for s in scores]}.")
    # 2. the done head gives a logit, not a probability
    m = ProbeM(probe_mixture([1.0], [0.0], [0.1]), torch.tensor([3.0, 4.0]), end_logit=0.3)
    scores, _ = run_probe(f, m, 1.0, 12, 2)
    if isinstance(scores, str):
        return scores
    if not torch.allclose(scores, torch.tensor([3.0, 4.0])):
        return ("out.done_logit is a logit: the game ends where its probability sigmoid(logit) > 0.5 "
                "(a logit above 0), not where the logit itself is above 0.5.")
    # 3. the fed-back z is a sample of the tempered mixture, one component per dimension
    return sampling_problem(functools.partial(_fed_back_z, f))


def _fed_back_z(f, mixture: tuple, tau: float, seed: int, n: int = 4000) -> torch.Tensor | str:
    """The z the learner's rollout feeds back after its first step, in n dreams of a probe M with this mixture
    that never ends them (n, 2); or the sentence that says what is wrong."""
    m = ProbeM(mixture, torch.full((n,), 10.0**6))
    scores, _ = run_probe(f, m, tau, 2, n, seed=seed)
    if isinstance(scores, str):
        return scores
    if len(m.seen_z) < 2:
        return "With no done, a dream runs max_steps steps: call m.step max_steps times."
    return m.seen_z[1]


def reference_rollout(m, policy, z0, tau, max_steps):
    """Play len(z0) dreams of M at once from the start codes z0; return each dream's score (steps survived)."""
    h, c = m.initial_state(len(z0))
    z, score = z0, torch.zeros(len(z0))
    alive = torch.ones(len(z0), dtype=torch.bool)
    for _ in range(max_steps):
        action = policy(torch.cat([z, h, c], dim=-1))        # C acts on what M imagines
        out, (h, c) = m.step(z, action, (h, c))              # M reads z_t, a_t and updates its memory
        score += alive.float()                                # one point for each dream still in the game
        alive &= torch.sigmoid(out.done_logit) <= 0.5         # M's done head ends some games here
        if not alive.any():
            break
        log_pi = torch.log_softmax(out.log_pi / tau, dim=-1)  # pi^(1/tau), normalised
        k = torch.distributions.Categorical(logits=log_pi).sample().unsqueeze(-1)  # one k per dimension
        mu = out.mu.gather(-1, k).squeeze(-1)
        sigma = out.log_sigma.gather(-1, k).squeeze(-1).exp() * tau ** 0.5
        z = mu + sigma * torch.randn_like(mu)                 # a sample, fed back: the dream goes on
    return score


dream_rollout = Exercise(
    name="the dream rollout",
    judge=_judge_dream_rollout,
    hint_text=("Each step: features = [z, h, c]; a = policy(features); out, (h, c) = m.step(z, a, (h, c)); "
               "add 1 to the dreams still alive; end those where sigmoid(out.done_logit) > 0.5; then draw the next "
               "z from the tempered mixture of out.log_pi, out.mu, out.log_sigma (notebook 03's temperature)."),
    solution_text=inspect.getsource(reference_rollout).replace("def reference_rollout", "def dream_rollout"),
    praise="Correct: that is the dream. C acts on what M imagines, M's sample is fed back, and M decides when "
           "the game is over.",
)


# --- the learner's rollout at work: CMA-ES in the dream, then the real game ------------------------------------

LEARNER_EPISODE_SEED = 7_000_000  # real episodes that score the learner's controller (no other result uses them)


def population_policy(population, config, dreams: int):
    """C for a whole CMA-ES population in one batch: rows [c * dreams, (c + 1) * dreams) belong to candidate c.

    population (P, n) -> a policy(features (P * dreams, inputs)) -> actions (P * dreams, 1)."""
    from ..worldmodels import controller

    params = torch.as_tensor(np.asarray(population), dtype=torch.float32)

    def policy(features):
        features = torch.as_tensor(features, dtype=torch.float32)
        if len(features) != len(params) * dreams:
            raise ShapeError(f"Expected {len(params) * dreams} rows of features ({len(params)} candidates x {dreams} "
                             f"dreams), got {len(features)}: keep every dream in the batch until the last one ends.")
        actions = controller.act(params, features.view(len(params), dreams, -1), config)
        return actions.reshape(len(features), -1).float()

    return policy


def evolve_with(rollout, m, starts: torch.Tensor, tau: float, population: int = 16, dreams: int = 4,
                generations: int = 10, max_steps: int = 2100, sigma_init: float = 0.1, seed: int = 0,
                fitness=None):
    """CMA-ES (wmcourse.worldmodels.evolve.evolve) with every candidate scored by YOUR rollout: the mean of `dreams`
    dreams each.

    `fitness(scores, population, dreams)` turns the rollout's scores into one number per candidate (default:
    reference_fitness, the mean). Returns (the search mean after the last generation, the controller's config,
    the history: each generation's best, mean and worst fitness)."""
    from itertools import count

    from ..worldmodels import controller, evolve

    config = controller.ControllerConfig(input_size=m.config.z_size + 2 * m.config.hidden, action_size=1,
                                         squash="thirds")
    generator, generation = torch.Generator().manual_seed(seed), count()

    def score(candidates: np.ndarray) -> np.ndarray:
        z0 = starts[torch.randint(len(starts), (population * dreams,), generator=generator)]
        torch.manual_seed(seed * 100_003 + next(generation))  # the rollout's own draws, repeatable
        with torch.no_grad():
            scores = torch.as_tensor(rollout(m, population_policy(candidates, config, dreams), z0, tau, max_steps))
        return np.asarray(torch.as_tensor((fitness or reference_fitness)(scores.float(), population, dreams)))

    settings = evolve.EvolveConfig(population=population, rollouts=dreams, sigma_init=sigma_init,
                                   generations=generations, seed=seed)
    result = evolve.evolve(score, config.n_params, settings, progress=False)
    return np.asarray(result.best_params, np.float32), config, result.history


def real_survival(v, m, params, config, episodes: int, seed: int = LEARNER_EPISODE_SEED):
    """Steps survived in the real Take Cover by V + M + this controller, and by a random policy, on the same
    `episodes` episodes: (controller's returns, random's returns)."""
    from ..real import evaluate
    from ..worldmodels.agent import WorldModelAgent

    mine = evaluate.evaluate(TAKE_COVER, WorldModelAgent(v, m, params, config), episodes, seed=seed, progress=False)
    random = evaluate.evaluate(TAKE_COVER, None, episodes, seed=seed, progress=False)
    return mine.returns, random.returns


# the notebook's own search with the learner's rollout: a few generations on a laptop, fewer in fast mode
LEARNER_SEARCH = {"population": 16, "dreams": 4, "generations": 8, "max_steps": 600}
LEARNER_SEARCH_FAST = {"population": 8, "dreams": 2, "generations": 4, "max_steps": 300}


def learner_episodes(fast: bool) -> int:
    """Real episodes that score the learner's controller (and random play beside it)."""
    return 2 if fast else 12


def learner_result_figure(history: list[dict], mine: np.ndarray, random: np.ndarray) -> plt.Figure:
    """The learner's search in the dream (population mean and best per generation) and its controller in the
    real game beside random play on the same episodes."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    generations = [h["generation"] for h in history]
    left.plot(generations, [h["mean"] for h in history], "o-", label="population mean")
    left.plot(generations, [h["best"] for h in history], "s--", label="best candidate")
    left.set(xlabel="generation", ylabel="steps survived in the dream", title="CMA-ES with your rollout")
    left.legend()
    names = ["random policy", "your controller"]
    means = [float(np.mean(random)), float(np.mean(mine))]
    stds = [float(np.std(random)), float(np.std(mine))]
    right.bar(names, means, yerr=stds, color=["#9ca3af", "#2563eb"], capsize=6)
    for i, values in enumerate([random, mine]):
        right.plot(np.full(len(values), i) + np.linspace(-0.15, 0.15, len(values)), values, "k.", alpha=0.5)
    right.set(ylabel="steps survived in the real game",
              title=f"the real game, {len(mine)} episodes: {means[1]:.0f} vs {means[0]:.0f}")
    fig.tight_layout()
    return fig


@slide("05_dream_loop", "Exercise 2: write the dream yourself")
def slide_dream_loop() -> plt.Figure:
    return as_figure(draw_dream_loop())


@slide("05_iterative_training", "The paper's remedy: iterate")
def slide_iterative_training() -> plt.Figure:
    return as_figure(draw_iterative_training())


# --- a candidate's fitness in the dream -------------------------------------------------------------------------

def _judge_fitness(f: Any) -> str | None:
    if not callable(f):
        return f"Expected a function fitness(scores, population, dreams), got {type(f).__name__}."
    population, dreams = 3, 4
    # candidate c's dreams are rows c * dreams ... c * dreams + dreams - 1: 0-3 for c = 0, 4-7 for c = 1, ...
    scores = torch.tensor([10.0, 30.0, 20.0, 20.0, 100.0, 0.0, 0.0, 0.0, 50.0, 50.0, 60.0, 40.0])
    got = answer_array(f(scores.clone(), population, dreams), (population,), "per candidate")
    if isinstance(got, str):
        return got
    got = torch.as_tensor(got, dtype=torch.float32)
    by_row = scores.view(population, dreams)
    if torch.allclose(got, by_row.mean(dim=1)):
        return None
    if torch.allclose(got, scores.view(dreams, population).mean(dim=0)):
        return ("Your candidates are mixed up: rows c * dreams to c * dreams + dreams - 1 are candidate c's "
                "dreams, so reshape to (population, dreams).")
    if torch.allclose(got, by_row.max(dim=1).values):
        return ("The best of a candidate's dreams rewards luck, not skill: a dream is noisy, and the paper scores a "
                "candidate by its average over its rollouts.")
    if torch.allclose(got, by_row.sum(dim=1)):
        return "Report the average over the dreams, not their sum: the score of a candidate is per dream."
    if torch.allclose(got, by_row.median(dim=1).values):
        return "The paper averages a candidate's dreams: use the mean, not the median."
    return "Expected each candidate's average score over its own dreams."


def reference_fitness(scores: torch.Tensor, population: int, dreams: int) -> torch.Tensor:
    """Each candidate's mean score over its own dreams (rows c * dreams ... c * dreams + dreams - 1)."""
    return scores.view(population, dreams).mean(dim=1)


fitness_exercise = Exercise(
    name="fitness in the dream",
    judge=_judge_fitness,
    hint_text="scores has population * dreams entries, candidate by candidate: view it as (population, dreams).",
    solution_text=inspect.getsource(reference_fitness).replace("def reference_fitness", "def fitness"),
    praise="Correct: each candidate is judged by its average over its own dreams, as the paper averaged 16 "
           "rollouts per candidate.",
)
