"""Notebook 07's exercise: the learner writes the paper's iterative training loop from the package's parts. The
checker accepts correct loops written differently and names each usual mistake; the loop runs on real CartPole."""

import pytest

from wmcourse.lessons import n07_cartpole_failure as lesson


def loop_with_lists(parts, rounds):
    """Correct, written differently: every round's controller and score in lists, the best chosen at the end."""
    data = parts.collect(None)
    controllers = [parts.evolve_c(parts.train_m(data))]
    for _ in range(rounds):
        data = parts.join(data, parts.collect(controllers[-1]))
        controllers.append(parts.evolve_c(parts.train_m(data)))
    scores = [parts.held_out(c) for c in controllers]
    return controllers[scores.index(max(scores))], scores


def mistaken(newest_only=False, random_always=False, first_controller=False, keep_last=False, old_m=False,
             no_round0_score=False, one_round_short=False):
    def loop(parts, rounds):
        data = parts.collect(None)
        m = parts.train_m(data)
        first = controller = parts.evolve_c(m)
        history = [] if no_round0_score else [parts.held_out(controller)]
        kept, best = controller, (history[0] if history else float("-inf"))
        for _ in range(rounds - 1 if one_round_short else rounds):
            new = parts.collect(None if random_always else first if first_controller else controller)
            data = new if newest_only else parts.join(data, new)
            m_new = parts.train_m(data)
            controller = parts.evolve_c(m if old_m else m_new)
            history.append(parts.held_out(controller))
            if history[-1] > best or keep_last:
                kept, best = controller, history[-1]
        return kept, history
    return loop


@pytest.mark.parametrize("correct", [lesson.reference_iterative_training, loop_with_lists])
def test_correct_loops_pass(correct):
    assert lesson.iterative_training.problem(correct) is None


@pytest.mark.parametrize("switch, words", [
    ("newest_only", "ALL the data"), ("random_always", "current controller"), ("first_controller", "newest"),
    ("keep_last", "last round"), ("old_m", "new M"), ("no_round0_score", "round 0 included"),
    ("one_round_short", "controllers"),
])
def test_each_usual_mistake_is_named(switch, words):
    problem = lesson.iterative_training.problem(mistaken(**{switch: True}))
    assert problem is not None and words in problem, problem


def test_answers_that_are_not_loops_are_told_what_is_expected():
    assert "function" in lesson.iterative_training.problem("loop")
    assert "None" in lesson.iterative_training.problem(lambda parts, rounds: None)
    assert "two things" in lesson.iterative_training.problem(lambda parts, rounds: 3)


@pytest.mark.timeout(600)
def test_the_loop_runs_on_real_cartpole_and_keeps_its_best_round():
    parts = lesson.CartPoleParts(first_steps=600, round_steps=600, train_steps=10, held_out_episodes=3,
                                 settings=None, seed=0)
    kept, history = lesson.reference_iterative_training(parts, rounds=1)
    assert len(history) == 2 and all(h >= 8 for h in history)  # every CartPole episode lasts at least 8 steps
    assert lesson.iterative_training.problem(lesson.reference_iterative_training) is None
    params, model = kept
    assert params.ndim == 1 and model is not None


def counter_coverage(reference, states, cell, min_count):
    """Correct, written with a Counter of box tuples."""
    from collections import Counter

    import numpy as np

    size = np.asarray(cell)
    counts = Counter(map(tuple, np.floor(reference / size).astype(int)))
    return sum(counts[tuple(b)] >= min_count for b in np.floor(states / size).astype(int)) / len(states)


@pytest.mark.parametrize("correct", [lesson.package_coverage, counter_coverage])
def test_the_coverage_checker_accepts_correct_answers(correct):
    assert lesson.coverage_exercise.problem(correct) is None


@pytest.mark.parametrize("wrong, words", [
    (lambda r, s, c, m: 100 * lesson.package_coverage(r, s, c, m), "percentage"),
    (lambda r, s, c, m: lesson.package_coverage(s, r, c, m), "swapped"),
    (lambda r, s, c, m: lesson.package_coverage(r, s, c, 1), "min_count"),
    (lambda r, s, c, m: lesson.package_coverage(r, s, (c[0],) * 4, m), "cell sizes"),
])
def test_the_coverage_checker_names_each_mistake(wrong, words):
    problem = lesson.coverage_exercise.problem(wrong)
    assert problem is not None and words in problem, problem
