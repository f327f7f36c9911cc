import json

import pytest

from wmcourse import artefacts
from wmcourse.errors import MissingArtefactError


def test_missing_artefact_names_the_command(tmp_path):
    with pytest.raises(MissingArtefactError, match="python -m wmcourse train-vae"):
        artefacts.require("vae.pt", "python -m wmcourse train-vae --z 32", folder=tmp_path)


def test_record_then_verify(tmp_path):
    path = tmp_path / "table.json"
    path.write_text(json.dumps({"score": 1}))
    entry = artefacts.record(path, command="python -m wmcourse x", seed=0, figures={"score": 1})
    assert entry["bytes"] == path.stat().st_size
    assert artefacts.verify(tmp_path) == []
    path.write_text("changed")
    assert any("changed since" in p for p in artefacts.verify(tmp_path))
    (tmp_path / "stray.bin").write_bytes(b"x")
    assert any("stray.bin" in p for p in artefacts.verify(tmp_path))


def test_shipped_data_matches_its_manifest():
    assert artefacts.verify() == []
