from wmcourse import checkers


def test_not_attempted_is_reported():
    assert "Not attempted" in checkers.controller_parameters.problem(...)


def test_controller_parameters():
    assert checkers.controller_parameters.problem(867) is None
    assert "biases" in checkers.controller_parameters.problem(864)
    assert "both z and h" in checkers.controller_parameters.problem(99)
    assert "867" not in checkers.controller_parameters.problem(1000)  # never gives the answer away


def test_compression_ratio():
    assert checkers.compression_ratio.problem(384) is None
    assert "raw 96x96" in checkers.compression_ratio.problem(864)
    assert "upside down" in checkers.compression_ratio.problem(32 / 12288)


def test_a_crashing_answer_is_reported_not_raised():
    ex = checkers.Exercise("x", judge=lambda f: f(), hint_text="", solution_text="")
    assert "ZeroDivisionError" in ex.problem(lambda: 1 / 0)


def test_check_prints_and_returns(capsys):
    assert checkers.controller_parameters.check(867) is True
    assert checkers.controller_parameters.check(864) is False
    assert "Not yet" in capsys.readouterr().out
