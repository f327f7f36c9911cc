import contextlib
import importlib.util
import os
import shutil
from pathlib import Path

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors gain nothing from a second thread, and on a busy 2-core machine its barriers cost seconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


CHROMIUM = Path(os.environ.get("WMCOURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]

# JavaScript run in the page: the open notebook's model through the JupyterLab app (exposed with
# expose_app_in_browser): its code cells, how many ran, the kernel's state and the errors the cells raised
NOTEBOOK_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.content.model) return null;
    const cells = Array.from(panel.content.model.cells).filter(c => c.type === 'code');
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const errors = [];
    for (const c of cells) {
        for (let i = 0; i < c.outputs.length; i++) {
            const o = c.outputs.get(i);
            if (o.type === 'error') errors.push(JSON.stringify(o.toJSON()).slice(0, 600));
        }
    }
    return {code: cells.length, executed: cells.filter(c => c.executionCount !== null).length,
            kernel: kernel ? kernel.status : 'none', busy: panel.sessionContext.kernelDisplayStatus, errors};
}"""

# run the code cells whose source contains one of the given strings, in the notebook's order, with JupyterLab's
# own command (as Shift+Enter on each); returns their indices
_RUN_CELLS_WITH = """async (needles) => {
    const app = window.jupyterapp, notebook = app.shell.currentWidget.content;
    const picked = [];
    notebook.widgets.forEach((cell, i) => {
        const source = cell.model.sharedModel.getSource();
        if (cell.model.type === 'code' && needles.some(n => source.includes(n))) picked.push(i);
    });
    for (const i of picked) {
        notebook.activeCellIndex = i;
        await app.commands.execute('notebook:run-cell');
    }
    return picked;
}"""

_CELLS_DONE = """(indices) => {
    const panel = window.jupyterapp.shell.currentWidget, cells = panel.content.widgets;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return indices.every(i => cells[i].model.executionCount !== null) && kernel && kernel.status === 'idle';
}"""


def unavailable(reason: str):
    """Skip locally, fail under CI (CI=true), where `make test` must have installed what is missing."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must have it: `make install` installs it)")
    pytest.skip(reason)


class CourseInBrowser:
    """One JupyterLab, started as `make lab` starts it, and one headless Chromium that opens its notebooks in one
    JupyterLab page, one after the other, as a learner opens them from the file browser."""

    def __init__(self, server, chromium):
        self.server, self.chromium, self._page = server, chromium, None

    def _open(self, name: str):
        path = f"notebooks/{name}"
        if self._page is None:  # the address `make lab` prints (the token logs in), on this notebook
            self._page = self.chromium.new_page(viewport={"width": 1280, "height": 1000})
            self._page.set_default_timeout(60_000)
            self._page.goto(self.server.url(f"/lab/tree/{path}"))
            self._page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget",
                                         timeout=90_000)
            self._page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
        else:
            self._page.evaluate("async (path) => { await window.jupyterapp.commands.execute('docmanager:open', "
                                "{path}); }", path)  # (the widget it returns cannot come back to Python)
        page = self._page
        page.wait_for_function("(path) => { const w = window.jupyterapp.shell.currentWidget; "
                               "return w && w.context && w.context.path === path && w.sessionContext "
                               "&& w.sessionContext.isReady; }", arg=path, timeout=90_000)
        page.wait_for_function(f"() => ({NOTEBOOK_STATE})().kernel === 'idle'", timeout=90_000)
        return page

    @contextlib.contextmanager
    def notebook(self, name: str):
        """Open notebooks/`name` and wait for its kernel; yield the page. Afterwards its kernel is shut down and
        everything open in JupyterLab closed (without saving: the notebooks are copies), ready for the next one;
        after a failure the page is closed, so the next test starts from a fresh one."""
        page = self._open(name)
        try:
            yield page
        except BaseException:
            self._page = None
            page.close()
            raise
        page.evaluate("""async () => {
            const app = window.jupyterapp;
            await app.serviceManager.sessions.shutdownAll();
            for (const widget of Array.from(app.shell.widgets('main'))) widget.dispose();
        }""")

    @staticmethod
    def run_cells(page, *needles: str, timeout_s: float = 120) -> list[int]:
        """Run the code cells that contain one of `needles` (one cell each, in the notebook's order) and wait until
        they are done; fail on a cell that raised. Returns the cells' indices."""
        ran = page.evaluate(_RUN_CELLS_WITH, list(needles))
        assert len(ran) == len(needles), f"expected one code cell for each of {needles}, found cells {ran}"
        page.wait_for_function(_CELLS_DONE, arg=ran, timeout=timeout_s * 1000, polling=500)
        errors = page.evaluate(NOTEBOOK_STATE)["errors"]
        assert not errors, "cells raised errors in JupyterLab:\n" + "\n".join(errors)
        return ran


