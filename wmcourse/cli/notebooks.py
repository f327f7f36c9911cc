"""`python -m wmcourse get-notebooks DIR`: write the course's notebooks, and the pages they link, into DIR.

The layout is the repository's, so every link works as it is:
    DIR/notebooks/NN_name.ipynb   the nine notebooks, without outputs (they link ../docs/glossary.md and so on)
    DIR/docs/                     the glossary, references, primer, results and the other pages, with their pictures
Installed from a wheel, the files come from the package (wmcourse/_course/, found through importlib.resources);
in a clone of the repository, from its own notebooks/ and docs/. The notebooks load the shipped models and
results from the installed package wherever they are started, so DIR can be anywhere: a JupyterHub home, a
hosted notebook service, a laptop. A file already in DIR that differs from the course's (a learner's work) is
kept unless --force is given.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..artefacts import course_dir
from ..errors import MissingArtefactError
from . import arguments as A

NOTEBOOKS = "[0-9][0-9]_*.ipynb"
DOC_FILES = ("*.md", "*.png", "*.gif")
START = "00_motivation.ipynb"


@dataclass
class Copied:
    """What get_notebooks did with each file, as paths relative to DIR."""
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # already there, identical
    kept: list[str] = field(default_factory=list)  # already there and different: left alone (no --force)


def course_files() -> list[tuple[Path, str]]:
    """(source file, path relative to DIR) for every notebook and every docs/ file, in order."""
    notebooks, docs = course_dir("notebooks"), course_dir("docs")
    found = [(path, f"notebooks/{path.name}") for path in sorted(notebooks.glob(NOTEBOOKS))]
    if not found:
        raise MissingArtefactError(f"no notebooks ({NOTEBOOKS}) in {notebooks}: reinstall the course")
    for pattern in DOC_FILES:
        found += [(path, f"docs/{path.name}") for path in sorted(docs.glob(pattern))]
    return found


def get_notebooks(target: Path | str, force: bool = False) -> Copied:
    """Copy the notebooks into TARGET/notebooks/ and the docs into TARGET/docs/; return what was done."""
    target = Path(target)
    done = Copied()
    for source, relative in course_files():
        destination = target / relative
        if destination.exists():
            if destination.read_bytes() == source.read_bytes():
                done.unchanged.append(relative)
                continue
            if not force:
                done.kept.append(relative)
                continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        done.written.append(relative)
    return done


def _cmd_get_notebooks(args: argparse.Namespace) -> None:
    done = get_notebooks(args.dir, force=args.force)
    print(f"{len(done.written)} files written to {args.dir} (notebooks/ and docs/), "
          f"{len(done.unchanged)} already there")
    if done.kept:
        print(f"kept {len(done.kept)} files that differ from the course's (your changes; --force replaces them): "
              + ", ".join(done.kept))
    print(f"open {Path(args.dir) / 'notebooks' / START} in Jupyter, e.g. `jupyter lab {args.dir}`")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the get-notebooks command on the command line's subcommands."""
    p = sub.add_parser("get-notebooks", help="write the course's notebooks (DIR/notebooks) and the pages they link "
                                             "(DIR/docs) into a folder, to run them in any Jupyter")
    p.add_argument("dir", metavar="DIR", type=A.folder, help="the folder to write into (made when missing)")
    p.add_argument("--force", action="store_true", help="replace files in DIR that differ from the course's")
    p.set_defaults(run=_cmd_get_notebooks)
