"""The drawing functions that a notebook cell and a slide figure (wmcourse.lessons.figures) share: each draws what its
caller used to draw by hand."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from wmcourse.lessons import (
    n00_motivation,
    n06_dream_vs_real,
    n07_cartpole_failure,
    n08_dreamer,
    plots,
)
from wmcourse.real import evaluate  # noqa: E402


def teardown_function():
    plt.close("all")


def test_dream_real_histogram_labels_both_scores():
    ax = n07_cartpole_failure.dream_real_histogram(np.array([500.0, 480.0]), np.array([20.0, 30.0, 40.0]), title="t")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["dream: 490.0 ± 10.0 (2 dreams)", "reality: 30.0 ± 8.2 (3 episodes)"]
    assert ax.get_title() == "t" and "cap is 500" in ax.get_xlabel()


def test_horizon_errors_side_by_side_draws_one_log_panel_per_model():
    errors = {"steps_ahead": np.arange(1, 6), "model": np.linspace(0.1, 1, 5), "copy_last": np.ones(5)}
    fig = n07_cartpole_failure.horizon_errors_side_by_side({"a": errors, "b": errors})
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    assert all(ax.get_yscale() == "log" and len(ax.get_lines()) == 2 for ax in fig.axes)


def test_random_policy_frames_are_the_observations_at_the_asked_steps():
    frames = evaluate.random_policy_frames("CartPole-v1", at=(0, 2), seed=3)
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    policy = evaluate.RandomPolicy(env.action_space, seed=3)
    obs, _ = env.reset(seed=3)
    expected = [obs]
    for _ in range(2):
        obs, *_ = env.step(policy.act(obs[None])[0])
        expected.append(obs)
    assert list(frames) == [0, 2]
    np.testing.assert_array_equal(frames[0], expected[0])
    np.testing.assert_array_equal(frames[2], expected[2])


def test_dreamer_pictures():
    ax = n08_dreamer.plot_free_bits()
    flat = ax.get_lines()[0].get_ydata()
    assert np.allclose(flat[:40], 0.6) and len(ax.get_lines()) == 2  # flat below one nat: 0.5 + 0.1
    fig = n08_dreamer.plot_lambda_targets(0)
    assert len(fig.axes[0].get_lines()) == 5  # four lambdas and the truth
    left, right = n08_dreamer.draw_side_by_side()
    assert left.get_title() == "World Models (2018)" and right.get_title().startswith("Dreamer")


def test_step_rate_bars_on_a_log_axis():
    ax = n00_motivation.step_rate_bars({"real CarRacing": 180.0, "dream (batched)": 85_000.0})
    assert ax.get_xscale() == "log" and [t.get_text() for t in ax.get_yticklabels()] == ["real CarRacing",
                                                                                         "dream (batched)"]


def test_dream_real_rounds_has_a_dream_and_a_real_bar_per_round():
    rounds = {0: (900.0, {"mean": -50.0, "std": 20.0}), 1: (700.0, {"mean": 100.0, "std": 30.0})}
    ax = n06_dream_vs_real.dream_real_rounds(rounds)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["round 0: dream", "round 0: real", "round 1: dream",
                                                            "round 1: real"]
    assert [p.get_width() for p in ax.patches] == [900.0, -50.0, 700.0, 100.0]


def test_predicted_done_plot_marks_the_threshold():
    ax = plots.predicted_done_plot(np.array([0.1, 0.2, 0.9]))
    assert ax.get_ylim() == (0, 1) and ax.get_legend().get_texts()[0].get_text() == "a dream ends above 0.5"


def test_long_search_plot_draws_the_dream_curve_and_rings_the_kept_generation():
    run = {"history": [{"generation": g, "mean": 10.0 * g} for g in range(1, 61)], "validation_tracks": 16,
           "selection": {"chosen": 40, "generations": [{"generation": g, "mean": m, "std": 160.0}
                                                       for g, m in ((20, 200.0), (40, 380.0), (60, 360.0))]}}
    ax = n06_dream_vs_real.long_search_plot(run)
    dream, kept = (next(line for line in ax.get_lines() if line.get_label().startswith(label))
                   for label in ("dream", "kept"))
    real = ax.containers[0].lines[0]  # the errorbar's data line
    assert list(dream.get_xdata()) == list(range(1, 61)) and dream.get_ydata()[-1] == 600.0
    assert list(real.get_xdata()) == [20, 40, 60] and list(real.get_ydata()) == [200.0, 380.0, 360.0]
    assert list(kept.get_xdata()) == [40] and list(kept.get_ydata()) == [380.0]
    plt.close(ax.figure)


def test_search_seeds_plot_puts_each_draw_at_its_dream_and_real_score_and_rings_the_kept_one():
    searches = {str(s): [{"generation": g, "mean": s + g} for g in range(1, 21)] for s in (3, 100, 200)}
    rows = [{"generation": s, "mean": m, "std": 160.0} for s, m in ((3, 200.0), (100, 650.0), (200, 300.0))]
    run = {"generations": 20, "validation_tracks": 16, "searches": searches,
           "selection": {"chosen": 100, "generations": rows,
                         "reference": {"generations": [{"generation": 0, "mean": 700.0, "std": 80.0}]}}}
    ax = n06_dream_vs_real.search_seeds_plot(run)
    real = ax.containers[0].lines[0]
    kept = next(line for line in ax.get_lines() if line.get_label() == "kept")
    assert list(real.get_xdata()) == [23, 120, 220] and list(real.get_ydata()) == [200.0, 650.0, 300.0]
    assert list(kept.get_xdata()) == [120] and list(kept.get_ydata()) == [650.0]
    band = ax.patches[0]  # the reference: its mean ± standard error (80 / 4)
    assert (band.get_y(), band.get_y() + band.get_height()) == (680.0, 720.0)
    assert [t.get_text() for t in ax.texts] == ["seed 3", "seed 100", "seed 200"]
    plt.close(ax.figure)