@pytest.fixture(scope="session")
def course_in_browser(tmp_path_factory):
    """JupyterLab started exactly as `make lab` starts it (wmcourse.cli.lab.start_lab) on a copy of the course's
    notebooks/ and docs/ (a notebook's ../docs/ links resolve; the browser saves into the copy, never the source),
    and Debian's Chromium driven by Playwright (no browser is downloaded): one of each for all the browser tests.

        def test_something(course_in_browser):
            with course_in_browser.notebook("03_temperature.ipynb") as page:
                course_in_browser.run_cells(page, "lesson.TauDream(")

    The kernels run in fast mode with one thread; Jupyter's user folders are the test's own, so only the course's
    settings apply. The one addition to `make lab`'s command: window.jupyterapp, which the tests drive. Without
    Chromium, Playwright or JupyterLab the tests are skipped locally and fail under CI.
    """
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found: `apt-get install chromium` (make install does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
    if importlib.util.find_spec("jupyterlab") is None:
        unavailable("JupyterLab is not installed: `make install`")
    from wmcourse.cli import lab

    tmp_path = tmp_path_factory.mktemp("lab")
    work = tmp_path / "course"
    shutil.copytree(lab.NOTEBOOKS, work / "notebooks", ignore=shutil.ignore_patterns("*.py", ".*"))
    shutil.copytree(lab.ROOT / "docs", work / "docs", ignore=shutil.ignore_patterns(".*"))
    folders = {name: str(tmp_path / "jupyter" / name) for name in
               ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR")}
    with open(tmp_path / "jupyter-lab.log", "w") as log:
        server = lab.start_lab(work, lab.START_NOTEBOOK, port=0, log=log,
                               extra_args=["--LabApp.expose_app_in_browser=True"],
                               env={"WMCOURSE_FAST": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                                    "OMP_NUM_THREADS": "1",  # small models: one thread beats two on busy cores
                                    **folders})
        try:
            try:
                lab.wait_until_ready(server, timeout=120)
            except lab.LabError as exc:
                raise AssertionError(f"{exc}:\n{Path(log.name).read_text()[-3000:]}") from exc
            with sync_api.sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
                try:
                    yield CourseInBrowser(server, chromium)
                finally:
                    chromium.close()
        finally:
            lab.stop_lab(server)
    assert server.process.poll() is not None, "jupyter-lab is still running"


@pytest.fixture()
def drag_slider():
    """drag(page, slider, fraction): drag an ipywidgets slider's handle to `fraction` of its track with the mouse,
    as a learner would (the value is sent when the mouse is released), and return its readout's new text. On a
    cold, busy machine the output can still grow while the mouse moves and the drag miss the handle, so a drag
    that moved nothing is tried again (a learner would too), at most three times."""

    def drag(page, slider, fraction: float) -> str:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        readout = slider.locator(".widget-readout")
        before = readout.text_content()
        for attempt in range(3):
            page.evaluate("(el) => el.scrollIntoView({block: 'center'})", slider.element_handle())
            page.wait_for_timeout(500 + 1000 * attempt)  # let the pictures below settle
            track = slider.locator(".noUi-target").bounding_box()
            grab = slider.locator(".noUi-handle").bounding_box()
            y = grab["y"] + grab["height"] / 2
            page.mouse.move(grab["x"] + grab["width"] / 2, y)
            page.mouse.down()
            page.mouse.move(track["x"] + track["width"] * fraction, y, steps=10)
            page.mouse.up()
            try:
                page.wait_for_function("([el, old]) => el.textContent !== old",
                                       arg=[readout.element_handle(), before], timeout=20_000)
                return readout.text_content()
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    return drag


@pytest.fixture(scope="session")
def tiny_world_model(tmp_path_factory):
    """A tiny untrained V (z = 4) and M (hidden 8) on disk, and the config of a controller on [z, h]:
    enough to drive real CarRacing episodes with the V+M+C agent in tests (wmcourse.worldmodels.real_es)."""
    from wmcourse.worldmodels import controller, mdnrnn, vae

    folder = tmp_path_factory.mktemp("tiny_world_model")
    vae.save_vae(vae.build_vae(vae.VAEConfig(z_size=4, width=0.125), seed=0), folder / "vae.pt")
    torch.manual_seed(0)
    mdnrnn.save_mdnrnn(mdnrnn.MDNRNN(mdnrnn.MDNRNNConfig(z_size=4, hidden=8, K=2)), folder / "mdnrnn.pt")
    return folder / "vae.pt", folder / "mdnrnn.pt", controller.ControllerConfig(input_size=4 + 8, action_size=3)
