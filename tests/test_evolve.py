import numpy as np
import pytest

from wmcourse.worldmodels.evolve import EvolveConfig, evolve


def sphere_score(x):  # maximise: best at x = 1
    return -((x - 1.0) ** 2).sum(axis=1)


def test_cma_finds_the_optimum_of_a_sphere():
    result = evolve(sphere_score, 10, EvolveConfig(population=16, sigma_init=0.5, generations=80), progress=False)
    np.testing.assert_allclose(result.best_params, 1.0, atol=0.05)
    assert result.history[-1]["best"] > result.history[0]["best"]


def test_resume_continues_exactly(tmp_path):
    config = EvolveConfig(population=8, sigma_init=0.5, generations=10)
    whole = evolve(sphere_score, 5, config, progress=False)
    # a run cut short at 4 generations, then resumed to 10, ends where the uninterrupted one did
    ckpt2 = tmp_path / "es2.pkl"
    evolve(sphere_score, 5, EvolveConfig(population=8, sigma_init=0.5, generations=4), checkpoint=ckpt2, progress=False)
    resumed = evolve(sphere_score, 5, config, checkpoint=ckpt2, progress=False)
    np.testing.assert_allclose(resumed.best_params, whole.best_params)
    assert len(resumed.history) == 10


def test_checkpoint_of_other_settings_is_refused(tmp_path):
    ckpt = tmp_path / "es.pkl"
    evolve(sphere_score, 3, EvolveConfig(population=6, generations=2), checkpoint=ckpt, progress=False)
    with pytest.raises(ValueError, match="other settings"):
        evolve(sphere_score, 4, EvolveConfig(population=6, generations=2), checkpoint=ckpt, progress=False)


def test_a_warm_start_centres_the_first_generation_on_it(tmp_path):
    start = np.full(6, 1.0)  # the sphere's optimum: a warm start there samples around it from the first generation
    warm = evolve(sphere_score, 6, EvolveConfig(population=8, sigma_init=0.01, generations=1), progress=False,
                  start=start)
    cold = evolve(sphere_score, 6, EvolveConfig(population=8, sigma_init=0.01, generations=1), progress=False)
    assert warm.history[0]["worst"] > -0.01 > cold.history[0]["best"]
    np.testing.assert_allclose(warm.best_params, start, atol=0.02)
    with pytest.raises(ValueError, match=r"expected \(6,\)"):
        evolve(sphere_score, 6, EvolveConfig(population=8, generations=1), progress=False, start=np.ones(5))


def test_a_checkpoint_from_another_warm_start_is_refused(tmp_path):
    ckpt = tmp_path / "es.pkl"
    config = EvolveConfig(population=6, generations=2)
    evolve(sphere_score, 3, config, checkpoint=ckpt, progress=False, start=np.ones(3))
    evolve(sphere_score, 3, EvolveConfig(population=6, generations=3), checkpoint=ckpt, progress=False,
           start=np.ones(3))  # the same start: resumed and extended
    with pytest.raises(ValueError, match="another warm start"):
        evolve(sphere_score, 3, config, checkpoint=ckpt, progress=False)


def test_trace_cma_covariance_is_the_sampling_distribution_and_it_descends():
    from wmcourse.worldmodels.evolve import rosenbrock, trace_cma

    trace = trace_cma(rosenbrock, np.array([-1.5, 2.0]), 0.5, population=200, generations=40)
    # the candidates of one generation are drawn from N(mean, covariance): their sample covariance agrees
    snap = trace[5]
    np.testing.assert_allclose(np.cov(snap.candidates.T), snap.covariance, rtol=0.35, atol=0.02 * snap.covariance.max())
    np.testing.assert_allclose(snap.candidates.mean(0), snap.mean,
                               atol=3 * np.sqrt(snap.covariance.diagonal().max() / 200))
    assert trace[-1].best < 1e-3 < trace[0].best
    np.testing.assert_allclose(trace[-1].mean, [1.0, 1.0], atol=0.05)


def test_simple_es_with_a_fixed_step_stalls_where_cma_does_not():
    from wmcourse.worldmodels.evolve import rosenbrock, simple_es, trace_cma

    x0 = np.array([-1.5, 2.0])
    simple = simple_es(rosenbrock, x0, sigma=0.3, population=8, generations=60)
    adaptive = trace_cma(rosenbrock, x0, 0.3, population=8, generations=60)[-1].best
    assert all(a >= b for a, b in zip(simple, simple[1:]))  # best-so-far never rises
    assert simple[-1] < simple[0]
    assert adaptive < simple[-1] / 10  # the adaptive step and shape get far closer to the optimum


def test_cma_overhead_is_a_positive_time_per_generation(monkeypatch):
    from wmcourse.worldmodels import evolve as ev

    clock = iter([10.0, 12.0])  # two calls of perf_counter: 2 s over 4 generations
    monkeypatch.setattr(ev.time, "perf_counter", lambda: next(clock))
    assert ev.cma_overhead_seconds(5, 4, population=6) == pytest.approx(0.5)
    monkeypatch.undo()
    assert 0 < ev.cma_overhead_seconds(20, 2, population=8) < 5
