"""Tiny sites built with the course site's own Sphinx settings (website/build.py), each with one defect, must fail:
a notebook cell that raises, a broken internal link, a missing image. And a page whose notebook the notebook test
executed is built from that stored run, not executed again: the same tiny site, without a defect, builds.

They build in their own folders, so they run beside the decks, the notebooks and the course's site
(tests/test_website.py, which builds and checks the site itself).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_website import ROOT, _load, site_build  # website/build.py, loaded once

# --- a tiny site with one defect must fail to build -----------------------------------------------------------

GOOD_NOTEBOOK = "# %% [markdown]\n# # 99 · A tiny notebook\n#\n# Math: $x^2$.\n\n# %%\nprint(1 + 1)\n"


def _tiny_site(tmp_path: Path, index_extra: str = "", notebook: str = GOOD_NOTEBOOK,
               before_build=None) -> subprocess.CompletedProcess:
    layout = site_build.Layout(tmp_path / "site")
    (layout.src / "notebooks").mkdir(parents=True)
    (layout.src / "notebooks" / "99_tiny.py").write_text(notebook)
    (layout.src / "index.md").write_text(f"# Tiny\n\n{index_extra}\n\n```{{toctree}}\nnotebooks/99_tiny\n```\n")
    layout.static.mkdir()
    (layout.extra / "slides").mkdir(parents=True)
    for deck in ("99_tiny.html", "99_tiny.zh.html"):
        (layout.extra / "slides" / deck).write_text("<html></html>")
    if before_build:
        before_build(layout)
    return subprocess.run(site_build.sphinx_command(layout), cwd=ROOT, env=site_build.sphinx_env(layout, fast=True),
                          capture_output=True, text=True, timeout=600)


@pytest.mark.timeout(900)
def test_the_build_fails_on_a_raising_notebook_a_broken_link_or_a_missing_image(tmp_path):
    """(The same tiny site without a defect builds: the next test.)"""
    # two defects Sphinx reports in one build (--keep-going): the build fails and names both
    broken = _tiny_site(tmp_path / "broken", notebook=GOOD_NOTEBOOK + "\n# %%\nraise ValueError('cell 2 fails')\n",
                        index_extra="![a figure](figures/missing.png)")
    log = broken.stdout + broken.stderr
    assert broken.returncode != 0 and "cell 2 fails" in log and "missing.png" in log, log[-4000:]
    link = _tiny_site(tmp_path / "link", index_extra="See [the glossary](docs/nowhere.md).")  # checked after Sphinx
    assert link.returncode != 0 and "nowhere" in link.stdout + link.stderr


@pytest.mark.timeout(900)
def test_the_site_uses_the_notebook_the_notebook_test_executed_and_does_not_execute_it_again(tmp_path):
    """website/pytest_notebooks.py stores an executed notebook under the key its page looks up: a page whose code
    would raise if executed builds, and shows the stored outputs."""
    plugin = _load("wmcourse_pytest_notebooks", ROOT / "website" / "pytest_notebooks.py")
    import nbformat

    raising = "# %% [markdown]\n# # 99 · A tiny notebook\n\n# %%\nraise ValueError('executed again')\n"
    stored = {}

    def executed_by_the_notebook_test(layout):
        source = layout.src / "notebooks" / "99_tiny.py"
        executed = plugin.page_notebook(source)
        executed.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="kept from the test\n")]
        executed.cells[1].execution_count = 1
        executed.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}  # from the kernel
        other = plugin.page_notebook(source)
        other.cells[1].source = "print('other code')"
        stored["other"] = plugin.keep_for_site(source.with_suffix(".ipynb"), other, layout, True, 1.0)
        stored["kept"] = plugin.keep_for_site(source.with_suffix(".ipynb"), executed, layout, True, 1.0)
        stored["records"] = site_build.cached_notebooks(layout)

    built = _tiny_site(tmp_path, notebook=raising, before_build=executed_by_the_notebook_test)
    assert stored["other"] is False and stored["kept"] is True  # an .ipynb whose code differs from its page: not kept
    assert built.returncode == 0, f"the site executed the page instead of using the cache:\n{built.stderr[-3000:]}"
    page = (tmp_path / "site" / "html" / "notebooks" / "99_tiny.html").read_text()
    assert "kept from the test" in page
    assert "Run this notebook" in page and "../slides/99_tiny.zh.html" in page  # the course's page around it
    assert site_build.cached_notebooks(site_build.Layout(tmp_path / "site")) == stored["records"]  # nothing added
