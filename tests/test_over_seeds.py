"""Results over seeds: the summary across seeds, and the CartPole table run once per seed and aggregated."""

import json

import numpy as np
import pytest
import torch

from wmcourse.experiments import cartpole as ce
from wmcourse.experiments import cartpole_seeds as cs
from wmcourse.experiments import runner
from wmcourse.experiments.over_seeds import curve_spread, format_spread, spread

torch.set_num_threads(1)


def test_spread_is_mean_and_population_std_across_seeds():
    s = spread([100.0, 500.0, 300.0], [0, 1, 2])
    assert s["mean"] == pytest.approx(300.0) and s["std"] == pytest.approx(np.std([100, 500, 300]))
    assert (s["min"], s["max"], s["n"]) == (100.0, 500.0, 3)
    assert s["per_seed"] == {"0": 100.0, "1": 500.0, "2": 300.0}
    assert format_spread(s) == "300.0 ± 163.3 (100.0–500.0)"
    with pytest.raises(ValueError, match="one value per seed"):
        spread([1.0], [0, 1])


def test_curve_spread_needs_the_same_x_values():
    a = [{"steps": 10, "mean": 1.0}, {"steps": 20, "mean": 3.0}]
    b = [{"steps": 10, "mean": 3.0}, {"steps": 20, "mean": 5.0}]
    c = curve_spread([a, b], [4, 7])
    assert c["steps"] == [10, 20] and c["mean"] == [2.0, 4.0] and c["std"] == [1.0, 1.0]
    assert c["per_seed"]["7"] == [3.0, 5.0] and c["min"] == [1.0, 3.0] and c["max"] == [3.0, 5.0]
    with pytest.raises(ValueError, match="different"):
        curve_spread([a, [{"steps": 10, "mean": 0.0}, {"steps": 25, "mean": 0.0}]], [0, 1])


FAST = runner.overlay(ce.ExperimentConfig(), ce.OVERLAYS, "fast")


@pytest.fixture(scope="module")
def two_seeds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    cs.run_rows([0, 1], folder, FAST, progress=False)
    return folder, cs.collect_runs([0, 1], folder, FAST)


def test_rows_run_cheap_ones_first_for_every_seed():
    assert cs.row_order() == ["random", "random_head", "random_rule", "random_all", "dqn", "iterative_head",
                              "iterative_rule", "iterative_tau", "iterative_long"]
    assert cs.row_order(FAST) == ["random", "random_head", "dqn", "iterative_head"]


def test_each_seed_is_its_own_run_with_its_own_data(two_seeds):
    folder, runs = two_seeds
    assert [r["seed"] for r in runs] == [0, 1]
    assert all([row["name"] for row in r["rows"]] == ["random", "random_head", "iterative_head", "dqn"] for r in runs)
    assert all(row["seed"] == r["seed"] for r in runs for row in r["rows"])
    data = [cs.DiskRound0Cache(folder)[(FAST.variants[0].round0_key(), s)].data for s in (0, 1)]
    assert data[0].num_steps == data[1].num_steps  # the same budget ...
    assert not np.array_equal(data[0].actions, data[1].actions)  # ... spent on different random steps
    assert runs[0]["rows"][0]["real_mean"] != runs[1]["rows"][0]["real_mean"]
    loop = [r["rows"][2] for r in runs]
    assert [x["rounds"][0] for x in loop] == [r["rows"][1]["rounds"][0] for r in runs]  # round 0 shared on disk


def test_a_row_already_run_or_claimed_is_not_rerun(two_seeds, monkeypatch, tmp_path):
    folder, runs = two_seeds
    calls = []
    monkeypatch.setattr(cs, "run_row", lambda name, config, run_dir, progress=False: calls.append((name, config.seed)))
    cs.run_rows([1, 0], folder, FAST, progress=False)
    assert calls == []
    (tmp_path / "seed5" / "rows").mkdir(parents=True)
    (tmp_path / "seed5" / "rows" / "dqn.claim").touch()  # another process is running it
    cs.run_rows([5], tmp_path, FAST, progress=False)
    assert calls == [("random", 5), ("random_head", 5), ("iterative_head", 5)]
    with pytest.raises(ValueError, match="distinct"):
        cs.run_rows([0, 0], folder)


