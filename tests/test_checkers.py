from wmcourse.lessons import exercise, n00_motivation, n04_cma_es


def test_not_attempted_is_reported():
    assert "Not attempted" in n00_motivation.controller_inputs.problem(...)


def test_a_crashing_answer_is_reported_not_raised():
    ex = exercise.Exercise("x", judge=lambda f: f(), hint_text="", solution_text="")
    assert "ZeroDivisionError" in ex.problem(lambda: 1 / 0)


def test_check_prints_and_returns(capsys):
    right, wrong = {"z_t", "h_t"}, {"z_t"}
    assert n00_motivation.controller_inputs.check(right) is None  # a cell ending in check() shows no stray True/False
    assert n00_motivation.controller_inputs.problem(right) is None
    assert n00_motivation.controller_inputs.problem(wrong) is not None
    assert "Correct" in capsys.readouterr().out
    n00_motivation.controller_inputs.check(wrong)
    assert "Not yet" in capsys.readouterr().out


def test_simple_es_checker_accepts_the_package_version_and_names_mistakes():
    import numpy as np

    from wmcourse.worldmodels import evolve

    assert n04_cma_es.simple_es.problem(evolve.simple_es) is None

    def maximises(objective, x0, sigma, population, elite, generations, seed):
        rng, mean, best, curve = np.random.default_rng(seed), np.asarray(x0, float), np.inf, []
        for _ in range(generations):
            c = mean + sigma * rng.standard_normal((population, len(mean)))
            v = objective(c)
            mean = c[np.argsort(v)[-elite:]].mean(axis=0)
            best = min(best, v.min())
            curve.append(best)
        return curve

    def last_not_best(objective, x0, sigma, population, elite, generations, seed):
        rng, mean, curve = np.random.default_rng(seed), np.asarray(x0, float), []
        for _ in range(generations):
            c = mean + sigma * rng.standard_normal((population, len(mean)))
            v = objective(c)
            mean = c[np.argsort(v)[:elite]].mean(axis=0)
            curve.append(v.min())
        return curve

    assert "LOWEST" in n04_cma_es.simple_es.problem(maximises)
    assert "never go up" in n04_cma_es.simple_es.problem(last_not_best)
    assert "Not attempted" in n04_cma_es.simple_es.problem(...)
