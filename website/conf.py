# Sphinx settings of the course website. Run through website/build.py (make site), which lays out the source tree
# and sets WMCOURSE_SITE_BUILD to its build folder; see that file's docstring.
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the site's own extension, course_site.py
import course_site  # noqa: E402

if "WMCOURSE_SITE_BUILD" not in os.environ:
    raise RuntimeError("build the site with `make site` (website/build.py), not sphinx-build directly")
BUILD = Path(os.environ["WMCOURSE_SITE_BUILD"])

project = "World Models, built and measured"
author = "the World Models course"
copyright = "the World Models course"
# githubpages: a .nojekyll file, so that GitHub Pages serves the _static/ folder as it is
extensions = ["myst_nb", "course_site", "sphinx.ext.githubpages"]
exclude_patterns = ["**/.ipynb_checkpoints"]

# The notebooks' jupytext sources are the pages; myst-nb executes them through jupyter-cache (the cache lives in
# the build folder) and fails the build on a cell that raises.
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "cache"
nb_execution_cache_path = str(BUILD / "cache")
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# one cell, in seconds (the same limit as the notebook test of `make test`, website/pytest_notebooks.py)
nb_execution_timeout = course_site.cell_timeout(os.environ.get("WMCOURSE_FAST", "0") not in ("", "0"))
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True  # $$...$$ inside a paragraph or list item, as JupyterLab renders it
myst_heading_anchors = 3

# MathJax and the widgets' HTML manager are served from the site itself (copied from node_modules by build.py):
# a page fetches nothing from outside it.
html_static_path = [str(BUILD / "static"), str(Path(__file__).resolve().parent / "static")]
html_extra_path = [str(BUILD / "extra")]
mathjax_path = "mathjax/tex-mml-chtml.js"
nb_ipywidgets_js = {"widgets/embed.js": {}}
html_css_files = ["course.css"]
html_js_files = ["course.js"]  # before MathJax: lets the widgets' labels be typeset by MathJax 3
html_favicon = str(Path(__file__).resolve().parent / "static" / "favicon.svg")

html_theme = "sphinx_book_theme"
html_title = "World Models, built and measured"
html_last_updated_fmt = None
html_show_sourcelink = False
html_context = {"default_mode": "auto"}  # light or dark as the reader's system prefers
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
}
