"""Notebook 06's exercise: where M's reward head over-pays along a real drive, summed over a window."""

import numpy as np
import pytest

from wmcourse.lessons import n06_dream_vs_real as lesson


def loop_version(real, predicted, window):
    out = []
    for t in range(len(real)):
        start = max(0, t - window + 1)
        out.append(sum(predicted[start:t + 1]) - sum(real[start:t + 1]))
    return out


def convolution_version(real, predicted, window):
    gap = np.asarray(predicted) - np.asarray(real)
    return np.convolve(gap, np.ones(window))[: len(gap)]


@pytest.mark.parametrize("correct", [lesson.reference_overpaid, loop_version, convolution_version])
def test_correct_answers_pass(correct):
    assert lesson.overpaid_exercise.problem(correct) is None


@pytest.mark.parametrize("wrong, words", [
    (lambda r, p, w: -lesson.reference_overpaid(r, p, w), "sign"),
    (lambda r, p, w: np.cumsum(np.asarray(p) - np.asarray(r)), "since the start"),
    (lambda r, p, w: np.asarray(p) - np.asarray(r), "one step"),
    (lambda r, p, w: lesson.reference_overpaid(r, p, w + 1), "one step off"),
    (lambda r, p, w: lesson.reference_overpaid(r, p, w) / w, "do not average"),
    (lambda r, p, w: np.asarray(p)[:3], "one number per step"),
])
def test_each_mistake_is_named(wrong, words):
    problem = lesson.overpaid_exercise.problem(wrong)
    assert problem is not None and words in problem, problem
