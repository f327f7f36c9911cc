"""The course as a learner elsewhere gets it: a wheel, installed away from the repository, in any Jupyter.

The wheel is built from this checkout (`pip wheel . --no-deps`, no download: the build uses this environment's
setuptools) and must carry the package, every shipped artefact of data/ (checked against data/manifest.json),
the notebooks and the pages they link, under the 100 MB an index accepts. It is then installed onto a path of its
own (`pip install --target`, no index), which the commands below see through PYTHONPATH and nothing else: no
repository on the path, a working directory outside it. `python -m wmcourse get-notebooks` writes the notebooks
there, and notebook 04 (it loads the shipped M, held-out latents and controller) is executed in fast mode in that
folder; an audit hook in its kernel records every file it opens, and each shipped file it read must come from the
installed package, none from the repository. A clone (this checkout) keeps reading its own data/.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from wmcourse import artefacts
from wmcourse.cli import notebooks

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 100_000_000  # bytes: PyPI's default upload limit for one file
NOTEBOOK = "04_cma_es.ipynb"  # loads shipped M, latents and controller; about half a minute in fast mode

# the kernel's first cell: remember every file opened from here on (the audit hook sees torch.load, np.load, json)
HOOK = """import sys as _sys
_opened = []
_sys.addaudithook(lambda event, args: _opened.append(str(args[0]))
                  if event == "open" and isinstance(args[0], (str, bytes, __import__("os").PathLike)) else None)"""
# its last cell: where the package and its data were found, and which of the shipped files were opened
REPORT = """import json as _json, os as _os, wmcourse as _wm
from wmcourse import artefacts as _artefacts
_data = _artefacts.data_dir()
_names = set(_artefacts.load_manifest(_data))
print("REPORT" + _json.dumps({"package": _wm.__file__, "data": str(_data),
    "opened": sorted({_os.path.abspath(p) for p in _opened if _os.path.basename(p) in _names})}))"""


def _clean_env(site: Path, **extra: str) -> dict[str, str]:
    """This environment without anything that points at the repository: PYTHONPATH is the installed wheel only."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WMCOURSE_DATA", "WMCOURSE_SITE_BUILD")}
    return {**env, "PYTHONPATH": str(site), "PYTHONNOUSERSITE": "1", **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                             "--no-index", "--disable-pip-version-check", "-q", "-w", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"pip wheel failed:\n{result.stdout}\n{result.stderr}"
    (built,) = out.glob("wmcourse-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed onto a path of its own (what `pip install` puts in site-packages)."""
    site = tmp_path_factory.mktemp("site-packages")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-compile",
                             "--disable-pip-version-check", "-q", "--target", str(site), str(wheel)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"
    return site


def test_the_wheel_carries_the_package_every_shipped_artefact_the_notebooks_and_their_docs(wheel):
    size = wheel.stat().st_size
    print(f"{wheel.name}: {size / 1e6:.1f} MB")
    assert size < LIMIT, f"{wheel.name} is {size / 1e6:.1f} MB, over the {LIMIT / 1e6:.0f} MB an index accepts"
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "wmcourse").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert not modules - names, f"modules missing from the wheel: {sorted(modules - names)}"
    assert "wmcourse/cli/lab_settings/overrides.json" in names
    packaged = f"wmcourse/{artefacts.PACKAGED}"
    shipped = {*artefacts.load_manifest(ROOT / "data"), artefacts.MANIFEST_NAME}
    missing = sorted(name for name in shipped if f"{packaged}/data/{name}" not in names)
    assert not missing, f"shipped artefacts missing from the wheel: {missing}"
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"{packaged}/notebooks/{notebook.name}" in names
        for page in set(re.findall(r"\]\(\.\./docs/([\w-]+\.md)", notebook.read_text())):
            assert f"{packaged}/docs/{page}" in names, f"{notebook.name} links docs/{page}, not in the wheel"
    assert not [n for n in names if n.startswith(("data/", "notebooks/", "docs/", "tests/"))], "top-level folders"


def test_notebooks_that_say_how_to_install_the_course_name_this_wheel(wheel):
    """A `%pip install ....whl` line in a notebook names the wheel `make wheel` builds now (its version)."""
    for source in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        for named in re.findall(r"%pip install \S*?(wmcourse-[^\s`'\"]+\.whl)", source.read_text()):
            assert named == wheel.name, f"{source.name} says to install {named}; the wheel is {wheel.name}"


def test_a_clone_reads_its_own_data_folder(monkeypatch):
    monkeypatch.delenv("WMCOURSE_DATA", raising=False)
    assert artefacts.packaged_dir("data") is None
    assert artefacts.data_dir() == ROOT / "data" and artefacts.course_dir("notebooks") == ROOT / "notebooks"
    assert artefacts.is_checkout()


def test_get_notebooks_keeps_a_learners_changes_unless_forced(tmp_path):
    first = notebooks.get_notebooks(tmp_path)
    assert "notebooks/00_motivation.ipynb" in first.written and "docs/glossary.md" in first.written
    edited = tmp_path / "notebooks" / "00_motivation.ipynb"
    edited.write_text("my work")
    again = notebooks.get_notebooks(tmp_path)
    assert again.written == [] and again.kept == ["notebooks/00_motivation.ipynb"] and edited.read_text() == "my work"
    assert len(again.unchanged) == len(first.written) - 1
    forced = notebooks.get_notebooks(tmp_path, force=True)
    assert forced.written == ["notebooks/00_motivation.ipynb"]
    assert edited.read_bytes() == (ROOT / "notebooks" / "00_motivation.ipynb").read_bytes()


@pytest.mark.timeout(600)
def test_a_learner_elsewhere_fetches_the_notebooks_and_runs_one_on_the_installed_package(installed, tmp_path):
    learner = tmp_path / "learner"
    learner.mkdir()
    env = _clean_env(installed)
    fetched = subprocess.run([sys.executable, "-m", "wmcourse", "get-notebooks", "course"], cwd=learner, env=env,
                             capture_output=True, text=True, timeout=120)
    assert fetched.returncode == 0, fetched.stderr
    course = learner / "course"
    expected = {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    expected |= {f"docs/{p.name}" for pattern in ("*.md", "*.png", "*.gif") for p in (ROOT / "docs").glob(pattern)}
    assert {p.relative_to(course).as_posix() for p in course.rglob("*") if p.is_file()} == expected
    for notebook in (course / "notebooks").glob("*.ipynb"):  # every relative link lands on a fetched file
        for page in re.findall(r"\]\((\.\./docs/[^)#\s]+)", notebook.read_text()):
            assert (notebook.parent / page).is_file(), f"{notebook.name} links {page}, not fetched"

    refused = subprocess.run([sys.executable, "-c", "from wmcourse import artefacts; "
                              "artefacts.run_command('bash scripts/evolve_carracing_controller.sh')"],
                             cwd=learner, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "clone the course's repository" in refused.stderr  # RETRAIN needs a clone

    nb = nbformat.read(course / "notebooks" / NOTEBOOK, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(HOOK))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT))
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(course / "notebooks")}})
    client.execute(env=_clean_env(installed, WMCOURSE_FAST="1", MPLBACKEND="Agg", SDL_VIDEODRIVER="dummy"))
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    report = json.loads(text.split("REPORT", 1)[1])
    package = installed / "wmcourse"
    assert Path(report["package"]).parent == package, report["package"]
    assert Path(report["data"]) == package / artefacts.PACKAGED / "data"
    assert len(report["opened"]) >= 3, f"the notebook read only {report['opened']} of the shipped files"
    outside = [p for p in report["opened"] if not Path(p).is_relative_to(package)]
    assert not outside, f"shipped files read from outside the installed package: {outside}"
    assert not [p for p in report["opened"] if Path(p).is_relative_to(ROOT)]


def _imports(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_the_wheel_declares_every_package_the_course_imports():
    """`pip install` of the wheel brings what the package and each notebook import (the pins are requirements.txt's)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.match(r"[A-Za-z0-9_.\-]+", d).group(0).lower().replace("_", "-")
                for d in [*project["dependencies"], *sum(project.get("optional-dependencies", {}).values(), [])]}
    modules = set()
    for path in (ROOT / "wmcourse").rglob("*.py"):
        modules |= _imports(path.read_text())
    for source in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"):
        code = [c.source for c in jupytext.read(source).cells if c.cell_type == "code"]
        modules |= _imports("\n".join(line for c in code for line in c.splitlines() if not line.startswith(("%", "!"))))
    distributions = importlib.metadata.packages_distributions()
    missing = sorted(f"{m} ({', '.join(distributions.get(m, ['?']))})"
                     for m in modules - set(sys.stdlib_module_names) - {"wmcourse"}
                     if not {d.lower().replace("_", "-") for d in distributions.get(m, [m])} & declared)
    assert not missing, f"imported but not in pyproject.toml's dependencies: {missing}"
