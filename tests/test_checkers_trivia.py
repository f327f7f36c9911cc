"""The exercises that replaced the counting ones in notebooks 00 and 02: each checker accepts the right answer
(written in more than one way) and names each usual mistake in its own sentence, without giving the answer away."""

import re

import pytest
import torch

from wmcourse import paper
from wmcourse.errors import SettingsError
from wmcourse.lessons import n00_motivation, n02_mdn
from wmcourse.worldmodels import mdn

# --- notebook 00, exercise 1: the paper's search, in days of real game and hours of dream ---------------------

REAL_RATE, DREAM_RATE = 97.0, 61_000.0  # steps per second, as a learner's machine might measure them
BUDGET = paper.carracing_cma_real_steps()
REAL_DAYS, DREAM_HOURS = BUDGET / REAL_RATE / 86_400, BUDGET / DREAM_RATE / 3_600


@pytest.fixture
def budget():
    return n00_motivation.budget_time(REAL_RATE, DREAM_RATE)


@pytest.mark.parametrize("answer", [
    (REAL_DAYS, DREAM_HOURS),
    [1800 * 64 * 16 * 1000 / REAL_RATE / (24 * 3600), 1800 * 64 * 16 * 1000 / DREAM_RATE / 60 / 60],
    (1.8e9 / REAL_RATE / 86_400, 1.8e9 / DREAM_RATE / 3_600),  # the budget rounded to 1.8 billion steps
    (round(REAL_DAYS), round(DREAM_HOURS, 1)),
])
def test_budget_right_answers_pass(budget, answer):
    assert budget.problem(answer) is None


