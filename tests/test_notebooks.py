"""The notebooks' .py files are the source: each .ipynb must be their faithful, output-free twin."""

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def _cells(nb):
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def test_there_are_notebooks():
    assert SOURCES, f"no notebook sources found in {NOTEBOOKS}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_ipynb_matches_its_py_source(source):
    pair = source.with_suffix(".ipynb")
    assert pair.exists(), f"{pair.name} is missing: run `make notebooks` (jupytext --to ipynb notebooks/*.py)"
    expected = _cells(jupytext.read(source))
    committed = _cells(nbformat.read(pair, as_version=4))
    assert committed == expected, f"{pair.name} differs from {source.name}: regenerate it with `make notebooks`"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_ipynb_is_committed_without_outputs(source):
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not with_outputs, (f"{source.with_suffix('.ipynb').name} carries outputs in cells {with_outputs}: "
                              "regenerate it with `make notebooks`")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_notebook_names_a_kernel(source):
    # JupyterLab blocks on a kernel dialog when a notebook names no kernel.
    assert jupytext.read(source).metadata.get("kernelspec", {}).get("name") == "python3"


def test_sync_check_catches_a_difference(tmp_path):
    source = tmp_path / "99_x.py"
    source.write_text("# %% [markdown]\n# hello\n\n# %%\nx = 1\n")
    nb = jupytext.read(source)
    nb.cells[1].source = "x = 2"
    assert _cells(nb) != _cells(jupytext.read(source))
