"""The build step that puts the course into the wheel (the package's metadata is in pyproject.toml).

`python -m pip wheel . --no-deps` (or `make wheel`) builds the package as usual, then copies the course's files
that live beside it in the repository into the built package, under wmcourse/_course/:
    data/        every shipped artefact (V, M, controllers, result files) with data/manifest.json
    notebooks/   the notebooks as learners open them (NN_name.ipynb, without outputs)
    docs/        the pages they link (glossary, references, primer, results...) and their pictures
The installed package finds them through importlib.resources (wmcourse.artefacts.course_dir); a clone of the
repository (`pip install -e .`, where this step is skipped) uses its own data/, notebooks/ and docs/. An sdist
carries the same folders (MANIFEST.in), so a wheel built from it is the same.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PACKAGED = "_course"  # wmcourse.artefacts.PACKAGED
COURSE_FILES = {"data": ("**/*",), "notebooks": ("[0-9][0-9]_*.ipynb",), "docs": ("*.md", "*.png", "*.gif")}


def course_files(root: Path = ROOT) -> list[Path]:
    """The files copied into wmcourse/_course/, relative to the repository's root."""
    found = []
    for folder, patterns in COURSE_FILES.items():
        if not (root / folder).is_dir():
            raise FileNotFoundError(f"{root / folder} is missing: the wheel carries the course's {folder}/")
        for pattern in patterns:
            found += [p.relative_to(root) for p in (root / folder).glob(pattern)
                      if p.is_file() and not any(part.startswith((".", "__pycache__")) for part in p.parts)]
    return sorted(set(found))


class BuildWithCourse(build_py):
    """build_py, then the course's data/, notebooks and docs/ copied into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the clone's own folders
        target = Path(self.build_lib) / "wmcourse" / PACKAGED
        shutil.rmtree(target, ignore_errors=True)  # no file left over from an earlier build
        for relative in course_files():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, target / relative)


setup(cmdclass={"build_py": BuildWithCourse})
