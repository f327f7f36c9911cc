"""The course website's own Sphinx extension.

- Each notebook page gets a "Run this notebook" note under its title: the README's two commands, the mode its
  outputs were made in, and links to its English and Chinese decks (a missing deck fails the build).
- The README, included in the home page, links each notebook as learners open it (notebooks/NN_name.ipynb); on
  the site the page of a notebook is made from its jupytext source, so those links are pointed at
  notebooks/NN_name.py as the README is read.
- Each saved widget that holds a control (a slider, a switch, a button) gets a line under it saying that it
  responds in JupyterLab: on the site it shows the state it was saved in. A widget with no saved state fails the
  build, since the page would show nothing in its place.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

WIDGET_VIEW = '<script type="application/vnd.jupyter.widget-view+json">'
# widget models that only show something; any other model in a widget's tree is a control a learner can move
PASSIVE_MODELS = {"LayoutModel", "BoxModel", "HBoxModel", "VBoxModel", "GridBoxModel", "OutputModel", "ImageModel",
                  "HTMLModel", "HTMLMathModel", "LabelModel", "FloatProgressModel", "IntProgressModel"}
WIDGET_NOTE = ("This control responds in JupyterLab (run the notebook with make lab to move it); "
               "here it shows the state it was saved in.")


def cell_timeout(fast: bool) -> int:
    """The most seconds one cell may run: fast mode (CI) loads and trains little; full mode trains for minutes."""
    return 600 if fast else 1800


def run_note(notebook: str, fast: bool) -> nodes.admonition:
    """The note under a notebook page's title: how to run it, how its outputs were made, its decks."""
    note = nodes.admonition(classes=["tip", "course-run"])
    note += nodes.title(text="Run this notebook")
    mode = ("fast mode (WMCOURSE_FAST=1, as in CI: the shipped artefacts, tiny training runs, fewer episodes)"
            if fast else "full mode (the shipped artefacts)")
    intro = nodes.paragraph()
    intro += nodes.Text(f"This page shows the notebook executed in {mode}. To run it yourself and move its "
                        "controls, clone the course and run:")
    note += intro
    code = (f"make lab    # installs what is missing, opens JupyterLab: then notebooks/{notebook}.ipynb\n"
            "make test   # runs every test and executes every notebook")
    note += nodes.literal_block(code, code, language="bash")
    decks = nodes.paragraph(classes=["course-decks"])
    decks += nodes.Text("Slides for this notebook: ")
    decks += nodes.reference("", "English deck", refuri=f"../slides/{notebook}.html")
    decks += nodes.Text(" · ")
    decks += nodes.reference("", "中文幻灯片 (Chinese deck)", refuri=f"../slides/{notebook}.zh.html")
    note += decks
    return note


class RunNote(SphinxTransform):
    """Insert the run note after the title of every page under notebooks/."""
    default_priority = 500

    def apply(self, **kwargs: Any) -> None:
        docname = self.env.docname
        if not docname.startswith("notebooks/"):
            return
        notebook = docname.split("/", 1)[1]
        decks = Path(self.config.course_decks_dir)
        for deck in (f"{notebook}.html", f"{notebook}.zh.html"):
            if not (decks / deck).is_file():
                logger.warning(f"{docname}: its deck slides/{deck} is not in the site ({decks})", location=docname)
        section = next(iter(self.document.findall(nodes.section)), None)
        if section is None or not isinstance(section[0], nodes.title):
            logger.warning(f"{docname}: no title to put the run note under", location=docname)
            return
        section.insert(1, run_note(notebook, self.config.course_fast))


def widget_models(state: dict[str, Any], model_id: str) -> list[str]:
    """The model names in a widget's tree (itself and every widget it refers to), from the saved widget state."""
    seen: set[str] = set()
    names: list[str] = []
    todo = [model_id]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if current not in state:
            raise KeyError(current)
        model = state[current]
        names.append(model.get("model_name", "?"))
        todo += [ref[len("IPY_MODEL_"):] for ref in _references(model.get("state", {}))]
    return names


