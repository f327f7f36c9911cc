"""The catalogue of shipped artefacts: every file in data/ is listed, with an existing file, a command and a loader."""

import importlib

import numpy as np
import pytest

from wmcourse import artefacts
from wmcourse.errors import SettingsError
from wmcourse.shipped import catalogue as shipped

NOT_ARTEFACTS = {artefacts.MANIFEST_NAME, "README.md"}


def test_every_file_in_data_has_a_catalogue_entry_and_every_entry_a_file():
    folder = artefacts.data_dir()
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name not in NOT_ARTEFACTS}
    listed = [entry.name for entry in shipped.CATALOGUE]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert sorted(files - set(listed)) == [], "files in data/ that the catalogue does not list"
    assert sorted(set(listed) - files) == [], "catalogue entries with no file in data/"


def test_every_entry_names_a_command_and_a_loader_that_exists():
    for entry in shipped.CATALOGUE:
        assert entry.command.strip(), entry
        module, _, name = entry.loader.rpartition(".")
        assert module.startswith("wmcourse."), entry
        assert callable(getattr(importlib.import_module(module), name, None)), f"{entry.loader} is not a function"


def test_the_catalogue_commands_agree_with_the_manifest():
    """Each manifest entry's command starts with the catalogue's script or command (the manifest adds the step)."""
    manifest = artefacts.load_manifest()
    for entry in shipped.CATALOGUE:
        if entry.name in manifest:
            first = entry.command.split(" && ")[0]
            assert (manifest[entry.name]["command"].startswith(first)
                    or entry.name.startswith("carracing_heldout")), entry


def test_the_extra_rounds_record_their_validation_episodes_and_refuse_an_unknown_round():
    """Rounds 5 and 6 from the ensemble's controller: each validation mean is its 16 returns' mean, and both are
    below the start's (what the results page says); a round that was not run is refused by name."""
    start = next(c for c in shipped.load_larger_round()["candidates"] if c["name"] == "ensemble")["validation"]
    for number in (5, 6):
        validation = shipped.load_next_round(number)["validation"]
        assert len(validation["returns"]) == 16 and validation["real_steps"] == 16_000
        assert validation["mean"] == pytest.approx(np.mean(validation["returns"]), abs=0.01)
        assert validation["mean"] < start["mean"]
    with pytest.raises(SettingsError, match="expected 5 or 6"):
        shipped.load_next_round(7)
