import importlib.util
import os
import shutil
from pathlib import Path
from typing import IO

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors gain nothing from a second thread, and on a busy 2-core machine its barriers cost seconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture()
def jupyter_lab(tmp_path):
    """Start JupyterLab exactly as `make lab` does (wmcourse.cli.lab.start_lab), on a copy of one notebook.

    Call it with a notebook's name; it returns the running `LabServer` (open `server.url()` in a browser: it logs
    in with the token and opens the notebook) and stops the server and its kernels after the test:

        def test_something(jupyter_lab):
            server = jupyter_lab("03_temperature.ipynb")
            page.goto(server.url())

    The kernels run in fast mode with one thread; Jupyter's user folders are the test's own, so only the course's
    settings apply. The one addition to `make lab`'s command: window.jupyterapp, which browser tests drive.
    """
    from wmcourse.cli import lab

    servers: list[tuple[lab.LabServer, IO]] = []

    def start(notebook: str, env: dict[str, str] | None = None, docs: tuple[str, ...] = ()) -> lab.LabServer:
        if importlib.util.find_spec("jupyterlab") is None:
            message = "JupyterLab is not installed: `make install`"
            pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
        work = tmp_path / f"lab{len(servers)}"
        work.mkdir()
        start_file = notebook
        if docs:  # the course's layout: notebooks/ beside docs/, so the notebook's ../docs/ links resolve
            start_file = f"notebooks/{notebook}"
            (work / "notebooks").mkdir()
            (work / "docs").mkdir()
            for name in docs:
                shutil.copy(lab.ROOT / "docs" / name, work / "docs" / name)
        shutil.copy(lab.NOTEBOOKS / notebook, work / start_file)  # the browser saves into the copy, never the source
        folders = {name: str(tmp_path / "jupyter" / name) for name in
                   ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                    "JUPYTERLAB_WORKSPACES_DIR")}
        log = open(tmp_path / f"jupyter-lab{len(servers)}.log", "w")
        server = lab.start_lab(work, start_file, port=0, log=log, extra_args=["--LabApp.expose_app_in_browser=True"],
                               env={"WMCOURSE_FAST": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                                    "OMP_NUM_THREADS": "1",  # small models: one thread beats two on busy cores
                                    **folders, **(env or {})})
        servers.append((server, log))
        try:
            lab.wait_until_ready(server, timeout=120)
        except lab.LabError as exc:
            raise AssertionError(f"{exc}:\n{Path(log.name).read_text()[-3000:]}") from exc
        return server

    yield start
    for server, log in servers:
        lab.stop_lab(server)
        log.close()
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
