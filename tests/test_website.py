"""The course website (make site): built from the notebooks' sources, and checked in a real browser.

Unit checks of website/build.py and website/course_site.py (no build; tiny sites with a defect are built by
tests/test_website_build.py, beside the decks and notebooks). Then the course's site is built in fast mode
(`python website/build.py --fast --reuse-decks`, as CI; jupyter-cache in build/site/fast/cache skips notebooks
whose code did not change). Under `make test` the notebook test (website/pytest_notebooks.py) has just executed
every notebook into that cache, and the build must execute none of them again. No link or file reference in the
site is absolute, and it is served on 127.0.0.1 under a sub-path (as a GitHub Pages project site is): in headless
Chromium (Debian's, driven by Playwright) every page loads with no console error and no request that leaves the
site, every image is present, MathJax rendered every formula and left no raw TeX, the saved widgets render with
their note, every link inside the site resolves, and the sidebar navigation reaches every page. The test file is
named so that pytest runs it after tests/test_slides.py, whose decks it reuses.

WMCOURSE_SITE_SCREENSHOT=docs/site_screenshot.png refreshes the README's picture.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import importlib.util
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import CHROMIUM, CHROMIUM_FLAGS, unavailable

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    """Import a file of website/ under a name of its own (website/build.py is no `build` package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


site_build = _load("wmcourse_site_build", ROOT / "website" / "build.py")
course_site = _load("wmcourse_course_site", ROOT / "website" / "course_site.py")

SCREENSHOT_ENV = "WMCOURSE_SITE_SCREENSHOT"
SCREENSHOT_PAGE = "notebooks/03_temperature.html"


# --- the build script and the extension, without building ------------------------------------------------------

def _fake_course(root: Path, docs: tuple[str, ...]) -> None:
    (root / "notebooks").mkdir(parents=True)
    for name in ("01_b", "00_a"):
        (root / "notebooks" / f"{name}.py").write_text("# %% [markdown]\n# # A\n")
        (root / "notebooks" / f"{name}.ipynb").write_text("{}")
    (root / "docs").mkdir()
    for name in docs:
        (root / "docs" / f"{name}.md").write_text(f"# {name}\n")
    (root / "README.md").write_text("# Course\n\nOverview.\n\n## Slides\n\nNot on the home page.\n")


@pytest.mark.parametrize("docs", [(), ("glossary",), ("glossary", "references"),
                                  ("glossary", "references", "architecture")])
def test_the_source_tree_links_every_notebook_and_the_docs_that_exist(tmp_path, docs):
    _fake_course(tmp_path / "course", docs)
    layout = site_build.Layout(tmp_path / "build")
    found = site_build.prepare_sources(layout, tmp_path / "course")
    assert found == {"notebooks": ["00_a", "01_b"], "docs": list(docs)}
    assert sorted(p.name for p in (layout.src / "notebooks").iterdir()) == ["00_a.py", "01_b.py"]  # no .ipynb twin
    assert (layout.src / "notebooks" / "00_a.py").read_text() == "# %% [markdown]\n# # A\n"
    index = (layout.src / "index.md").read_text()
    include = index.split("```{include} ", 1)[1].split("\n", 1)[0]
    assert (layout.src / include).resolve() == (tmp_path / "course" / "README.md")  # included, not copied
    assert ':end-before: "## Slides"' in index
    assert "notebooks/00_a\nnotebooks/01_b" in index
    for name in ("glossary", "references", "architecture"):
        assert (f"docs/{name}" in index) == (name in docs)
        assert (layout.src / "docs" / f"{name}.md").exists() == (name in docs)


def test_a_readme_without_the_overview_end_and_a_course_without_notebooks_are_refused(tmp_path):
    _fake_course(tmp_path, ())
    (tmp_path / "README.md").write_text("# Course\n")
    with pytest.raises(ValueError, match="## Slides"):
        site_build.prepare_sources(site_build.Layout(tmp_path / "build"), tmp_path)
    with pytest.raises(FileNotFoundError, match="notebooks/NN_name.py"):
        site_build.notebook_sources(tmp_path / "nowhere")


def test_the_cache_fingerprint_follows_the_package_the_data_and_the_mode(tmp_path):
    for folder in ("wmcourse", "data"):
        (tmp_path / folder).mkdir()
    (tmp_path / "wmcourse" / "vae.py").write_text("A = 1\n")
    (tmp_path / "data" / "vae.pt").write_bytes(b"weights")
    (tmp_path / "requirements.txt").write_text("torch==1\n")
    first = site_build.fingerprint(tmp_path, fast=True)
    assert site_build.fingerprint(tmp_path, fast=True) == first
    assert site_build.fingerprint(tmp_path, fast=False) != first
    (tmp_path / "data" / "vae.pt").write_bytes(b"other weights")
    second = site_build.fingerprint(tmp_path, fast=True)
    assert second != first
    (tmp_path / "wmcourse" / "vae.py").write_text("A = 2\n")
    assert site_build.fingerprint(tmp_path, fast=True) != second


def test_decks_count_as_current_only_when_built_after_their_sources(tmp_path):
    notebooks = [tmp_path / "00_a.py"]
    (tmp_path / "figures").mkdir()
    for name in ("00_a.md", "00_a.zh.md"):
        (tmp_path / name).write_text("deck")
    assert not site_build.decks_are_current(tmp_path, notebooks)
    for name in ("00_a.html", "00_a.zh.html"):
        (tmp_path / name).write_text("<html>")
    assert site_build.decks_are_current(tmp_path, notebooks)
    os.utime(tmp_path / "00_a.zh.md", (time.time() + 10, time.time() + 10))  # the source edited after the build
    assert not site_build.decks_are_current(tmp_path, notebooks)


def test_only_widgets_that_hold_a_control_get_the_jupyterlab_note():
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_slider", "IPY_MODEL_out"],
                                                     "layout": "IPY_MODEL_lay"}},
        "slider": {"model_name": "FloatSliderModel", "state": {"style": "IPY_MODEL_sty"}},
        "sty": {"model_name": "SliderStyleModel", "state": {}},
        "out": {"model_name": "OutputModel", "state": {"outputs": []}},
        "lay": {"model_name": "LayoutModel", "state": {}},
        "lonely": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_out", "IPY_MODEL_ghost"]}},
    }
    names = course_site.widget_models(state, "box")
    assert sorted(names) == ["FloatSliderModel", "LayoutModel", "OutputModel", "SliderStyleModel", "VBoxModel"]
    assert course_site.has_control(names)
    assert not course_site.has_control(course_site.widget_models(state, "out"))
    with pytest.raises(KeyError):
        course_site.widget_models(state, "lonely")  # refers to a widget whose state was not saved


