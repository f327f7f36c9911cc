# The course's two commands:  make lab  (open the course)  and  make test  (run every test and notebook).
# Both install what is missing into .venv first, from the pinned requirements.txt, with uv from pip's own indexes
# (scripts/install_requirements.py: 9 s where pip took 74 s; pip installs instead if uv cannot). Nothing is
# compiled ahead: Python compiles only the modules it imports, when it first imports them.
# The Python that makes .venv: the first of python3.11, 3.12, 3.13, python3 (scripts/find_python.sh), or make PYTHON=...
PYTHON ?=
VENV   := .venv
# Python writes each module's bytecode (__pycache__/, git-ignored) the first time it imports it, and every later
# process reads it. Some machines set PYTHONDONTWRITEBYTECODE; then every process compiles torch, Jupyter and
# the rest from source again: `import torch` took 7.5 to 9.3 s that way against 3.2 s, in each of the test run's
# many processes (kernels, JupyterLab, Sphinx, Ray's workers, the CLI's), so make's commands write it.
unexport PYTHONDONTWRITEBYTECODE
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test install cluster notebooks clean slides slides-pdf browser site wheel

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || { py=$$(sh scripts/find_python.sh $(PYTHON)) && echo "making $(VENV) with $$py" \
		&& $$py -m venv $(VENV); }
	$(BIN)/python scripts/install_requirements.py requirements.txt
	$(BIN)/python scripts/install_requirements.py --editable .
	$(BIN)/python -m wmcourse.cli.lab --install-settings
	touch $(STAMP)

# The optional cluster extra (Ray, wmcourse.real.backend), pinned in requirements-cluster.txt: tested by make test.
CLUSTER_STAMP := $(VENV)/.installed-cluster

$(CLUSTER_STAMP): requirements-cluster.txt $(STAMP)
	$(BIN)/python scripts/install_requirements.py requirements-cluster.txt
	touch $(CLUSTER_STAMP)

cluster: $(CLUSTER_STAMP)

# Slides and browser tests: the Marp CLI pinned in package-lock.json (npm ci), and Debian's Chromium with a
# Chinese font (installed as root when missing: CI runs as root). Without npm, the slide tests are skipped.
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else echo "npm not found: install Node.js to build the slides (make slides); their tests are skipped"; fi

browser:
	@if command -v dpkg >/dev/null && ! dpkg -s chromium fonts-liberation fonts-wqy-microhei >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then echo "installing Debian's chromium, fonts-liberation and fonts-wqy-microhei (slide and browser tests)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				chromium fonts-liberation fonts-wqy-microhei >/dev/null; \
		else echo "chromium is missing: sudo apt-get install chromium fonts-liberation fonts-wqy-microhei (else its tests are skipped)"; fi; fi

install: $(STAMP) $(NODE_STAMP) browser

# JupyterLab on notebook 00, as root too; without a display it prints the address and how to tunnel to it.
# Options: make lab LAB_ARGS="--port 8890 --ip 0.0.0.0 --no-browser" (tests/test_lab.py runs this target).
lab: $(STAMP)
	$(BIN)/python -m wmcourse.cli.lab $(LAB_ARGS)

# ruff first (pyproject.toml's [tool.ruff]: unused names, undefined names, likely bugs, import order), then pytest.
# Each notebook executes once: website/pytest_notebooks.py runs notebooks/NN_name.ipynb cell by cell (one test a
# cell, 600 s each at most) as the site's build would, and keeps the result for the site that tests/test_website.py builds.
# Two workers (pytest-xdist; TEST_WORKERS=1 runs one): the decks, notebooks and site stay on one of them, in order.
# One thread each (OMP_NUM_THREADS=1, inherited by the notebooks' kernels): two busy workers with two torch
# threads each on two cores make torch's threads wait on each other, and a notebook runs ten times slower.
# The installs run side by side (pip, npm and apt wait on different things).
TEST_WORKERS ?= 2

test:
	@$(MAKE) --no-print-directory -j3 install cluster
	$(BIN)/ruff check .
	WMCOURSE_FAST=1 MPLBACKEND=Agg SDL_VIDEODRIVER=dummy OMP_NUM_THREADS=1 $(BIN)/python -m pytest \
		-p website.pytest_notebooks -n $(TEST_WORKERS) tests notebooks --timeout=900 -v --durations=15

# Instructors' decks: draw the figures from data/, build every deck to HTML beside it (slides/NN_name.html).
slides: $(STAMP) $(NODE_STAMP)
	MPLBACKEND=Agg $(BIN)/python -m wmcourse figures --out slides/figures
	node_modules/.bin/marp --config-file marp.config.mjs slides/[0-9][0-9]_*.md
	@echo "open slides/00_motivation.html, or present live: npx marp --server slides/ (see slides/README.md)"

slides-pdf: slides browser
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} node_modules/.bin/marp --config-file marp.config.mjs --pdf \
		slides/[0-9][0-9]_*.md

# The course website (Sphinx, myst-nb, sphinx-book-theme): every notebook executed in full mode, its decks linked;
# open build/site/full/html/index.html. Executed notebooks are cached in build/site/full/cache (website/build.py).
site: $(STAMP) $(NODE_STAMP) slides
	$(BIN)/python website/build.py --reuse-decks

# The course as one wheel (package, data/, notebooks, docs; setup.py): build/dist/wmcourse-VERSION-py3-none-any.whl.
# Learners elsewhere: pip install it, then python -m wmcourse get-notebooks DIR (docs/install.md).
wheel: $(STAMP)
	rm -rf build/dist
	$(BIN)/python -m pip wheel . --no-deps --no-build-isolation --disable-pip-version-check -q -w build/dist
	@ls -l build/dist/*.whl

# Regenerate every notebook's .ipynb from its .py source (the .py is what you edit).
notebooks: $(STAMP)
	$(BIN)/jupytext --to ipynb --update notebooks/*.py

clean:
	rm -rf $(VENV) build *.egg-info