@pytest.mark.parametrize("answer, words", [
    ((REAL_DAYS * 86_400, DREAM_HOURS), "real time is in seconds"),
    ((REAL_DAYS * 24, DREAM_HOURS), "real time is in hours"),
    ((REAL_DAYS * 1_440, DREAM_HOURS), "real time is in minutes"),
    ((REAL_DAYS, DREAM_HOURS * 3_600), "dream time is in seconds"),
    ((REAL_DAYS, DREAM_HOURS * 60), "dream time is in minutes"),
    ((REAL_DAYS, DREAM_HOURS / 24), "dream time is in days"),
    ((REAL_DAYS / 1000, DREAM_HOURS), "counts rollouts, not steps"),
    ((REAL_DAYS / 16, DREAM_HOURS), "16 rollouts"),
    ((REAL_DAYS, DREAM_HOURS / 64), "each generation has 64"),
    ((REAL_DAYS / 1800, DREAM_HOURS), "the search ran 1,800"),
    ((REAL_DAYS, DREAM_HOURS * 1024), "do not multiply the time by 1,024"),
    ((REAL_DAYS, DREAM_HOURS / 1024), "do not divide by the 1,024 dreams"),  # 1,024 and 1,000 look alike
    ((REAL_DAYS, DREAM_HOURS / 1000), "count steps, not rollouts"),
    ((BUDGET / DREAM_RATE / 86_400, DREAM_HOURS), "other world's rate"),
    ((REAL_DAYS, BUDGET / REAL_RATE / 3_600), "other world's rate"),
    ((DREAM_HOURS, REAL_DAYS), "swapped"),
    ((REAL_DAYS * 3, DREAM_HOURS), "Not the real time"),
    ((REAL_DAYS,), "two numbers"),
    (REAL_DAYS, "two numbers"),
    ((REAL_DAYS, ...), "Not attempted"),
    ((REAL_DAYS, "fast"), "Expected a number for the dream time"),
])
def test_budget_mistakes_are_named(budget, answer, words):
    problem = budget.problem(answer)
    assert problem is not None and words in problem, problem
    numbers = [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", problem)]
    for value in (REAL_DAYS, DREAM_HOURS):  # never gives the answer away
        assert not any(abs(n - value) < 0.05 * value for n in numbers), problem


def test_budget_needs_measured_rates():
    with pytest.raises(SettingsError, match="positive step rates"):
        n00_motivation.budget_time(0.0, DREAM_RATE)


# --- notebook 00, exercise 2: what C reads ------------------------------------------------------------------

@pytest.mark.parametrize("answer", [{"z_t", "h_t"}, ["h_t", "z_t"], ("z_{t}", "h_{t}"), frozenset({"Z_T", "h_t"})])
def test_controller_inputs_right_answers_pass(answer):
    assert n00_motivation.controller_inputs.problem(answer) is None


@pytest.mark.parametrize("answer, words", [
    ({"z_t", "h_t", "a_t"}, "cannot read the action it is about to choose"),
    ({"z_t", "h_t+1"}, "needs a_t"),
    ({"z_t", "h_t", "z_t+1"}, "only after the action"),
    ({"z_{t+1}", "h_t"}, "only after the action"),
    ({"frame", "h_t"}, "tens of thousands of numbers"),
    ({"z_t"}, "M's memory carries"),
    ({"h_t"}, "has not seen the present"),
    (set(), "must read something"),
    ({"z_t", "speed"}, "Unknown name 'speed'"),
    ("z_t, h_t", "Expected a set of names"),
    ({1, 2}, "name in quotes"),
])
def test_controller_inputs_mistakes_are_named(answer, words):
    problem = n00_motivation.controller_inputs.problem(answer)
    assert problem is not None and words in problem, problem


# --- notebook 02, exercise 2: which forecast explains the cars better ----------------------------------------

RIGHT = {"one car": "sure of right", "all cars": "both branches"}


def test_junction_right_answer_passes():
    assert n02_mdn.junction_nll.problem(dict(RIGHT)) is None
    assert n02_mdn.junction_nll.problem({"all cars": "both branches", "one car": "sure of right"}) is None


def test_junction_right_answer_is_what_the_nll_says():
    """Measured with the package's NLL and with torch.distributions, on the notebook's held-out cars."""
    x, y = mdn.bimodal_toy_data(1000, seed=1)
    one_car, cars = n02_mdn.junction_cars(x, y)
    assert one_car.shape == (1, 1) and one_car.item() > 0 and len(cars) > 50
    for key, ys in (("one car", one_car), ("all cars", cars)):
        ours, library = {}, {}
        for name, (log_pi, mu, log_sigma) in n02_mdn.junction_forecasts().items():
            ours[name] = float(mdn.mdn_nll(*(p.expand(len(ys), 1, -1) for p in (log_pi, mu, log_sigma)), ys))
            mixture = torch.distributions.MixtureSameFamily(
                torch.distributions.Categorical(logits=log_pi[0, 0]),
                torch.distributions.Normal(mu[0, 0], log_sigma[0, 0].exp()))
            library[name] = float(-mixture.log_prob(ys[:, 0]).mean())
        assert min(ours, key=ours.get) == min(library, key=library.get) == RIGHT[key]


@pytest.mark.parametrize("answer, words", [
    ({"one car": "both branches", "all cars": "both branches"}, "weight a forecast gives the branch"),
    ({"one car": "one wide bell", "all cars": "both branches"}, "spreads its density over every y"),
    ({"one car": "sure of right", "all cars": "sure of right"}, "about half turned left"),
    ({"one car": "sure of right", "all cars": "one wide bell"}, "never puts much density where the cars are"),
    ({"one car": ..., "all cars": ...}, "Not attempted"),
    ({"one car": "sure of right", "all cars": "two bells"}, "Unknown forecast 'two bells'"),
    ({"one car": "sure of right"}, "two keys"),
    ("both branches", "two keys"),
])
def test_junction_mistakes_are_named(answer, words):
    problem = n02_mdn.junction_nll.problem(answer)
    assert problem is not None and words in problem, problem


def test_junction_figure_draws_the_three_forecasts():
    import matplotlib.pyplot as plt

    x, y = mdn.bimodal_toy_data(1000, seed=1)
    one_car, cars = n02_mdn.junction_cars(x, y)
    fig = n02_mdn.junction_figure(n02_mdn.junction_forecasts(), cars, one_car)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert set(n02_mdn.JUNCTION_FORECASTS) <= set(labels)
    plt.close(fig)
