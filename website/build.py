"""Build the course website: `make site` (full mode) or `python website/build.py --fast` (CI's fast mode).

Everything the site shows is generated here at build time from the course's own sources, never copied into this
folder: the home page includes README.md's course overview, each notebook page is its jupytext `.py` source
(notebooks/NN_name.py) executed by myst-nb, the pages of docs/ named in DOCS are added when they exist (with the
pictures in docs/ they and the README show), and each notebook page links its English and Chinese Marp decks
(slides/NN_name.html, NN_name.zh.html).

The build folder, build/site/<mode>/ (mode: full or fast), holds
    src/       the Sphinx source tree, laid out anew at each build: a generated index.md, the notebooks'
               sources and the docs as they are now
    static/    MathJax and the ipywidgets HTML manager, copied from node_modules (the browser fetches nothing
               from outside the site)
    extra/     the built decks with their figures and KaTeX fonts, copied into the site's slides/ folder
    cache/     myst-nb's jupyter-cache of executed notebooks: a notebook whose code did not change is not run
               again; the cache is emptied when the package, data/ or the build settings change (fingerprint).
               `make test` fills it as it tests the notebooks (website/pytest_notebooks.py), so the site's build
               in the same run executes no notebook a second time
    html/      the site: open html/index.html. Every link in it is relative, so the folder works as it is on any
               static host, under any path (GitHub Pages: .github/workflows/ci.yml)
Sphinx runs with -W (any warning fails the build: a broken link, a missing image, a notebook that raises).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
OVERVIEW_END = "## Slides"  # the home page shows README.md from its top down to this heading
# docs/NAME.md, each added to the site when it exists, in this order in the navigation
DOCS = ("primer", "glossary", "references", "results", "install", "performance", "cluster", "architecture")
DOC_PICTURES = ("*.png", "*.gif")  # docs/ pictures, placed beside the pages (and the home page's README) that show them


@dataclass(frozen=True)
class Layout:
    """Where one build (full or fast mode) keeps its files."""
    root: Path

    @property
    def src(self) -> Path:
        return self.root / "src"

    @property
    def static(self) -> Path:
        return self.root / "static"

    @property
    def extra(self) -> Path:
        return self.root / "extra"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def html(self) -> Path:
        return self.root / "html"

    @property
    def doctrees(self) -> Path:
        return self.root / "doctrees"


def notebook_sources(root: Path = ROOT) -> list[Path]:
    """The notebooks' jupytext sources, found by glob (notebooks/NN_name.py), in course order."""
    found = sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))
    if not found:
        raise FileNotFoundError(f"no notebooks/NN_name.py under {root}")
    return found


def deck_names(notebook: Path) -> tuple[str, str]:
    """The English and Chinese deck files of a notebook: ('NN_name.html', 'NN_name.zh.html')."""
    return f"{notebook.stem}.html", f"{notebook.stem}.zh.html"


def fingerprint(root: Path, fast: bool) -> str:
    """A hash of what a notebook's outputs depend on besides its own code: the package, data/, the pins, the mode.

    jupyter-cache keys each notebook on its code cells only; when this changes, the cache is emptied."""
    digest = hashlib.sha256(f"fast={fast}".encode())
    files = sorted([*(root / "wmcourse").rglob("*.py"), *(root / "data").rglob("*"), root / "requirements.txt"])
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def reset_stale_cache(layout: Layout, fast: bool, root: Path = ROOT) -> None:
    """Empty the notebook cache when what the outputs depend on changed since it was filled (see fingerprint)."""
    layout.root.mkdir(parents=True, exist_ok=True)
    stamp = layout.root / "fingerprint"
    current = fingerprint(root, fast)
    if not stamp.exists() or stamp.read_text() != current:
        shutil.rmtree(layout.cache, ignore_errors=True)  # outputs made with other code or data are stale
        stamp.write_text(current)


def cached_notebooks(layout: Layout) -> dict[int, str]:
    """{record id: source path} of the executed notebooks in the cache (empty when there is no cache yet)."""
    if not layout.cache.exists():
        return {}
    from jupyter_cache import get_cache

    return {record.pk: record.uri for record in get_cache(str(layout.cache)).list_cache_records()}


def index_page(src: Path, root: Path, notebooks: list[Path], docs: list[str]) -> str:
    """The home page: README.md's overview (included at build time, not copied) and the navigation."""
    readme = root / "README.md"
    text = readme.read_text()
    if OVERVIEW_END not in text:
        raise ValueError(f"README.md has no heading {OVERVIEW_END!r}: the home page shows the README down to it")
    include = os.path.relpath(readme, src)
    pages = "\n".join(f"notebooks/{n.stem}" for n in notebooks)
    parts = [
        f"```{{include}} {include}\n:end-before: \"{OVERVIEW_END}\"\n```\n",
        f"```{{toctree}}\n:caption: Notebooks\n:hidden:\n\n{pages}\n```\n",
    ]
    if docs:
        parts.append("```{toctree}\n:caption: Reference\n:hidden:\n\n" + "\n".join(f"docs/{d}" for d in docs)
                     + "\n```\n")
    return "\n".join(parts)


