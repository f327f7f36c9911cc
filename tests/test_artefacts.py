import json

import pytest

from wmcourse import artefacts
from wmcourse.errors import CommandFailedError, CorruptArtefactError, MissingArtefactError, SettingsError


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
    with pytest.raises(SettingsError, match="not inside"):
        artefacts.record(shard, command="x", seed=0, figures={}, folder=tmp_path / "rollouts" / "elsewhere")


def _recorded(tmp_path, payload: bytes = b"weights" * 100):
    path = tmp_path / "model.pt"
    path.write_bytes(payload)
    artefacts.record(path, command="python -m wmcourse train-vae --out data/model.pt", seed=0, figures={},
                     folder=tmp_path)
    return path


def test_a_failed_command_is_a_course_error(capsys):
    """A notebook's RETRAIN command that fails: one sentence with its exit status (its output came before)."""
    with pytest.raises(CommandFailedError, match="exit status 3"):
        artefacts.run_command("echo trying; exit 3")
    assert "trying" in capsys.readouterr().out


def test_require_accepts_an_intact_file(tmp_path):
    path = _recorded(tmp_path)
    assert artefacts.require("model.pt", "x", folder=tmp_path) == path


def test_require_names_a_truncated_file_and_how_to_restore_it(tmp_path):
    path = _recorded(tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CorruptArtefactError, match=r"'model.pt'.*truncated.*100 bytes.*git checkout") as info:
        artefacts.require("model.pt", "x", folder=tmp_path)
    assert "python -m wmcourse train-vae --out data/model.pt" in str(info.value)


def test_require_names_an_altered_file(tmp_path):
    path = _recorded(tmp_path)
    data = bytearray(path.read_bytes())
    data[0] ^= 1  # same size, one bit flipped
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptArtefactError, match="altered"):
        artefacts.require("model.pt", "x", folder=tmp_path)


def test_a_truncated_shipped_vae_gets_the_course_error_not_torchs(tmp_path, monkeypatch):
    import shutil

    from wmcourse.shipped import catalogue as shipped

    name = shipped.shipped_vae_name(z=4, small=True)
    shutil.copy(artefacts.data_dir() / artefacts.MANIFEST_NAME, tmp_path / artefacts.MANIFEST_NAME)
    (tmp_path / name).write_bytes((artefacts.data_dir() / name).read_bytes()[:5000])
    monkeypatch.setenv("WMCOURSE_DATA", str(tmp_path))
    with pytest.raises(CorruptArtefactError, match=f"{name}.*truncated"):
        shipped.load_shipped_vae(z=4, small=True)
