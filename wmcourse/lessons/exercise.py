"""Exercises and their checkers: `ex.check(answer)` says in one sentence what is wrong, `ex.hint()`,
`ex.solution()`. Each exercise has a judge: None when the answer is right, otherwise a sentence naming the
mistake without giving the expected value away. The lessons (nNN_*.py) define the exercises; tests call the judges.
A checker of a function that drives M runs it on a probe (ProbeM, ProbePolicy, run_probe): a made-up M and C
that record what they are given and whose every number the checker knows; sampling_problem checks the z's such a
function draws from M's tempered mixture.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..worldmodels.mdnrnn import MDNRNNOutput


@dataclass(frozen=True)
class Exercise:
    name: str
    judge: Callable[[Any], str | None]
    hint_text: str
    solution_text: str
    praise: str = "Correct."

    def problem(self, answer: Any) -> str | None:
        """What is wrong with the answer, in a sentence (None when it is right)."""
        if answer is None or answer is Ellipsis:
            return "Not attempted yet: replace the `...` with your answer and run the cell again."
        try:
            return self.judge(answer)
        except Exception as exc:  # a learner's function that crashes is a mistake to report, not to raise
            return f"Your answer raised {type(exc).__name__}: {exc}"

    def check(self, answer: Any) -> None:
        """Print whether the answer is right and, if not, what is wrong (returns nothing, so a notebook cell
        that ends with it shows the sentence alone; `problem` gives the same verdict to code)."""
        problem = self.problem(answer)
        print(f"[{self.name}] " + (self.praise if problem is None else f"Not yet. {problem}"))

    def hint(self) -> None:
        print(f"[{self.name}] Hint: {self.hint_text}")

    def solution(self) -> None:
        print(f"[{self.name}] Solution:\n{self.solution_text}")


def _is_number(answer: Any) -> bool:
    return isinstance(answer, (int, float)) and not isinstance(answer, bool) and math.isfinite(answer)


_FUNCTION_NOT_DONE = ("Not attempted yet: your function returns nothing; replace the `...` with your code and run the "
                      "cell again.")


def answer_array(out: Any, shape: tuple[int, ...], one_per: str) -> np.ndarray | str:
    """A learner's returned numbers as a float array of `shape`, or the sentence that says what is wrong with them
    (None returned, not numbers, the wrong shape): `one_per` names what each number is for ("per dream")."""
    if out is None:
        return f"Your function returns None: `return` one number {one_per}."
    try:
        got = np.asarray(out.detach() if hasattr(out, "detach") else out, dtype=np.float64)
    except (TypeError, ValueError):
        return f"Return numbers, one {one_per}, got {type(out).__name__}."
    if got.shape != shape:
        return f"Return one number {one_per}: expected shape {shape}, got {got.shape}."
    return got


# --- probes: a made-up M and C whose every number a checker knows ---------------------------------------------

class ProbeM:
    """A stand-in for M (an MDN-RNN) with M's interface (initial_state, step -> (out, state)) and a known answer,
    for checking a learner's function that drives M (notebook 05's dream rollout).

    Its memory counts steps: after t steps every entry of h is t and of c is 1000 i + 2t for dream i, so the
    checker can tell which memory C was shown and which dream a row is (a rollout may drop finished dreams from
    its batch). Its mixture is set by the test (log_pi, mu, log_sigma over (D, K)), and dream i ends after step
    ends[i] (done logit `end_logit` there, -10 elsewhere). It records what it was given."""

    def __init__(self, mixture: tuple, ends: torch.Tensor, end_logit: float = 10.0, z_size: int = 2,
                 hidden: int = 3):
        self.mixture, self.ends, self.end_logit = mixture, ends, end_logit
        self.z_size, self.hidden = z_size, hidden
        self.seen_z, self.seen_actions, self.seen_h = [], [], []

    def initial_state(self, batch_size: int, device=None):
        h = torch.zeros(batch_size, self.hidden)
        return h, 1000.0 * torch.arange(batch_size, dtype=torch.float32).unsqueeze(1).expand(-1, self.hidden).clone()

    def step(self, z, action, state=None):
        z, action = torch.as_tensor(z, dtype=torch.float32), torch.as_tensor(action, dtype=torch.float32)
        h, c = state if state is not None else self.initial_state(len(z))
        self.seen_z.append(z.detach().clone())
        self.seen_actions.append(action.detach().clone())
        self.seen_h.append(h.detach().clone())
        dream = ((c[:, 0] - 2.0 * h[:, 0]) / 1000.0).round().long().clamp(0, len(self.ends) - 1)
        h, c = h + 1.0, c + 2.0
        batch = len(z)
        log_pi, mu, log_sigma = (t.expand(batch, *t.shape).clone() for t in self.mixture)
        done = torch.where(h[:, 0] >= self.ends[dream], torch.tensor(self.end_logit), torch.tensor(-10.0))
        return MDNRNNOutput(log_pi, mu, log_sigma, None, done), (h, c)


class ProbePolicy:
    """C for the probe: records the features it is shown and answers a = tanh(sum of them) (one number)."""

    def __init__(self):
        self.seen, self.given = [], []

    def __call__(self, features):
        features = torch.as_tensor(features, dtype=torch.float32)
        self.seen.append(features.detach().clone())
        action = torch.tanh(features.sum(dim=-1, keepdim=True) * 0.01)
        self.given.append(action.clone())
        return action


def probe_mixture(pi: list[float], mu: list[float], sigma: list[float], dims: int = 2) -> tuple:
    """(log_pi, mu, log_sigma), each (dims, K): the same K-component mixture on every dimension."""
    row = lambda values: torch.tensor(values, dtype=torch.float32).expand(dims, len(values)).clone()  # noqa: E731
    return row([float(np.log(p)) for p in pi]), row(mu), row([float(np.log(s)) for s in sigma])


def run_probe(f, m: ProbeM, tau: float, max_steps: int, batch: int,
              seed: int = 0) -> tuple[torch.Tensor | str, ProbePolicy]:
    """The learner's f(m, policy, z0, tau, max_steps) run on the probe M and a ProbePolicy from `batch` start codes
    (torch's global generator seeded by `seed`): (its score per dream, or the sentence that says what is wrong with
    them; the policy, with what it was shown)."""
    torch.manual_seed(seed)
    policy = ProbePolicy()
    got = answer_array(f(m, policy, torch.full((batch, m.z_size), 0.25), tau, max_steps), (batch,), "per dream")
    return (got if isinstance(got, str) else torch.as_tensor(got, dtype=torch.float32)), policy


def sampling_problem(draw: Callable[[tuple, float, int], torch.Tensor | str]) -> str | None:
    """What is wrong with how a learner's code draws the next z from M's mixture at temperature tau, in a sentence
    (None: nothing found). draw(mixture, tau, seed) -> the z's it drew, (n, 2) for a few thousand n, from the
    probe_mixture `mixture` on each of 2 dimensions (or the sentence that says why there are none)."""
    z1 = draw(probe_mixture([0.5, 0.5], [-5.0, 5.0], [1.0, 1.0]), 1.0, 1)
    if isinstance(z1, str):
        return z1
    if torch.allclose(z1, torch.zeros_like(z1), atol=1e-4) or torch.isin(z1, torch.tensor([-5.0, 5.0])).all():
        return ("You fed back a mean, not a sample: the next z is drawn from M's mixture (a component, then "
                "mu + sigma * noise), which is what makes the dream a dream.")
    upper = (z1 > 0).float()
    if abs(float(upper.mean()) - 0.5) > 0.05:
        return "The next z should come from each component as often as its weight says; check how you pick k."
    agreement = float((upper[:, 0] == upper[:, 1]).float().mean())
    if agreement > 0.9:
        return ("Each dimension of z has its own mixture in M: draw a component for every dimension, not one "
                "for the whole z.")
    spread = float((z1.abs() - 5.0).std())
    if not 0.85 < spread < 1.15:
        return (f"Around its mean a component should spread by sigma = 1 at tau = 1; your samples spread by "
                f"{spread:.2f}.")
    z1 = draw(probe_mixture([1.0], [0.0], [1.0]), 4.0, 2)
    if isinstance(z1, str):
        return z1
    spread = float(z1.std())
    if 0.85 < spread < 1.15:
        return "You forgot the temperature on sigma: at temperature tau the noise is sigma * sqrt(tau)."
    if 3.5 < spread < 4.5:
        return "Sigma grows with the square root of tau (sigma * sqrt(tau)), not with tau itself."
    if not 1.8 < spread < 2.2:
        return f"At tau = 4 a component with sigma = 1 should spread by 2; your samples spread by {spread:.2f}."
    z1 = draw(probe_mixture([0.8, 0.2], [-5.0, 5.0], [0.1, 0.1]), 3.0, 3)
    if isinstance(z1, str):
        return z1
    share = float((z1 > 0).float().mean())
    expected = 0.2 ** (1 / 3) / (0.8 ** (1 / 3) + 0.2 ** (1 / 3))
    if abs(share - 0.2) < 0.03:
        return "You forgot the temperature on the mixture weights: pi_k(tau) is proportional to pi_k^(1/tau)."
    if share < 0.1:
        return "The temperature goes the other way: divide the logits by tau (pi^(1/tau)), do not multiply."
    if abs(share - expected) > 0.03:
        return (f"At tau = 3 the rarer component (weight 0.2) should be drawn {expected:.0%} of the time; yours "
                f"was drawn {share:.0%}.")
    return None