def _place(source: Path, target: Path) -> None:
    """A build-time copy (Sphinx resolves symbolic links, and a link's target lies outside the source tree)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def prepare_sources(layout: Layout, root: Path = ROOT) -> dict[str, list[str]]:
    """Lay out the Sphinx source tree afresh at every build: the sources as they are now, a generated index."""
    if layout.src.exists():
        shutil.rmtree(layout.src)
    notebooks = notebook_sources(root)
    for notebook in notebooks:
        _place(notebook, layout.src / "notebooks" / notebook.name)
    docs = [name for name in DOCS if (root / "docs" / f"{name}.md").is_file()]
    for name in docs:
        _place(root / "docs" / f"{name}.md", layout.src / "docs" / f"{name}.md")
    for pattern in DOC_PICTURES:
        for picture in sorted((root / "docs").glob(pattern)):
            _place(picture, layout.src / "docs" / picture.name)
    (layout.src / "index.md").write_text(index_page(layout.src, root, notebooks, docs))
    return {"notebooks": [n.stem for n in notebooks], "docs": docs}


def _copy_tree(source: Path, target: Path, ignore: tuple[str, ...] = ()) -> None:
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is missing: run `npm ci` (make install does it)")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*ignore))


def prepare_static(layout: Layout) -> None:
    """MathJax 3 and the ipywidgets HTML manager from the pinned npm packages, so the pages load nothing remote."""
    _copy_tree(NODE_MODULES / "mathjax" / "es5", layout.static / "mathjax")
    _copy_tree(NODE_MODULES / "@jupyter-widgets" / "html-manager" / "dist", layout.static / "widgets",
               ignore=("*.map", "*amd.js"))


def decks_are_current(slides: Path, notebooks: list[Path]) -> bool:
    """True when every notebook's two decks are built and newer than their Markdown sources."""
    for notebook in notebooks:
        for html in deck_names(notebook):
            built, source = slides / html, slides / html.replace(".html", ".md")
            if not built.exists() or not source.exists() or built.stat().st_mtime < source.stat().st_mtime:
                return False
    return (slides / "figures").is_dir()


def build_decks(root: Path = ROOT) -> None:
    """What `make slides` does: draw the figures from data/, then build every deck with the pinned Marp CLI."""
    marp = root / "node_modules" / ".bin" / "marp"
    if not marp.exists():
        raise FileNotFoundError(f"{marp} is missing: run `npm ci` (make install does it)")
    subprocess.run([sys.executable, "-m", "wmcourse", "figures", "--out", str(root / "slides" / "figures")],
                   cwd=root, check=True, env={**os.environ, "MPLBACKEND": "Agg"})
    decks = sorted(str(p) for p in (root / "slides").glob("[0-9][0-9]_*.md"))
    subprocess.run([str(marp), "--config-file", "marp.config.mjs", *decks], cwd=root, check=True)


def prepare_decks(layout: Layout, root: Path = ROOT) -> None:
    """Copy the built decks, their figures and KaTeX fonts into the site's slides/ folder."""
    slides = root / "slides"
    target = layout.extra / "slides"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for notebook in notebook_sources(root):
        for html in deck_names(notebook):
            if not (slides / html).exists():
                raise FileNotFoundError(f"slides/{html} is not built: run `make slides`")
            shutil.copy2(slides / html, target / html)
    for folder in ("figures", "fonts"):
        _copy_tree(slides / folder, target / folder)


def sphinx_command(layout: Layout) -> list[str]:
    """sphinx-build in a fresh environment (-E), warnings as errors (-W), every problem listed (--keep-going)."""
    return [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-W", "--keep-going", "-q",
            "-c", str(ROOT / "website"), "-d", str(layout.doctrees), str(layout.src), str(layout.html)]


def sphinx_env(layout: Layout, fast: bool) -> dict[str, str]:
    """The environment of sphinx-build and so of the kernels that execute the notebooks."""
    return {**os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "WMCOURSE_FAST": "1" if fast else "0",
            "WMCOURSE_SITE_BUILD": str(layout.root),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "SDL_VIDEODRIVER": "dummy",  # pygame (the environments' renderer) with no display
            "TQDM_DISABLE": "1"}  # progress bars are widgets that mean nothing on a static page


def build(fast: bool, out: Path | None = None, reuse_decks: bool = False) -> Path:
    """Build the site; return the folder of its index.html. Raises CalledProcessError when Sphinx fails."""
    layout = Layout(out or ROOT / "build" / "site" / ("fast" if fast else "full"))
    reset_stale_cache(layout, fast)
    notebooks = notebook_sources(ROOT)
    if not (reuse_decks and decks_are_current(ROOT / "slides", notebooks)):
        build_decks(ROOT)
    prepare_sources(layout)
    prepare_static(layout)
    prepare_decks(layout)
    if layout.html.exists():
        shutil.rmtree(layout.html)
    before = cached_notebooks(layout)
    start = time.monotonic()
    subprocess.run(sphinx_command(layout), cwd=ROOT, env=sphinx_env(layout, fast), check=True)
    executed = sorted(Path(uri).stem for pk, uri in cached_notebooks(layout).items() if pk not in before)
    print(f"site built in {time.monotonic() - start:.0f} s ({'fast' if fast else 'full'} mode), "
          f"notebooks executed by this build: {', '.join(executed) or 'none (all from the cache)'}: "
          f"open {layout.html / 'index.html'}")
    return layout.html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true",
                        help="execute the notebooks in fast mode (WMCOURSE_FAST=1, as CI) into build/site/fast")
    parser.add_argument("--out", type=Path, help="build folder (default build/site/full or build/site/fast)")
    parser.add_argument("--reuse-decks", action="store_true",
                        help="use the decks in slides/ when they are newer than their sources (else build them)")
    args = parser.parse_args(argv)
    try:
        build(args.fast, args.out, args.reuse_decks)
    except subprocess.CalledProcessError as error:
        print(f"site build failed: {' '.join(map(str, error.cmd[:4]))}... exited {error.returncode}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as error:
        print(f"site build failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
