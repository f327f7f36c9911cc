"""The project's set-up: pins agree, the two commands exist, CI runs the README's test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.strip().lstrip("- ").strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+(?:\[[a-z0-9,]+\])?)==([^\s#]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_requirements_and_environment_yml_carry_the_same_pins():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    req.update(_pins((ROOT / "requirements-cluster.txt").read_text().splitlines()))  # the optional extra
    env = _pins((ROOT / "environment.yml").read_text().splitlines())
    assert "torch" in req and req["torch"] == "2.13.0"
    assert req == env, f"requirements.txt and environment.yml differ: {set(req.items()) ^ set(env.items())}"


def test_every_requirement_is_pinned_exactly():
    lines = ((ROOT / "requirements.txt").read_text().splitlines()
             + (ROOT / "requirements-cluster.txt").read_text().splitlines())
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"requirements.txt: {line!r} is not pinned with =="


def test_pin_parser_sees_a_difference():
    assert _pins(["torch==2.13.0"]) != _pins(["- torch==2.12.0"])


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.M), ".ci/run must run the README's test command, `make test`"


def test_readme_maps_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for source in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        assert source.stem in readme, f"README's notebook map does not mention {source.stem}"