class _Socket:
    """A kernel channel's socket whose message is there from the start, but whose poll misses it `misses` times."""

    def __init__(self, misses: int, message: dict | None):
        self.misses, self.message, self.polls = misses, message, []

    async def poll(self, timeout_ms: int) -> int:
        self.polls.append(timeout_ms)
        if self.message is not None and len(self.polls) > self.misses:
            return 1
        await asyncio.sleep(timeout_ms / 1000 if self.message is None else 0)  # a poll that finds nothing waits
        return 0


class _Channel:
    def __init__(self, socket: _Socket):
        self.socket = socket

    async def _recv(self) -> dict:
        return self.socket.message


def test_kernel_replies_are_polled_a_second_at_a_time_and_a_real_timeout_still_raises():
    missed = _Channel(_Socket(misses=2, message={"msg_id": "reply"}))
    assert asyncio.run(course_site._get_msg_in_slices(missed, timeout=1800)) == {"msg_id": "reply"}
    assert missed.socket.polls == [1000, 1000, 1000]  # never one poll of the whole 1800 s
    silent = _Channel(_Socket(misses=0, message=None))
    with pytest.raises(queue.Empty):
        asyncio.run(course_site._get_msg_in_slices(silent, timeout=0.05))
    assert silent.socket.polls[0] == 50 and sum(silent.socket.polls) <= 60  # then it gives up: Empty