def _references(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith("IPY_MODEL_") else []
    if isinstance(value, dict):
        return [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def has_control(names: list[str]) -> bool:
    return any(name not in PASSIVE_MODELS and not name.endswith("StyleModel") for name in names)


def saved_widget_state(app: Sphinx, docname: str) -> dict[str, Any]:
    """The widget state myst-nb saved for a page (empty when the notebook saved none)."""
    from myst_nb.sphinx_ import NbMetadataCollector

    scripts = NbMetadataCollector.get_js_files(app.env, docname)
    if "ipywidgets_state" not in scripts:
        return {}
    return json.loads(scripts["ipywidgets_state"][1]["body"]).get("state", {})


class WidgetNote(SphinxPostTransform):
    """Put the "responds in JupyterLab" line under every saved widget that holds a control."""
    default_priority = 500
    builders = ("html", "dirhtml")

    def run(self, **kwargs: Any) -> None:
        docname = self.env.docname
        state: dict[str, Any] | None = None
        for raw in list(self.document.findall(nodes.raw)):
            if not raw.astext().startswith(WIDGET_VIEW):
                continue
            if state is None:
                state = saved_widget_state(self.app, docname)
            view = json.loads(raw.astext()[len(WIDGET_VIEW):-len("</script>")])
            try:
                names = widget_models(state, view["model_id"])
            except KeyError as missing:
                logger.warning(f"{docname}: a widget has no saved state (model {missing}), so the page would show "
                               "nothing in its place", location=raw)
                continue
            if has_control(names):
                note = nodes.paragraph(classes=["course-widget-note"])
                note += nodes.Text(WIDGET_NOTE)
                raw.parent.insert(raw.parent.index(raw) + 1, note)


async def _get_msg_in_slices(self, timeout: float | None = None) -> dict[str, Any]:
    """jupyter_client's AsyncZMQSocketChannel.get_msg, polling at most a second at a time.

    Measured here (jupyter_client 8.10, pyzmq 27.3, ipykernel 7.4 on a busy 2-core machine): now and then the
    client's one long poll does not wake when the kernel's reply arrives, and only sees it when the poll's whole
    timeout ends (a cell of notebook 01 took exactly the 120 s timeout instead of 2 s; with the site's timeout the
    build sat idle). Short polls see such a reply within a second; a real timeout still raises Empty at the
    deadline, so a cell that runs too long still fails the build."""
    from queue import Empty
    from time import monotonic

    deadline = None if timeout is None else monotonic() + timeout
    while True:
        left = 1.0 if deadline is None else max(0.0, min(1.0, deadline - monotonic()))
        if await self.socket.poll(math.ceil(left * 1000)):
            return await self._recv()
        if deadline is not None and monotonic() >= deadline:
            raise Empty


def poll_kernel_replies_in_slices() -> None:
    """Use _get_msg_in_slices for every asynchronous kernel channel of this process (nbclient's executor's)."""
    from jupyter_client.channels import AsyncZMQSocketChannel

    AsyncZMQSocketChannel.get_msg = _get_msg_in_slices


NOTEBOOK_LINK = re.compile(r"\]\((notebooks/\d\d_\w+)\.ipynb([#)])")


def notebook_links_to_pages(text: str) -> str:
    """`](notebooks/NN_name.ipynb)` -> `](notebooks/NN_name.py)`: the site's page of that notebook."""
    return NOTEBOOK_LINK.sub(r"](\1.py\2", text)


def _include_read(app: Sphinx, relative_path: Path, parent_docname: str, content: list[str]) -> None:
    content[0] = notebook_links_to_pages(content[0])


def setup(app: Sphinx) -> dict[str, Any]:
    poll_kernel_replies_in_slices()
    build = Path(os.environ.get("WMCOURSE_SITE_BUILD", "build/site"))
    app.add_config_value("course_decks_dir", str(build / "extra" / "slides"), "env", types=frozenset({str}))
    app.add_config_value("course_fast", os.environ.get("WMCOURSE_FAST", "0") not in ("", "0"), "env")
    app.add_transform(RunNote)
    app.add_post_transform(WidgetNote)
    app.connect("include-read", _include_read)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
