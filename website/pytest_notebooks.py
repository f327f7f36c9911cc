"""A pytest plugin that executes each notebook once for both the notebook test and the website.

`make test` loads it (`python -m pytest -p website.pytest_notebooks tests notebooks`). For every
notebooks/NN_name.ipynb it starts one kernel and runs the code cells in order, one test item per cell ("Cell N",
as nbval names them): a cell that raises or runs past the cell timeout fails its item, and the cells after it are
skipped. The kernel is started exactly as the site's build starts it (website/build.py's sphinx_env: the same
environment, fast or full mode, the inline Matplotlib backend) and run by the same executor, nbclient, so the
outputs are the ones the site would make, widget state included. When every cell passed, the executed notebook
is stored in the site's jupyter-cache (build/site/<mode>/cache, keyed on the code of the page's source
notebooks/NN_name.py), and the site's build (tests/test_website.py, `make site`) uses it instead of executing the
notebook again. The decks' tests, the notebook items and the site's tests run first, in that order and (under
pytest-xdist) on one worker, whatever the order on the command line.

Without this plugin nothing changes: the site's build executes what its cache lacks.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

WEBSITE = Path(__file__).resolve().parent
ROOT = WEBSITE.parent
NOTEBOOK = re.compile(r"\d\d_\w+\.ipynb")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KEPT: list[str] = []  # the notebooks (NN_name) this run stored for the site: tests/test_website.py checks its reuse


def _load(name: str, path: Path):
    """Import a file of website/ under a name of its own (website/build.py is no `build` package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


site_build = _load("wmcourse_site_build", WEBSITE / "build.py")
course_site = _load("wmcourse_course_site", WEBSITE / "course_site.py")


def fast_mode() -> bool:
    return os.environ.get("WMCOURSE_FAST", "0") not in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    course_site.poll_kernel_replies_in_slices()  # the site's fix for replies a long poll misses


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    option = parent.config.option
    if getattr(option, "nbval", False) or getattr(option, "nbval_lax", False):
        return None  # nbval asked for by name runs the notebooks instead
    if file_path.parent == ROOT / "notebooks" and NOTEBOOK.fullmatch(file_path.name):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


SITE_GROUP = "site"  # the decks, the notebooks and the site: one worker, in this order (see site_group)


def site_group(nodeid: str) -> int | None:
    """Where a test stands in the chain that builds the site: 0 the decks (tests/test_slides.py draws the figures
    and builds every deck), 1 the notebooks' cells, 2 the site (tests/test_website.py reuses both); None for a
    test outside it. The chain runs on one worker, in this order, so that nothing reads a deck or a cached
    notebook while another process writes it."""
    path = nodeid.split("::", 1)[0]
    if path.endswith("tests/test_slides.py"):
        return 0
    if path.startswith("notebooks/") and NOTEBOOK.fullmatch(path.rsplit("/", 1)[-1]):
        return 1
    if path.endswith("tests/test_website.py"):
        return 2
    return None


# Few tests, each long: JupyterLab in Chromium, and the tiny sites' Sphinx builds. By their count of tests they would
# come last and leave one worker running them alone at the end, so they are handed out early, in this order, mostly
# to the worker that does not run the chain. Not Ray's tests: beside the decks' build its raylet could time out
# starting, and beside the notebooks its processes slowed both (a run took 15 s longer).
LONG_FILES = ("test_browser.py", "test_browser_drive.py", "test_website_build.py")
# The browser tests share one JupyterLab and one Chromium (a session fixture, tests/conftest.py): one unit of work
BROWSER_GROUP, BROWSER_FILES = "browser", ("test_browser.py", "test_browser_drive.py")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the work: the site's chain first, in its order (decks, notebook cells, site), so that the site's build
    finds the decks built and the notebooks executed; the other files by their count of tests (most first, as
    pytest-xdist would), with the few long ones (LONG_FILES) as the 1st (the browser's two files, one unit) and the
    3rd units. Each file keeps the order of its tests."""
    def path(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    counts: dict[str, int] = {}
    for item in items:
        counts[path(item)] = counts.get(path(item), 0) + 1
    chain = sorted((item for item in items if site_group(item.nodeid) is not None),
                   key=lambda item: site_group(item.nodeid))
    files = sorted({path(item) for item in items if site_group(item.nodeid) is None}, key=lambda f: (-counts[f], f))
    long = sorted((f for f in files if f.rsplit("/", 1)[-1] in LONG_FILES),
                  key=lambda f: LONG_FILES.index(f.rsplit("/", 1)[-1]))
    rest = [f for f in files if f not in long]
    order = [*long[:2], *rest[:1], *long[2:], *rest[1:]]
    by_file: dict[str, list[pytest.Item]] = {f: [] for f in order}
    for item in items:
        if site_group(item.nodeid) is None:
            by_file[path(item)].append(item)
    items[:] = chain + [item for f in order for item in by_file[f]]


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: without it, nothing to do
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Under pytest-xdist (`make test` runs two workers): one unit of work per test file, so that a module's
    fixtures are made once, the site's whole chain as one unit, the first one handed out, and the browser tests'
    files as one unit (they share one JupyterLab)."""
    from xdist.scheduler import LoadScopeScheduling

    class ChainScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if site_group(nodeid) is not None:
                return SITE_GROUP
            return BROWSER_GROUP if path.rsplit("/", 1)[-1] in BROWSER_FILES else path

    config.option.loadscopereorder = False  # hand the units out in the collection's order (above)
    return ChainScheduling(config, log)


class CellFailed(Exception):
    """A cell raised, timed out or lost its kernel: the message says which and shows the traceback."""


class NotebookFile(pytest.File):
    """One notebook: one kernel for all its cells; the executed notebook kept for the site when all passed."""

    def collect(self):
        import nbformat

        self.nb = nbformat.read(self.path, as_version=4)
        self.client = None
        self.failed = False
        self.passed = 0
        self.seconds = 0.0
        code = [i for i, cell in enumerate(self.nb.cells) if cell.cell_type == "code"]
        for number, index in enumerate(code):
            yield NotebookCell.from_parent(self, name=f"Cell {number}", index=index)
        self.code_cells = len(code)

    def setup(self) -> None:
        from jupyter_core.utils import ensure_async, run_sync
        from nbclient import NotebookClient

        fast = fast_mode()
        self.layout = site_build.Layout(ROOT / "build" / "site" / ("fast" if fast else "full"))
        self.client = NotebookClient(self.nb, timeout=course_site.cell_timeout(fast), allow_errors=False,
                                     kernel_name=self.nb.metadata.get("kernelspec", {}).get("name", "python3"),
                                     resources={"metadata": {"path": str(self.path.parent)}})
        self._kernel = contextlib.ExitStack()
        self.client.reset_execution_trackers()
        self._kernel.enter_context(self.client.setup_kernel(env=site_build.sphinx_env(self.layout, fast)))

        async def language_info() -> None:  # what nbclient's execute() records before the first cell
            reply = await self.client.async_wait_for_reply(await ensure_async(self.client.kc.kernel_info()))
            self.nb.metadata["language_info"] = reply["content"]["language_info"]

        run_sync(language_info)()

    def teardown(self) -> None:
        try:
            if self.client is not None and not self.failed and self.passed == self.code_cells:
                self.client.set_widgets_metadata()
                if keep_for_site(self.path, self.nb, self.layout, fast_mode(), self.seconds):
                    KEPT.append(self.path.stem)
        finally:
            if self.client is not None:
                self._kernel.close()


class NotebookCell(pytest.Item):
    def __init__(self, *, index: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.index = index

    def runtest(self) -> None:
        from nbclient.exceptions import CellControlSignal, CellTimeoutError, DeadKernelError

        notebook: NotebookFile = self.parent
        if notebook.failed:
            pytest.skip("an earlier cell of this notebook failed")
        cell = notebook.nb.cells[self.index]
        start = time.monotonic()
        try:
            notebook.client.execute_cell(cell, self.index, execution_count=notebook.client.code_cells_executed + 1)
        except (CellControlSignal, CellTimeoutError, DeadKernelError, RuntimeError) as error:
            notebook.failed = True
            message = ANSI.sub("", str(error))  # the kernel's coloured traceback, plain
            raise CellFailed(f"{self.name} of {notebook.path.name} failed:\n{message}") from None
        finally:
            notebook.seconds += time.monotonic() - start
        notebook.passed += 1

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CellFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, self.name


def page_notebook(source: Path):
    """The site's page of a notebook as myst-nb reads it: its jupytext source (conf.py's nb_custom_formats)."""
    import jupytext

    return jupytext.reads(source.read_text(encoding="utf-8"), fmt="py:percent")


def keep_for_site(path: Path, executed, layout, fast: bool, seconds: float) -> bool:
    """Store an executed notebook in the site's jupyter-cache under the key its page (NN_name.py) will look up.

    The cache is emptied first when the package, data/ or the mode changed since it was filled (build.py's
    fingerprint), as the site's build does. Returns False, storing nothing, when the .ipynb's code differs from
    its .py source (tests/test_notebooks.py says so): the site then executes the page itself."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    source = path.with_suffix(".py")
    if not source.exists():
        return False
    page = page_notebook(source)
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    targets = [cell for cell in page.cells if cell.cell_type == "code"]
    if [c.source for c in code] != [c.source for c in targets]:
        return False
    for target, cell in zip(targets, code, strict=True):
        target.outputs, target.execution_count = cell.outputs, cell.execution_count
    for key in ("language_info", "widgets"):
        if key in executed.metadata:
            page.metadata[key] = executed.metadata[key]
    site_build.reset_stale_cache(layout, fast)
    cache = get_cache(str(layout.cache))
    cache.cache_notebook_bundle(CacheBundleIn(page, str(source), data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)
    return True
