# The course's two commands:  make lab  (open the course)  and  make test  (run every test and notebook).
# Both install what is missing into .venv first, from the pinned requirements.txt.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test install notebooks clean

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed: install it, or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

test: $(STAMP)
	WMCOURSE_FAST=1 MPLBACKEND=Agg SDL_VIDEODRIVER=dummy $(BIN)/python -m pytest tests notebooks \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=600 --timeout=900 -v --durations=15

# Regenerate every notebook's .ipynb from its .py source (the .py is what you edit).
notebooks: $(STAMP)
	$(BIN)/jupytext --to ipynb notebooks/*.py

clean:
	rm -rf $(VENV) build *.egg-info