# --- the course's site, built and opened in Chromium -----------------------------------------------------------

@pytest.fixture(scope="module")
def site() -> Path:
    """Build the site in fast mode into build/site/fast (the notebook cache makes a rebuild quick)."""
    start = time.monotonic()
    result = subprocess.run([sys.executable, str(ROOT / "website" / "build.py"), "--fast", "--reuse-decks"],
                            cwd=ROOT, capture_output=True, text=True, timeout=1500)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"the site did not build:\n{log[-6000:]}"
    print(f"site built in {time.monotonic() - start:.0f} s")
    kept = getattr(sys.modules.get("website.pytest_notebooks"), "KEPT", [])  # what the notebook test executed
    executed = re.search(r"notebooks executed by this build: (.*): open", log)
    assert executed, log[-2000:]
    again = sorted(set(kept) & set(executed.group(1).split(", ")))
    assert not again, f"the site executed again notebooks the notebook test had just executed: {again}"
    return ROOT / "build" / "site" / "fast" / "html"


SUBPATH = "wm-course"  # where the site is served: a project site on GitHub Pages lives under /REPOSITORY/


@pytest.fixture(scope="module")
def served(site: Path, tmp_path_factory):
    host = tmp_path_factory.mktemp("host")
    (host / SUBPATH).symlink_to(site, target_is_directory=True)
    handler = functools.partial(_QuietHandler, directory=str(host))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{SUBPATH}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the browser closed a connection it no longer needs
            super().handle_error(request, client_address)


def _pages(site: Path) -> list[str]:
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html")
                  if p.parts[len(site.parts)] not in ("_static", "slides", "_sources"))


@pytest.mark.timeout(1800)  # the first test to use the site waits for its build: about 5 minutes on CI's 2 cores
def test_the_site_has_a_page_for_every_notebook_and_links_its_decks(site):
    pages = _pages(site)
    for notebook in site_build.notebook_sources():
        assert f"notebooks/{notebook.stem}.html" in pages
        html = (site / "notebooks" / f"{notebook.stem}.html").read_text()
        for deck in site_build.deck_names(notebook):
            assert f'href="../slides/{deck}"' in html, f"{notebook.stem}'s page does not link slides/{deck}"
            assert (site / "slides" / deck).is_file()
        text = re.sub(r"<[^>]+>", "", html)  # the commands are highlighted: one span per word
        assert "Run this notebook" in text and "make lab" in text and "make test" in text
    assert "index.html" in pages
    for name in site_build.DOCS:
        assert (f"docs/{name}.html" in pages) == (ROOT / "docs" / f"{name}.md").is_file()


# an attribute or CSS url() whose value is an absolute path ("/x", "//host/x") or a file: URL
_ABSOLUTE = re.compile(r"""(?:\b(?:href|src|action|poster|data)\s*=\s*["']\s*|url\(\s*["']?)(/|file:)""", re.I)


@pytest.mark.timeout(1800)
def test_every_reference_in_the_site_is_relative_so_any_static_host_serves_it_as_it_is(site):
    problems = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".html", ".css", ".js") or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix != ".js":  # scripts compare strings with "/" freely; their URLs are checked in Chromium
            problems += [f"{path.relative_to(site)}: {text[m.start():m.end() + 40]!r}"
                         for m in _ABSOLUTE.finditer(text)]
    assert not problems, "absolute references (they break under another host or path):\n" + "\n".join(problems[:15])
    assert (site / ".nojekyll").is_file(), "GitHub Pages would hide _static/ without .nojekyll"


