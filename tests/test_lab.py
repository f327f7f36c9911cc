"""`make lab`: JupyterLab starts as root and as a user, without a display it prints its address, it opens notebook 00,
and the course's own settings (no news toast, no update check) reach the running server.

The last test runs the README's first command itself (`make lab`, without a display) and stops it as Ctrl+C does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from wmcourse.cli import lab

ROOT = Path(__file__).resolve().parent.parent
NEEDS_LAB = pytest.mark.skipif(importlib.util.find_spec("jupyterlab") is None,
                               reason="JupyterLab is not installed (make install)")


def _get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_lab_command_allows_root_only_as_root_and_opens_a_browser_only_when_asked():
    as_root = lab.lab_command("/x", 8888, is_root=True)
    as_user = lab.lab_command("/x", 8888, is_root=False, open_browser=True)
    assert "--allow-root" in as_root and "--allow-root" not in as_user
    assert "--no-browser" in as_root and "--no-browser" not in as_user
    assert "--ServerApp.port_retries=0" in as_user  # the printed port is the one it listens on
    assert f"--LabApp.default_url=/lab/tree/{lab.START_NOTEBOOK}" in as_user


@pytest.mark.parametrize("environ, platform, expected", [
    ({}, "linux", False), ({"DISPLAY": ":0"}, "linux", True), ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({"SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, "linux", False), ({}, "darwin", True), ({}, "win32", True)])
def test_a_display_is_seen_only_where_a_browser_could_open(environ, platform, expected):
    assert lab.has_display(environ, platform) is expected


def test_without_a_display_the_message_gives_the_address_with_its_token_and_an_ssh_tunnel():
    server = lab.LabServer(process=None, base_url="http://127.0.0.1:8891", token="abc123",
                           start_path="/lab/tree/00_motivation.ipynb")
    message = lab.access_message(server, opened=False,
                                 environ={"USER": "ada", "SSH_CONNECTION": "10.0.0.2 50000 10.0.0.9 22"})
    assert "http://127.0.0.1:8891/lab/tree/00_motivation.ipynb?token=abc123" in message
    assert "ssh -N -L 8891:127.0.0.1:8891 ada@10.0.0.9" in message
    assert "Ctrl+C" in message
    assert "ssh" not in lab.access_message(server, opened=True)


def test_settings_install_into_an_environment_once_and_say_no_news(tmp_path):
    written = lab.install_settings(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "etc/jupyter/jupyter_server_config.d/wmcourse.json", "share/jupyter/lab/settings/overrides.d/wmcourse.json"]
    assert lab.install_settings(tmp_path) == []  # unchanged: nothing rewritten
    overrides = json.loads((tmp_path / "share/jupyter/lab/settings/overrides.d/wmcourse.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false", "checkForUpdates": False}


def test_a_missing_start_notebook_is_one_clear_error(tmp_path):
    with pytest.raises(lab.LabError, match="00_motivation.ipynb not found"):
        lab.start_lab(tmp_path)


@NEEDS_LAB
@pytest.mark.timeout(180)
def test_the_running_server_opens_notebook_00_with_the_course_settings(tmp_path):
    folders = {name: str(tmp_path / name) for name in
               ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR")}
    with open(tmp_path / "lab.log", "w") as log:
        server = lab.start_lab(port=0, env=folders, log=log)  # as root here when the tests run as root (CI)
        try:
            lab.wait_until_ready(server)
            status, page = _get(server.url(), server.token)
            assert status == 200 and b"JupyterLab" in page
            _, notebook = _get(f"{server.base_url}/api/contents/{lab.START_NOTEBOOK}?content=0", server.token)
            assert json.loads(notebook)["type"] == "notebook"
            _, body = _get(f"{server.base_url}/lab/api/settings/@jupyterlab/apputils-extension:notification",
                           server.token)
            defaults = json.loads(body)["schema"]["properties"]  # overrides become the settings' defaults
            assert defaults["fetchNews"]["default"] == "false", defaults["fetchNews"]
            assert defaults["checkForUpdates"]["default"] is False, defaults["checkForUpdates"]
            _, news = _get(f"{server.base_url}/lab/api/news", server.token)
            assert json.loads(news)["news"] == []
        finally:
            lab.stop_lab(server)
    assert server.process.poll() is not None


@NEEDS_LAB
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.timeout(300)
def test_make_lab_without_a_display_prints_a_working_address_and_stops_on_ctrl_c(tmp_path):
    port = lab.pick_port(0)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update({name: str(tmp_path / name) for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR",
                                                        "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR")})
    # -o: do not reinstall (make test has just installed everything); the recipe is the README's `make lab`
    make = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "lab",
                             f"LAB_ARGS=--port {port}"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            # as when started from a script in the background, which ignores Ctrl+C
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    output = []
    try:
        deadline = time.monotonic() + 150  # the launcher's message ends with how to stop it
        while time.monotonic() < deadline and make.poll() is None:
            output.append(make.stdout.readline())
            if "Stop JupyterLab with Ctrl+C" in output[-1]:
                break
        text = "".join(output)
        found = re.search(r"http://127\.0\.0\.1:\d+/lab/tree/\S+\?token=[0-9a-f]+", text)
        assert found, "make lab printed no address:\n" + text[-3000:]
        url = found.group(0)
        assert url.startswith(f"http://127.0.0.1:{port}/lab/tree/notebooks/00_motivation.ipynb?token="), url
        assert "No display here" in text and f"ssh -N -L {port}:127.0.0.1:{port} " in text, text[-2000:]
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        os.killpg(make.pid, signal.SIGINT)  # Ctrl+C in the terminal reaches make and the launcher
        stopping = time.monotonic()
        # the launcher gives JupyterLab 20 s to stop, then 10 s after a kill; margin for a busy CI
        make.wait(timeout=120)
        print(f"make lab stopped {time.monotonic() - stopping:.1f} s after Ctrl+C")
        assert not _answers(port), "JupyterLab still answers after Ctrl+C"
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()


@NEEDS_LAB
@pytest.mark.timeout(180)
def test_with_a_display_the_browser_opens_notebook_00(tmp_path):
    browser = tmp_path / "browser"  # stands in for the learner's browser: records what it was asked to open
    browser.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'opened'}\n")
    browser.chmod(0o755)
    port = lab.pick_port(0)
    env = {**os.environ, "DISPLAY": ":0", "BROWSER": str(browser), "PYTHONPATH": str(ROOT),
           **{name: str(tmp_path / name) for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR",
                                                      "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR")}}
    with open(tmp_path / "lab.log", "w") as log:
        launcher = subprocess.Popen([sys.executable, "-m", "wmcourse.cli.lab", "--port", str(port)], cwd=ROOT, env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 150  # the browser opens as the server starts; the message once it answers
            while time.monotonic() < deadline and launcher.poll() is None and not (
                    (tmp_path / "opened").exists() and "Stop JupyterLab" in (tmp_path / "lab.log").read_text()):
                time.sleep(0.5)
            assert (tmp_path / "opened").exists(), "no browser was opened:\n" + (tmp_path / "lab.log").read_text()
            # Jupyter opens a local page that forwards to the start page with the token
            page = Path((tmp_path / "opened").read_text().strip().removeprefix("file://")).read_text()
            assert re.search(rf"http://127\.0\.0\.1:{port}/lab/tree/notebooks/"
                             r"00_motivation\.ipynb\?token=[0-9a-f]+", page)
        finally:
            launcher.send_signal(signal.SIGTERM)  # the launcher stops JupyterLab and its kernels
            launcher.wait(timeout=60)
    assert "The course is open in your browser" in (tmp_path / "lab.log").read_text()
    assert not _answers(port), "JupyterLab still answers after the launcher stopped"
