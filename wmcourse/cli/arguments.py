"""Argument types for `python -m wmcourse`: a bad value becomes one line naming what was expected and how to fix it.

Each function here is an argparse `type=`: it returns the parsed value or raises ArgumentTypeError, which the
command line prints as one line (`argument --episodes: expected ...`) with exit status 2. A path that does not
exist is passed through: the package's loaders name the command that makes it (MissingArtefactError).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..experiments import runner

_Error = argparse.ArgumentTypeError


def _number(text: str, kind: type, what: str, example: str) -> int | float:
    try:
        return kind(text)
    except ValueError:
        raise _Error(f"expected {what}, got {text!r} (for example {example})") from None


def positive_int(text: str) -> int:
    """A count: 1 or more."""
    value = _number(text, int, "a whole number of at least 1", "100")
    if value < 1:
        raise _Error(f"expected a whole number of at least 1, got {value} (for example 100)")
    return value


def population(text: str) -> int:
    """A CMA-ES population: 2 or more (it ranks candidates against each other)."""
    value = _number(text, int, "a whole number of at least 2", "64")
    if value < 2:
        raise _Error(f"expected a population of at least 2 (CMA-ES ranks candidates), got {value} (for example 64)")
    return value


def _at_least_zero(text: str, what: str, example: str) -> int:
    value = _number(text, int, "a whole number of at least 0", example)
    if value < 0:
        raise _Error(f"expected {what} of at least 0, got {value} (for example {example})")
    return value


def seed(text: str) -> int:
    """A random seed: 0 or more (gymnasium and numpy refuse negative seeds)."""
    return _at_least_zero(text, "a seed", "0")


def generation(text: str) -> int:
    """A generation of a search: 0 (the start) or more."""
    return _at_least_zero(text, "a generation (0 is the start)", "9")


def positive_float(text: str) -> float:
    value = _number(text, float, "a number above 0", "1.0")
    if not value > 0 or value == float("inf"):
        raise _Error(f"expected a finite number above 0, got {text} (for example 1.0)")
    return value


def non_negative_float(text: str) -> float:
    value = _number(text, float, "a number of at least 0", "1.0")
    if not value >= 0 or value == float("inf"):
        raise _Error(f"expected a finite number of at least 0, got {text} (for example 1.0)")
    return value


def fraction(text: str) -> float:
    """A share of something kept aside: 0 or more, below 1."""
    value = _number(text, float, "a fraction in [0, 1)", "0.05")
    if not 0 <= value < 1:
        raise _Error(f"expected a fraction of at least 0 and below 1, got {text} (for example 0.05)")
    return value


def discount(text: str) -> float:
    """A discount factor gamma: above 0, at most 1."""
    value = _number(text, float, "a discount in (0, 1]", "0.997")
    if not 0 < value <= 1:
        raise _Error(f"expected a discount above 0 and at most 1, got {text} (for example 0.997)")
    return value


def device(text: str) -> str:
    """A torch device: auto (a GPU when there is one), cpu, cuda, cuda:N or mps."""
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", text):
        raise _Error(f"unknown device {text!r}: expected auto, cpu, cuda, cuda:N or mps")
    return text


def _readable(path: Path) -> None:
    if not os.access(path, os.R_OK):
        raise _Error(f"{path} cannot be read: check its permissions (ls -l {path})")


def _archive_of_kind(path: Path) -> bool:
    """Whether `path` is what its suffix says: torch.save's zip (NAME/data.pkl inside) or numpy.savez's (.npy)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    if path.suffix == ".pt":
        return any(name.endswith("/data.pkl") for name in names)
    return bool(names) and all(name.endswith(".npy") for name in names)


def archive(*suffixes: str) -> Callable[[str], str]:
    """A file the package wrote with torch.save or numpy.savez (both zip archives) with one of `suffixes`."""

    def check(text: str) -> str:
        path = Path(text)
        if not path.exists():
            return text  # the loader says which command makes it
        kinds = " or ".join(suffixes)
        if path.is_dir():
            raise _Error(f"{path} is a folder: expected a {kinds} file written by wmcourse")
        _readable(path)
        if path.suffix not in suffixes or not _archive_of_kind(path):
            raise _Error(f"{path} is not a {kinds} file written by wmcourse: pass one that python -m wmcourse saved")
        return text

    check.__name__ = "file"
    return check


def folder(text: str) -> str:
    """A folder to read from or write into: not a file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise _Error(f"{path} is a file: expected a folder (pass a folder's path, or a new one to create)")
    if path.is_dir():
        _readable(path)
    return text


def folder_or_archive(text: str) -> str:
    """Encoded episodes: one .npz, or a folder of them."""
    return folder(text) if Path(text).is_dir() or not Path(text).suffix else archive(".npz")(text)


def output_file(text: str) -> str:
    """A file to write: not a folder, and not inside a file."""
    path = Path(text)
    if path.is_dir():
        raise _Error(f"{path} is a folder: expected a file name to write (for example {path / 'out.json'})")
    parent = next((p for p in path.parents if p.exists()), Path("."))
    if not parent.is_dir():
        raise _Error(f"{parent} is a file, so {path} cannot be written inside it: choose another path")
    if not os.access(parent, os.W_OK):
        raise _Error(f"{parent} is not writable: choose another path")
    return text


# --- one option per setting of an experiment's config --------------------------------------------------

def _field_type(f: dataclasses.Field, name: str) -> tuple[Callable[[str], object], bool]:
    """The argparse type of a setting (its field `f`, its flat name `name`) and whether it takes one or more values:
    by its name (a seed, a population) and its annotation (int, float, str, int | None, tuple[...])."""
    annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    many = annotation.startswith("tuple")
    if name == "seed" or name.endswith("_seed"):
        return seed, many
    if name == "population" or name.endswith("_population"):
        return population, many
    if "float" in annotation:
        return positive_float, many
    if "int" in annotation:
        return positive_int, many
    return str, many


def add_config_options(parser: argparse.ArgumentParser, config: object, only: tuple[str, ...] | None = None,
                       types: dict[str, Callable[[str], object]] | None = None,
                       helps: dict[str, str] | None = None, choices: dict[str, list] | None = None) -> None:
    """Add one option per setting of the dataclass instance `config`: --name-with-dashes, its value the default
    (shown in the help; the option itself defaults to None, so config_from_args changes only what was given).

    A nested config (wmcourse.experiments.runner.section) gives one option per leaf setting, by its flat name
    (--round-episodes for config.round.episodes). The type comes from the setting's name and annotation (see
    _field_type) unless `types` names one; a tuple setting takes one or more values. `only` keeps those
    settings; `choices` limits some to a list. A setting's help is `helps`' text or its metadata's
    (dataclasses.field(default=..., metadata={"help": ...}))."""
    types, helps, choices = types or {}, helps or {}, choices or {}
    defaults = runner.flat(config)
    for name, f in runner.setting_fields(config).items():
        if only is not None and name not in only:
            continue
        kind, many = _field_type(f, name)
        default = defaults[name]
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=types.get(name, kind),
                            nargs="+" if many else None, choices=choices.get(name), default=None,
                            help=f"{helps.get(name) or f.metadata.get('help', '')} (default: {default!r})".strip())


def config_from_args(config: object, args: argparse.Namespace) -> object:
    """`config` with every setting that add_config_options put on the command line set from `args` (None: unset)."""
    return runner.override(config, {name: getattr(args, name) for name in runner.setting_fields(config)
                                    if getattr(args, name, None) is not None})