def test_the_absolute_reference_check_finds_them():
    for bad in ('<a href="/docs/x.html">', "<img src='/_static/a.png'>", "background: url(/x.png)",
                '<a href="//cdn.example/x.js">', '<link href="file:///tmp/x.css">'):
        assert _ABSOLUTE.search(bad), bad
    for good in ('<a href="docs/x.html">', '<a href="../index.html">', "url(fonts/x.woff)", '<a href="#top">',
                 '<a href="https://arxiv.org/abs/1803.10122">'):
        assert not _ABSOLUTE.search(good), good


# what a page reports once MathJax has finished (its startup promise) and every image has tried to load
_PAGE_REPORT = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
    await Promise.all(Array.from(document.images).map(i => {
        i.loading = 'eager';
        return i.decode().catch(() => null);
    }));
    const main = document.querySelector('main') || document.body;
    const copy = main.cloneNode(true);
    copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight, textarea').forEach(e => e.remove());
    const text = copy.textContent;
    return {
        title: document.title,
        images: document.images.length,
        brokenImages: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)
            .map(i => (i.getAttribute('src') || '').slice(0, 80)),
        mathSource: document.querySelectorAll('.math').length,
        mathRendered: document.querySelectorAll('mjx-container').length,
        mathUnrendered: Array.from(document.querySelectorAll('.math')).filter(m => !m.querySelector('mjx-container'))
            .map(m => m.textContent.slice(0, 60)),
        mathErrors: document.querySelectorAll('mjx-merror').length,
        rawTex: ['$$', '\\\\(', '\\\\[', '$\\\\'].filter(s => text.includes(s))
            .concat((text.match(/\\$[^$\\s]([^$]{0,100}[^$\\s])?\\$/g) || []).slice(0, 3)),
        widgetViews: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
        widgetsRendered: document.querySelectorAll(['.jupyter-widgets.widget-container',
            '.jupyter-widgets.widget-inline-hbox', '.jupyter-widgets.widget-output', '.jupyter-widgets.widget-image',
            '.jupyter-widgets.widget-box'].join(', ')).length,
        widgetNotes: document.querySelectorAll('.course-widget-note').length,
        nav: Array.from(document.querySelectorAll(
                '.bd-sidebar-primary nav a[href], .bd-sidebar-primary a.navbar-brand[href]'))
            .map(a => a.href),
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    };
}"""


@pytest.mark.timeout(1800)
def test_every_page_renders_in_chromium_with_nothing_missing_and_the_navigation_reaches_it(site, served, tmp_path):
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found: `apt-get install chromium` (make install does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
    pages = [p for p in _pages(site) if p not in ("genindex.html", "search.html")]
    problems, outside, failed, console = [], [], [], []
    reports, reached = {}, set()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(180_000)  # a busy 2-core machine can take a minute for the first page
            page.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith((served, "data:", "blob:", "about:")) else None)
            page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})")  # a missing file is a 404 below;
                    if "ERR_ABORTED" not in (r.failure or "") else None)  # aborted: the test moved to the next page
            page.on("response", lambda r: failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)
            page.on("console", lambda m: console.append(f"{page.url}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: console.append(f"{page.url}: {e}"))
            for name in pages:
                page.goto(f"{served}/{name}", wait_until="load")
                if name.startswith("notebooks/"):  # the widget manager renders after load
                    page.wait_for_timeout(500)
                report = page.evaluate(_PAGE_REPORT)
                reports[name] = report
                reached.update(_site_page(served, href) for href in report["nav"])
                problems += [f"{name}: image did not load: {src}" for src in report["brokenImages"]]
                if report["mathUnrendered"] or report["mathErrors"]:
                    problems.append(f"{name}: MathJax left {len(report['mathUnrendered'])} formulas unrendered "
                                    f"({report['mathUnrendered'][:3]}) and {report['mathErrors']} errors")
                if report["rawTex"]:
                    problems.append(f"{name}: raw TeX left in the text: {report['rawTex']}")
                if report["widgetViews"] and report["widgetsRendered"] < report["widgetViews"]:
                    problems.append(f"{name}: {report['widgetViews']} saved widgets, "
                                    f"{report['widgetsRendered']} rendered")
            screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "site_screenshot.png")
            _screenshot(page, f"{served}/{SCREENSHOT_PAGE}", screenshot)
        finally:
            browser.close()
    assert not outside, ("pages made requests outside the site (another host, or an absolute path):\n"
                         + "\n".join(sorted(set(outside))[:10]))
    assert not failed, "requests failed:\n" + "\n".join(sorted(set(failed))[:10])
    # ipyevents' keyboard listener has no view and works only with a kernel; the static page cannot load its module
    # (its JavaScript is not served in the site yet), which leaves every visible widget rendered. Anything else fails.
    console = [line for line in console if "Could not load module ipyevents@" not in line]
    assert not console, "console errors:\n" + "\n".join(console[:10])
    assert not problems, "\n".join(problems)

    notebook_pages = [f"notebooks/{n.stem}.html" for n in site_build.notebook_sources()]
    assert sum(reports[p]["mathRendered"] for p in notebook_pages) >= len(notebook_pages), "almost no math rendered"
    assert sum(reports[p]["images"] for p in notebook_pages) >= 2 * len(notebook_pages), "almost no figures"
    with_controls = [p for p in notebook_pages if reports[p]["widgetNotes"]]
    assert with_controls, "no notebook page shows a widget with the JupyterLab note"
    unreached = sorted(set(pages) - reached)
    assert not unreached, f"pages the sidebar navigation does not reach: {unreached}"
    links = {urllib.parse.urldefrag(href)[0] for r in reports.values() for href in r["links"]
             if href.startswith(served)}
    broken = [href for href in sorted(links) if _status(href) != 200]
    assert not broken, "links inside the site that do not resolve:\n" + "\n".join(broken[:10])


def _site_page(served: str, href: str) -> str:
    path = urllib.parse.urldefrag(href)[0][len(served) + 1:] if href.startswith(served) else href
    return path or "index.html"


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _screenshot(page, url: str, path: Path) -> None:
    """The README's picture: a notebook page with a formula, a figure and a saved widget with its note."""
    page.goto(url, wait_until="load")
    page.evaluate("() => window.MathJax && MathJax.startup.promise")
    note = page.locator(".course-widget-note").first
    if note.count():
        page.evaluate("(el) => el.scrollIntoView({block: 'end'})", note.element_handle())
    page.wait_for_timeout(300)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


@pytest.mark.timeout(1800)
def test_the_browser_check_sees_raw_tex_a_missing_image_and_an_unrendered_widget(served, tmp_path, site):
    """The report above, on a page made to fail (no MathJax, no widget manager), served beside the site's pages."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found: `apt-get install chromium` (make install does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
    broken = site / "_broken_check.html"
    broken.write_text('<html><body><main><p>left raw: $$x^2$$ and $z_t$</p><span class="math">\\(y\\)</span>'
                      '<img src="_static/none.png"><script type="application/vnd.jupyter.widget-view+json">'
                      + json.dumps({"model_id": "m", "version_major": 2, "version_minor": 0})
                      + '</script></main></body></html>')
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page()
                page.goto(f"{served}/_broken_check.html", wait_until="load")
                report = page.evaluate(_PAGE_REPORT)
            finally:
                browser.close()
    finally:
        broken.unlink()
    assert {"$$", "\\(", "$z_t$"} <= set(report["rawTex"]), report["rawTex"]
    assert report["brokenImages"] == ["_static/none.png"]
    assert report["mathSource"] == 1 and report["mathRendered"] == 0 and report["mathUnrendered"] == ["\\(y\\)"]
    assert report["widgetViews"] == 1 and report["widgetsRendered"] == 0
