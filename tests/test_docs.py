"""The glossary and the reference list exist, the README links them, and every link to them from a notebook
points at a heading that is there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and JupyterLab) gives a markdown heading: lower case, spaces to '-', punctuation dropped."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {github_anchor(m.group(1)) for m in re.finditer(r"^#+ (.+)$", path.read_text(), flags=re.M)}


def test_the_readme_links_the_glossary_and_the_references():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/glossary.md)" in readme and "(docs/references.md)" in readme


def test_the_architecture_page_names_every_module():
    """docs/architecture.md has one line per module of the package (a new module must be placed in a layer)."""
    page = (DOCS / "architecture.md").read_text()
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text()
    modules = sorted(p.relative_to(ROOT / "wmcourse").as_posix() for p in (ROOT / "wmcourse").rglob("*.py")
                     if not p.name.startswith("__"))
    missing = [m for m in modules if f"`{m}`" not in page]
    assert not missing, f"docs/architecture.md does not place {missing} in a layer"


def test_every_notebook_link_to_the_docs_resolves():
    found = 0
    for notebook in sorted((ROOT / "notebooks").glob("*.py")):
        for name, anchor in re.findall(r"\]\(\.\./docs/(glossary|references)\.md(?:#([\w\-]+))?\)",
                                       notebook.read_text()):
            found += 1
            target = DOCS / f"{name}.md"
            assert target.exists(), f"{notebook.name} links {target}, which is missing"
            if anchor:
                assert anchor in anchors(target), f"{notebook.name} links {name}.md#{anchor}: no such heading"
    assert found >= 8  # the notebooks link the terms where they first appear


def test_the_references_name_every_publication_the_course_quotes():
    refs = (DOCS / "references.md").read_text()
    for needle in ("1803.10122", "worldmodels.github.io", "1811.04551", "1912.01603", "2010.02193", "2301.04104",
                   "2405.12399", "Genie", "Decision Transformer", "JEPA"):
        assert needle in refs, needle


# --- the front page and the prerequisites ------------------------------------------------------------------

DOC_PAGES = ("primer", "glossary", "references", "results", "install", "architecture", "performance", "cluster")


def test_the_readme_is_a_short_front_page_with_one_animated_picture():
    readme = (ROOT / "README.md").read_text()
    words = len(readme.split())
    assert words <= 1200, f"README.md has {words} words: the front page stays under about 1,200 (details go to docs/)"
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert pictures == ["docs/dream_vs_real.gif"], pictures
    gif = ROOT / "docs" / "dream_vs_real.gif"
    assert gif.read_bytes()[:6] in (b"GIF87a", b"GIF89a") and gif.stat().st_size < 2_000_000
    for name in DOC_PAGES:
        assert f"(docs/{name}.md)" in readme, f"README.md does not link docs/{name}.md"
    said = re.findall(r"\b(issues?|rows?|sessions?)\b", readme, flags=re.I)
    assert not said, f"README.md says {said}: say what a result is, not where it was tracked"


def test_the_readme_states_the_prerequisites_and_a_learner_time_for_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for needed in ("Python and numpy", "probability", "gradient descent", "(docs/primer.md)", "(docs/glossary.md)"):
        assert needed in readme, needed
    for source in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        row = next((line for line in readme.splitlines() if f"(notebooks/{source.stem}.ipynb)" in line), None)
        assert row is not None, f"the syllabus does not link notebooks/{source.stem}.ipynb"
        cells = [c.strip() for c in row.strip("|").split("|")]
        learner, compute = cells[-2], cells[-1]
        assert re.fullmatch(r"(\d+ h)?( ?\d+ min)?", learner) and learner, f"{source.stem}: learner time {learner!r}"
        assert "min" in compute, f"{source.stem}: compute time {compute!r}"


def test_the_readmes_local_links_resolve():
    """Every link from the README to a file of the course points at one (docs/results.md is generated)."""
    readme = (ROOT / "README.md").read_text()
    for target, anchor in re.findall(r"\]\((?!https?:)([^)#]+)(?:#([^)]*))?\)", readme):
        if target == "docs/results.md" and not (ROOT / target).exists():
            continue  # generated from data/
        assert (ROOT / target).exists(), f"README.md links {target}, which is missing"
        if anchor:
            assert anchor in anchors(ROOT / target), f"README.md links {target}#{anchor}: no such heading"


def test_the_glossary_defines_the_reinforcement_learning_the_course_assumes():
    have = anchors(DOCS / "glossary.md")
    for term in ("reinforcement-learning", "policy", "episode", "return", "discount-γ", "value", "advantage",
                 "actor-critic", "entropy-bonus", "model-free-and-model-based", "a3c", "logits", "true-posterior",
                 "huber-loss", "deadly-triad"):
        assert term in have, f"docs/glossary.md has no heading for {term}"


def test_every_link_between_the_docs_pages_resolves():
    """docs/NAME.md#anchor links between the pages (the primer into the glossary, say) land on a heading."""
    found = 0
    for page in sorted(DOCS.glob("*.md")):
        for name, anchor in re.findall(r"\]\(([\w-]+)\.md(?:#([^)\s]+))?\)", page.read_text()):
            target = DOCS / f"{name}.md"
            if name == "results" and not target.exists():
                continue  # generated from data/
            found += 1
            assert target.exists(), f"{page.name} links {name}.md, which is missing"
            if anchor:
                assert anchor in anchors(target), f"{page.name} links {name}.md#{anchor}: no such heading"
    assert found >= 10
