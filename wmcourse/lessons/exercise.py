"""Exercises and their checkers: `ex.check(answer)` says in one sentence what is wrong, `ex.hint()`,
`ex.solution()`. Each exercise has a judge: None when the answer is right, otherwise a sentence naming the
mistake without giving the expected value away. The lessons (nNN_*.py) define the exercises; tests call the judges.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


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

