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
    modules = sorted(p.name for p in (ROOT / "wmcourse").glob("*.py") if not p.name.startswith("__"))
    missing = [m for m in modules if f"`{m}`" not in page]
    assert not missing, f"docs/architecture.md does not place {missing} in a layer"


def test_every_notebook_link_to_the_docs_resolves():
    found = 0
    for notebook in sorted((ROOT / "notebooks").glob("*.py")):
        for name, anchor in re.findall(r"\]\(\.\./docs/(glossary|references)\.md(?:#([\w\-]+))?\)", notebook.read_text()):
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