def test_the_table_over_seeds_aggregates_every_row_round_and_curve(two_seeds, tmp_path):
    folder, runs = two_seeds
    out = tmp_path / "cartpole_seeds.json"
    summary = cs.write_over_seeds(runs, out, folder, record=False)
    assert json.loads(out.read_text()) == json.loads(json.dumps(summary))
    assert json.loads((tmp_path / "cartpole_seeds" / "seed1.json").read_text()) == json.loads(json.dumps(runs[1]))
    assert summary["seeds"] == [0, 1] and "--seeds 0 1" in summary["command"]
    for i, row in enumerate(summary["rows"]):
        values = [r["rows"][i]["real_mean"] for r in runs]
        assert row["real"]["mean"] == pytest.approx(np.mean(values))
        assert row["real"]["std"] == pytest.approx(np.std(values))
        assert row["real"]["per_seed"] == {"0": values[0], "1": values[1]}
    loop = next(row for row in summary["rows"] if row["name"] == summary["fixed_variant"])
    assert ([r["real"]["per_seed"]["1"] for r in loop["rounds"]]
            == [r["real_mean"] for r in runs[1]["rows"][2]["rounds"]])
    assert summary["curves"]["wm_iterative"] == loop["curve"]
    dqn = summary["curves"]["dqn"]
    assert dqn["mean"] == pytest.approx(np.mean([[p["mean"] for p in r["rows"][3]["curve"]] for r in runs], axis=0))
    table = ce.format_seeds_table(summary)
    assert "seed 0 | seed 1" in table and table.count("\n") == len(summary["rows"]) + 1


def test_a_row_missing_for_a_seed_is_summarised_over_the_others(two_seeds):
    _, runs = two_seeds
    partial = [runs[0], {**runs[1], "rows": runs[1]["rows"][:2]}]
    summary = cs.over_seeds(partial)
    loop = next(row for row in summary["rows"] if row["name"] == "iterative_head")
    assert loop["seeds"] == [0] and loop["real"]["n"] == 1
    assert "| - |" in ce.format_seeds_table(summary)
    with pytest.raises(ValueError, match="different settings"):
        cs.over_seeds([runs[0], {**runs[1], "rows": [{**runs[1]["rows"][1], "steps": 5}]}])


def test_the_plots_show_every_seed(two_seeds):
    import matplotlib

    matplotlib.use("Agg")
    from wmcourse.lessons import cartpole_plots

    _, runs = two_seeds
    summary = cs.over_seeds(runs)
    ax = cartpole_plots.results_over_seeds_plot(summary["rows"])
    dots = [line for line in ax.lines if line.get_marker() == "o"]
    assert sorted(len(line.get_xdata()) for line in dots) == [2] * len(summary["rows"])
    ax = cartpole_plots.curves_over_seeds_plot({"WM": summary["curves"]["wm_iterative"],
                                                "DQN": summary["curves"]["dqn"]})
    thin = [line for line in ax.lines if line.get_linewidth() < 1]
    assert len(thin) == 4  # one line per seed per learner
    assert list(thin[2].get_ydata()) == summary["curves"]["dqn"]["per_seed"]["0"]


def test_search_spread_reruns_only_the_search_and_its_own_seed_reproduces_the_table(two_seeds):
    folder, runs = two_seeds
    variant = FAST.variants[0]
    cached = cs.DiskRound0Cache(folder)[(variant.round0_key(), 1)]
    config = ce.replace(FAST, seed=1)
    rows = ce.search_spread(cached.model, cached.data, variant, config, [1, 2])
    table = next(row for row in runs[1]["rows"] if row["name"] == variant.name)
    assert [r["search_seed"] for r in rows] == [1, 2]
    assert rows[0]["dream_mean"] == pytest.approx(table["dream_mean"])
    assert rows[0]["real_mean"] == pytest.approx(table["real_mean"])


def test_a_variant_with_longer_search_dreams_keeps_its_own_round_0_on_disk(tmp_path):
    base = FAST.variants[0]
    longer = ce.replace(base, name="long", search_steps=300)
    cache = cs.DiskRound0Cache(tmp_path)
    ce.run_variant(longer, FAST, cache, progress=False)
    assert (longer.round0_key(), FAST.seed) in cache and (base.round0_key(), FAST.seed) not in cache
    assert [p.name for p in (tmp_path / f"seed{FAST.seed}").glob("*.json")] == [
        cs.DiskRound0Cache(tmp_path)._stem((longer.round0_key(), FAST.seed)).name + ".json"]
    assert "_search300" in next((tmp_path / f"seed{FAST.seed}").glob("*.json")).name
