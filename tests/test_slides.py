"""The instructors' Marp decks in slides/: they follow their notebooks, build, show every figure and fit their pages.

Static checks (always run): every deck has an English and a Chinese version with the same slides, every slide
points to a section heading that exists in its notebook ("notebook 01 · cell “...”" in its footer) and has
speaker notes. Each deck fits a lecture: its time is 2 minutes a slide plus the minutes of every exercise and demo
a slide asks for ("Exercise, 8 minutes" / "练习，8 分钟" on the slide), it lies between 45 and 60 minutes, the title
slide states it ("About 47 minutes" / "约 47 分钟"), and slides/README.md's table gives each deck's slide count and
time as the decks do. No slide carries more than a slide can (about 60 words of visible text), and neither the
slides nor their speaker notes carry provenance (commands, data paths, "row", "issue", "session", "the seeds").

Build checks: `python -m wmcourse figures` draws the figures from the shipped artefacts, the pinned Marp CLI
(node_modules/, `npm ci`) builds every deck to HTML with no warning, every image a deck uses exists; then
Debian's Chromium (through Playwright, no browser download) renders each deck and the test fails on a slide
whose content overflows its page, an image that did not load, a KaTeX error, literal Markdown left in the
text (`**`), a missing speaker note, or any request that leaves the machine (KaTeX fonts must be local).
Without node or Chromium the build checks are skipped locally, and fail under CI (CI=true): `make install`
installs both.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CHROMIUM, CHROMIUM_FLAGS, unavailable

ROOT = Path(__file__).resolve().parent.parent
SLIDES = ROOT / "slides"
NOTEBOOKS = ROOT / "notebooks"
MARP = ROOT / "node_modules" / ".bin" / "marp"

DECKS = sorted(SLIDES.glob("[0-9][0-9]_*.md"))
POINTER = re.compile(r"(?:notebook|笔记本) (\d\d) · (?:cell|单元) “(.+?)”")
DIRECTIVE = re.compile(r"^\s*_?(footer|header|class|paginate|backgroundColor|backgroundImage|color|theme|style)\s*:")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img[^>]+src=\"([^\"]+)\"")


def _notebook(number: str) -> Path:
    found = sorted(NOTEBOOKS.glob(f"{number}_*.py"))
    assert found, f"no notebook notebooks/{number}_*.py"
    return found[0]


def _headings(notebook: Path) -> set[str]:
    """Markdown headings of a jupytext percent notebook: '# ## The one-minute explanation' -> the text."""
    return {m.group(1).strip() for m in re.finditer(r"^# #{1,4} (.+)$", notebook.read_text(), re.M)}


def _slides(deck: Path) -> list[str]:
    """The deck's slides as Markdown source: the front matter dropped, split at `---` lines outside code."""
    text = deck.read_text()
    if text.startswith("---\n"):
        text = text[text.index("\n---\n", 4) + 5:]
    slides, current, fenced = [], [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if line.strip() == "---" and not fenced:
            slides.append("\n".join(current))
            current = []
        else:
            current.append(line)
    slides.append("\n".join(current))
    return [s for s in slides if s.strip()]


def _pointer(slide: str) -> tuple[str, str] | None:
    footer = re.search(r"<!--\s*_footer:\s*\"(.*?)\"\s*-->", slide)
    match = POINTER.search(footer.group(1)) if footer else None
    return (match.group(1), match.group(2)) if match else None


def _notes(slide: str) -> list[str]:
    return [c for c in re.findall(r"<!--(.*?)-->", slide, re.S) if c.strip() and not DIRECTIVE.match(c)]


def _english(deck: Path) -> Path:
    return deck.with_name(deck.name.replace(".zh.md", ".md"))


# --- time and size -------------------------------------------------------------------------------------------

MINUTES_PER_SLIDE = 2
LECTURE_MINUTES = (45, 60)
TIMED = re.compile(r"(?:Exercise|Demo), (\d+) minutes?\b|(?:练习|演示)，(\d+) 分钟")
STATED = re.compile(r"About (\d+) minutes\b|约 (\d+) 分钟")
MAX_WORDS = 70            # visible words on an English slide (about 60 is the aim)
MAX_HAN = 120             # visible Chinese characters on a Chinese slide
PROVENANCE = re.compile(r"\brows?\b|\bissues?\b|\bsessions?\b|\bthe seeds\b|\bdata/|\bruns/|python -m|"
                        r"\bscripts/|\.(?:json|npz|pt)\b|\bwmcourse\.|\bmanifest\b|\bledger\b|--[a-z]|"
                        r"\bmeasured on[^.\n]{0,30}(?:machine|cores?|CPU)|\bseeds? (?:from|range)\b", re.I)


def _visible(slide: str) -> str:
    """What the audience sees: no HTML comments, tags or image links (code and math stay)."""
    text = re.sub(r"<!--.*?-->", " ", slide, flags=re.S)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    return re.sub(r"<[^>]+>", " ", text)


def _prose(slide: str) -> str:
    """The visible text a reader reads as words: without code blocks, inline code, math and table rules."""
    text = re.sub(r"```.*?```", " ", _visible(slide), flags=re.S)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", " ", text, flags=re.S)
    return re.sub(r"[#*|>_]|-{3,}|:?-{3,}:?", " ", text)


def _timed_minutes(slide: str) -> int:
    """Minutes of the exercises and demos the slide asks for, as it states them."""
    return sum(int(a or b) for a, b in TIMED.findall(_visible(slide)))


def _lecture_minutes(deck: Path) -> int:
    slides = _slides(deck)
    return MINUTES_PER_SLIDE * len(slides) + sum(_timed_minutes(s) for s in slides)


def _stated_minutes(deck: Path) -> int | None:
    match = STATED.search(_visible(_slides(deck)[0]))
    return int(match.group(1) or match.group(2)) if match else None


def _readme_table() -> dict[str, tuple[int, int]]:
    """slides/README.md's table: {"00_motivation": (slides, minutes)}.

    From rows "| `00_motivation.md`, ... | 14 | 46 min |"."""
    rows = {}
    for line in (SLIDES / "README.md").read_text().splitlines():
        match = re.match(r"\|\s*`(\d\d_[a-z0-9_]+)\.md`.*\|\s*(\d+)\s*\|\s*(\d+) min\s*\|\s*$", line)
        if match:
            rows[match.group(1)] = (int(match.group(2)), int(match.group(3)))
    return rows


# --- the decks' source -------------------------------------------------------------------------------------

def test_every_deck_comes_in_english_and_chinese_for_a_notebook():
    assert DECKS, "no decks in slides/"
    english = [d for d in DECKS if not d.name.endswith(".zh.md")]
    for deck in english:
        assert deck.with_suffix(".zh.md").exists(), f"{deck.name} has no Chinese version {deck.stem}.zh.md"
        assert (NOTEBOOKS / f"{deck.stem}.py").exists(), f"{deck.name} follows no notebook notebooks/{deck.stem}.py"
    for deck in DECKS:
        assert _english(deck).exists(), f"{deck.name} has no English version"


@pytest.mark.parametrize("deck", DECKS, ids=[d.name for d in DECKS])
def test_every_slide_points_to_a_notebook_cell_and_has_speaker_notes(deck):
    number = deck.name[:2]
    headings = _headings(_notebook(number))
    slides = _slides(deck)
    assert len(slides) >= 5, f"{deck.name} has only {len(slides)} slides"
    for i, slide in enumerate(slides, 1):
        pointer = _pointer(slide)
        assert pointer, f"{deck.name}, slide {i}: no footer “notebook {number} · cell “...”” (or 笔记本/单元)"
        assert pointer[0] == number, f"{deck.name}, slide {i} points to notebook {pointer[0]}, not {number}"
        assert pointer[1] in headings, (f"{deck.name}, slide {i} points to a cell “{pointer[1]}” that is not a "
                                        f"section heading of {_notebook(number).name}")
        assert _notes(slide), f"{deck.name}, slide {i} has no speaker notes (an HTML comment)"


@pytest.mark.parametrize("deck", [d for d in DECKS if d.name.endswith(".zh.md")],
                         ids=[d.name for d in DECKS if d.name.endswith(".zh.md")])
def test_the_chinese_deck_follows_the_english_one_slide_by_slide(deck):
    english = _english(deck)
    assert [_pointer(s) for s in _slides(deck)] == [_pointer(s) for s in _slides(english)], \
        f"{deck.name} and {english.name} do not point to the same notebook cells, slide by slide"
    assert sorted(set(IMAGE.findall(deck.read_text()))) == sorted(set(IMAGE.findall(english.read_text()))), \
        f"{deck.name} and {english.name} show different figures"


@pytest.mark.parametrize("deck", DECKS, ids=[d.name for d in DECKS])
def test_every_deck_states_an_honest_time_that_fits_a_lecture(deck):
    minutes = _lecture_minutes(deck)
    low, high = LECTURE_MINUTES
    assert low <= minutes <= high, (f"{deck.name}: {len(_slides(deck))} slides x {MINUTES_PER_SLIDE} min + exercises "
                                    f"and demos = {minutes} min, not a lecture of {low} to {high} minutes: "
                                    "trim or split it")
    assert _stated_minutes(deck) == minutes, (f"{deck.name}: the title slide states {_stated_minutes(deck)} minutes, "
                                              f"the slides, exercises and demos add up to {minutes}")


@pytest.mark.parametrize("deck", [d for d in DECKS if d.name.endswith(".zh.md")],
                         ids=[d.name for d in DECKS if d.name.endswith(".zh.md")])
def test_the_chinese_deck_has_the_english_slides_exercises_and_demos(deck):
    english = _english(deck)
    assert len(_slides(deck)) == len(_slides(english)), f"{deck.name} and {english.name} differ in slide count"
    assert [_timed_minutes(s) for s in _slides(deck)] == [_timed_minutes(s) for s in _slides(english)], \
        f"{deck.name} and {english.name} ask for different exercise or demo minutes, slide by slide"


def test_the_readme_table_gives_each_decks_slides_and_time_as_the_decks_do():
    table = _readme_table()
    english = {d.name[:-3]: d for d in DECKS if not d.name.endswith(".zh.md")}
    assert set(table) == set(english), (f"slides/README.md's table lists {sorted(table)}, "
                                        f"the decks are {sorted(english)}")
    for name, deck in english.items():
        assert table[name] == (len(_slides(deck)), _lecture_minutes(deck)), (
            f"slides/README.md gives {name} {table[name][0]} slides and {table[name][1]} min; the deck has "
            f"{len(_slides(deck))} slides and {_lecture_minutes(deck)} min")


@pytest.mark.parametrize("deck", DECKS, ids=[d.name for d in DECKS])
def test_every_slide_carries_what_a_slide_can(deck):
    for i, slide in enumerate(_slides(deck), 1):
        prose = _prose(slide)
        if deck.name.endswith(".zh.md"):
            han = len(re.findall(r"[\u4e00-\u9fff]", prose))
            assert han <= MAX_HAN, (f"{deck.name}, slide {i}: {han} Chinese characters of visible text "
                                    f"(at most {MAX_HAN})")
        else:
            words = len(re.findall(r"[A-Za-z0-9][\w'’.,:;()±−×/-]*", prose))
            assert words <= MAX_WORDS, f"{deck.name}, slide {i}: {words} words of visible text (at most {MAX_WORDS})"


@pytest.mark.parametrize("deck", DECKS, ids=[d.name for d in DECKS])
def test_slides_and_speaker_notes_teach_rather_than_record_provenance(deck):
    for i, slide in enumerate(_slides(deck), 1):
        said = "\n".join(_notes(slide)) + "\n" + re.sub(r"```.*?```", " ", _visible(slide), flags=re.S)
        found = PROVENANCE.findall(said)
        assert not found, f"{deck.name}, slide {i}: provenance in the slide or its notes: {sorted(set(found))}"


def test_the_time_and_size_checks_see_what_they_should():
    slide = "# Ex\n\nSome text.\n\n<span>Exercise, 8 minutes</span>\n\n<!--\nDemo, 3 minutes is said, not shown.\n-->"
    assert _timed_minutes(slide) == 8
    assert _timed_minutes("<span>练习，5 分钟</span> <span>演示，4 分钟</span>") == 9
    assert STATED.search("About 47 minutes") and STATED.search("约 47 分钟")
    assert len(re.findall(r"[A-Za-z0-9][\w'’.,:;()±−×/-]*", _prose("# One two\n\n$a + b$ `code` three"))) == 3
    assert PROVENANCE.search("made by python -m wmcourse cartpole") and PROVENANCE.search("row 2 of the table")
    assert not PROVENANCE.search("a dream that throws fireballs; training seeds 1 and 2")


def test_the_slide_parser_sees_a_missing_pointer_and_missing_notes():
    good = '<!-- _footer: "notebook 01 · cell “Exercises”" -->\n# A\n<!-- say this -->'
    assert _pointer(good) == ("01", "Exercises") and _notes(good) == [" say this "]
    assert _pointer("# no footer\n<!-- a note -->") is None
    assert _notes('<!-- _footer: "x" -->\n<!-- _class: lead -->') == []


# --- figures, Marp build, rendering in Chromium --------------------------------------------------------------

@pytest.fixture(scope="module")
def built():
    """Draw the figures, then build every deck to HTML beside its source (slides/*.html, ignored by git)."""
    if not shutil.which("node"):
        unavailable("node is not installed, so the Marp CLI cannot run")
    if not MARP.exists():
        unavailable(f"{MARP.relative_to(ROOT)} is missing: run `npm ci` (make install does it)")
    start = time.time()
    figures = subprocess.run([sys.executable, "-m", "wmcourse", "figures", "--out", str(SLIDES / "figures")],
                             cwd=ROOT, capture_output=True, text=True, timeout=600,
                             env={**os.environ, "MPLBACKEND": "Agg"})
    assert figures.returncode == 0, f"`python -m wmcourse figures` failed:\n{figures.stdout}\n{figures.stderr}"
    figures_seconds = time.time() - start
    marp = subprocess.run([str(MARP), "--config-file", "marp.config.mjs", *map(str, DECKS)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    print(f"figures {figures_seconds:.1f} s, marp {time.time() - start - figures_seconds:.1f} s")
    return {"start": start, "figures": figures, "marp": marp}


def test_marp_builds_every_deck_without_a_warning(built):
    marp = built["marp"]
    log = marp.stdout + marp.stderr
    assert marp.returncode == 0, f"marp failed ({marp.returncode}):\n{log}"
    problems = [line for line in log.splitlines() if "WARN" in line or "ERROR" in line]
    assert not problems, "marp warned:\n" + "\n".join(problems)
    for deck in DECKS:
        html = deck.with_suffix(".html")
        assert html.exists() and html.stat().st_mtime >= built["start"] - 1, f"{html.name} was not built"
        assert html.read_text().count("<section") >= 5, f"{html.name} has no slides"


@pytest.mark.parametrize("deck", DECKS, ids=[d.name for d in DECKS])
def test_every_image_a_deck_shows_was_drawn_by_the_figures_command(built, deck):
    for match in IMAGE.findall(deck.read_text()):
        src = next(s for s in match if s)
        assert not re.match(r"[a-z]+:", src), f"{deck.name} loads {src} from outside the repository"
        path = deck.parent / src
        assert path.exists(), f"{deck.name} shows {src}, which does not exist"
        if src.startswith("figures/"):
            assert path.stat().st_mtime >= built["start"] - 1, f"{src} was not drawn by `python -m wmcourse figures`"


_SLIDE_REPORT = """() => {
    const sections = Array.from(document.querySelectorAll('svg[data-marpit-svg] > foreignObject > section'));
    return {
        slides: sections.length,
        overflow: sections.filter(s => s.scrollHeight > s.clientHeight + 1 || s.scrollWidth > s.clientWidth + 1)
            .map(s => [Number(s.id), s.scrollHeight, s.clientHeight, s.scrollWidth, s.clientWidth]),
        brokenImages: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
        katexErrors: document.querySelectorAll('.katex-error').length,
        math: document.querySelectorAll('.katex').length,
        literalMarkdown: sections.filter(s => {
            const copy = s.cloneNode(true);
            copy.querySelectorAll('code, pre, .katex').forEach(e => e.remove());
            return copy.textContent.includes('**');
        }).map(s => Number(s.id)),
        notes: new Set(Array.from(document.querySelectorAll('.bespoke-marp-note'))
            .filter(n => n.textContent.trim()).map(n => n.dataset.index)).size,
    };
}"""


# every KaTeX font face the deck declares, loaded now (a face whose file is missing ends in status "error")
_LOAD_KATEX_FONTS = """async () => {
    const faces = Array.from(document.fonts).filter(f => f.family.includes('KaTeX'));
    await Promise.allSettled(faces.map(f => f.load()));
    return {loaded: faces.filter(f => f.status === 'loaded').length,
            failed: faces.filter(f => f.status === 'error').map(f => f.family + ' ' + f.style + ' ' + f.weight)};
}"""


def test_every_deck_renders_in_chromium_and_fits_its_pages(built):
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found: `apt-get install chromium` (make install does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
    problems, outside = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:", "blob:"))
                    else None)
            for deck in DECKS:
                html = deck.with_suffix(".html")
                page.goto(html.as_uri(), wait_until="load")
                page.evaluate("() => document.fonts.ready.then(() => true)")
                report = page.evaluate(_SLIDE_REPORT)
                report["katexFonts"] = page.evaluate(_LOAD_KATEX_FONTS)
                name = html.name
                if report["slides"] < 5:
                    problems.append(f"{name}: {report['slides']} slides")
                for slide, sh, ch, sw, cw in report["overflow"]:
                    problems.append(f"{name}, slide {slide}: content is {sw}x{sh} px on a {cw}x{ch} page (overflow)")
                problems += [f"{name}: image did not load: {src}" for src in report["brokenImages"]]
                if report["katexErrors"]:
                    problems.append(f"{name}: {report['katexErrors']} KaTeX errors")
                fonts = report["katexFonts"]
                if report["math"] and (not fonts["loaded"] or fonts["failed"]):
                    problems.append(f"{name}: KaTeX fonts from slides/fonts/katex/: {fonts['loaded']} loaded, "
                                    f"failed: {fonts['failed']}")
                problems += [f"{name}, slide {s}: literal ** in the text (broken emphasis)"
                             for s in report["literalMarkdown"]]
                if report["notes"] != report["slides"]:
                    problems.append(f"{name}: speaker notes on {report['notes']} of {report['slides']} slides")
        finally:
            browser.close()
    assert not outside, "decks made requests that leave the machine (offline classroom):\n" + "\n".join(outside[:10])
    assert not problems, "\n".join(problems)


def test_the_rendering_check_sees_an_overflowing_slide_and_a_missing_image(built, tmp_path):
    """The checks above on a deck made to fail: a slide too long for its page, an image that is not there."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found: `apt-get install chromium` (make install does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
    deck = tmp_path / "broken.md"
    items = "\n".join(f"- item {i}" for i in range(30))
    deck.write_text("---\nmarp: true\ntheme: wmcourse\n---\n\n# Fits\n\n![](figures/none.png)\n\n---\n\n"
                    f"# Too long\n\n{items}\n")
    marp = subprocess.run([str(MARP), "--config-file", "marp.config.mjs", str(deck)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert marp.returncode == 0, marp.stdout + marp.stderr
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(deck.with_suffix(".html").as_uri(), wait_until="load")
            report = page.evaluate(_SLIDE_REPORT)
        finally:
            browser.close()
    assert report["slides"] == 2
    assert [row[0] for row in report["overflow"]] == [2]
    assert len(report["brokenImages"]) == 1 and report["brokenImages"][0].endswith("figures/none.png")
