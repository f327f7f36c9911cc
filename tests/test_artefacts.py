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
    entry = artefacts.record(path, command="python -m wmcourse x", seed=0, figures={"score": 1}, folder=tmp_path)
    assert entry["bytes"] == path.stat().st_size
    assert artefacts.verify(tmp_path) == []
    path.write_text("changed")
    assert any("changed since" in p for p in artefacts.verify(tmp_path))
    (tmp_path / "stray.bin").write_bytes(b"x")
    assert any("stray.bin" in p for p in artefacts.verify(tmp_path))


def test_shipped_data_matches_its_manifest():
    assert artefacts.verify() == []


def test_record_a_file_in_a_subfolder(tmp_path):
    (tmp_path / "rollouts").mkdir()
    shard = tmp_path / "rollouts" / "shard_00000.npz"
    shard.write_bytes(b"frames")
    artefacts.record(shard, command="python -m wmcourse collect", seed=1, figures={}, folder=tmp_path)
    assert "rollouts/shard_00000.npz" in artefacts.load_manifest(tmp_path)
    assert artefacts.verify(tmp_path) == []
    with pytest.raises(ValueError, match="not inside"):
        artefacts.record(shard, command="x", seed=0, figures={}, folder=tmp_path / "rollouts" / "elsewhere")
