"""Exercise checkers: `ex.check(answer)` says in one sentence what is wrong, `ex.hint()`, `ex.solution()`.

Each exercise has a judge: a function that returns None when the answer is right and otherwise a sentence
naming the mistake, without giving the expected value away. The notebooks call these; tests call the judges.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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

    def check(self, answer: Any) -> bool:
        problem = self.problem(answer)
        print(f"[{self.name}] " + (self.praise if problem is None else f"Not yet. {problem}"))
        return problem is None

    def hint(self) -> None:
        print(f"[{self.name}] Hint: {self.hint_text}")

    def solution(self) -> None:
        print(f"[{self.name}] Solution:\n{self.solution_text}")


def _is_number(answer: Any) -> bool:
    return isinstance(answer, (int, float)) and not isinstance(answer, bool) and math.isfinite(answer)


# --- notebook 00 -------------------------------------------------------------------------------------

def _judge_controller_parameters(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a whole number of parameters, got {type(answer).__name__}."
    if answer == 3 * 288:
        return "You counted the weights W but not the biases b: every action has one bias too."
    if answer in (32 * 3 + 3, 256 * 3 + 3):
        return "The controller sees both z and h: its input is the two concatenated."
    if answer == 3 * 288 * 2 or answer == 288 * 288:
        return "W maps the input [z, h] to the 3 actions: its shape is (actions, inputs)."
    if answer != 3 * (32 + 256) + 3:
        return "Count the entries of W (actions x inputs) and of b (one per action), with inputs = len(z) + len(h)."
    return None


controller_parameters = Exercise(
    name="controller parameters",
    judge=_judge_controller_parameters,
    hint_text="a = tanh(W [z, h] + b). How many rows and columns has W, and how long is b?",
    solution_text="W is 3 x (32 + 256) = 864 numbers and b is 3 more: 3 * 288 + 3 = 867.",
    praise="Correct: 867 numbers drive the car. Few enough for an evolution strategy to search directly.",
)


def _judge_compression_ratio(answer: Any) -> str | None:
    if not _is_number(answer):
        return f"Expected a number (how many input numbers per latent number), got {type(answer).__name__}."
    if math.isclose(answer, 96 * 96 * 3 / 32, rel_tol=0.01):
        return "That is the raw 96x96 frame; the VAE sees the preprocessed 64x64x3 frame."
    if math.isclose(answer, 32 / (64 * 64 * 3), rel_tol=0.01):
        return "That is the ratio upside down: divide the input size by the latent size."
    if math.isclose(answer, 64 * 64 / 32, rel_tol=0.01):
        return "A colour frame has 3 numbers per pixel (red, green, blue)."
    if not math.isclose(answer, 64 * 64 * 3 / 32, rel_tol=0.01):
        return "Divide the number of values in one 64x64 colour frame by the size of z."
    return None


compression_ratio = Exercise(
    name="compression ratio",
    judge=_judge_compression_ratio,
    hint_text="How many numbers are in a 64x64 frame with 3 colour channels? And in z?",
    solution_text="64 * 64 * 3 = 12,288 numbers in, 32 out: 12,288 / 32 = 384 to 1.",
    praise="Correct: each frame is squeezed 384 to 1 before M and C ever see it.",
)
