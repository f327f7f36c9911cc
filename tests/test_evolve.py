import numpy as np
import pytest

from wmcourse.evolve import EvolveConfig, evolve


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
