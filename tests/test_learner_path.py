"""One path through the course, read as a learner reads it: each notebook states what it will do, ends with what
to remember and leads to the next one (only the last says it is the last), and no markdown cell is a wall of text.
The protocol behind a result (training seeds, episode seed ranges, flags, data paths) sits in collapsed
<details> blocks, so the text outside them never speaks of the course's development."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
MAX_WORDS = 400  # "no markdown cell over about 400 words"
DETAILS = re.compile(r"<details>.*?</details>", re.S)
# words that belong to the course's workshop, not to the lesson, when they stand outside a collapsed block
WORKSHOP = re.compile(r"\bissue \d+|\bsession\b|\bledger\b|source material|--[a-z][a-z-]+", re.I)


def _markdown(source: Path) -> list[str]:
    return [cell.source for cell in jupytext.read(source).cells if cell.cell_type == "markdown"]


def test_the_notebooks_are_numbered_without_a_gap():
    assert [int(p.name[:2]) for p in SOURCES] == list(range(len(SOURCES)))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_each_notebook_says_what_it_will_do_and_what_to_remember(source):
    text = "\n".join(_markdown(source))
    head = text[:3000]
    assert "In this notebook you will" in head, f"{source.name}: the top does not say what the notebook will do"
    assert "## Self-check" in text and "**What to remember:**" in text, f"{source.name}: no self-check or summary"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_each_notebook_leads_to_the_next_and_only_the_last_ends_the_course(source):
    text = "\n".join(_markdown(source))
    number = int(source.name[:2])
    last = number == len(SOURCES) - 1
    nexts = re.findall(r"\*\*Next:\*\*([^\n]*)", text)
    says_last = "**This is the last notebook.**" in text
    if last:
        assert says_last and not nexts, f"{source.name} is the last notebook: it should say so and point nowhere"
    else:
        assert not says_last, f"{source.name} says it is the last notebook, but {number + 1:02d} follows"
        assert len(nexts) == 1 and f"notebook {number + 1:02d}" in nexts[0], \
            f"{source.name}: its one **Next:** line should name notebook {number + 1:02d}, got {nexts}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_no_markdown_cell_is_a_wall_of_text(source):
    long = [(len(cell.split()), cell[:60]) for cell in _markdown(source) if len(cell.split()) > MAX_WORDS]
    assert not long, f"{source.name}: markdown cells over {MAX_WORDS} words (split them): {long}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_protocol_stays_in_the_collapsed_blocks(source):
    found = [m.group(0) for cell in _markdown(source) for m in WORKSHOP.finditer(DETAILS.sub("", cell))]
    assert not found, f"{source.name}: outside a <details> block the text says {found}; move it into 'How this " \
                      "was measured' or docs/results.md"


def test_the_checks_see_a_broken_path(tmp_path):
    """The path check on made-up text: a Next that skips a notebook, a wall of text, a flag in the open."""
    text = "**Next:** notebook 03 is next"
    assert "notebook 02" not in re.findall(r"\*\*Next:\*\*([^\n]*)", text)[0]
    assert (WORKSHOP.search("run it with --rounds 3")
            and not WORKSHOP.search(DETAILS.sub("", "<details>--rounds 3</details>")))
    assert WORKSHOP.search("as issue 12 asked") and not WORKSHOP.search("a row of the table")
