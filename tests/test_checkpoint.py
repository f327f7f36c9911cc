"""wmcourse.checkpoint: atomic writes, format tags, config checks, the parameter counter."""

from dataclasses import dataclass

import pytest
import torch
from torch import nn

from wmcourse import checkpoint
from wmcourse.errors import CourseError, MissingArtefactError


@dataclass
class Settings:
    width: int = 4
    lr: float = 1e-3


def test_count_parameters_counts_weights_and_biases_and_can_skip_frozen_ones():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    assert checkpoint.count_parameters(net) == 3 * 4 + 4 + 4 * 2 + 2
    net[0].weight.requires_grad_(False)
    assert checkpoint.count_parameters(net, trainable_only=True) == 4 + 4 * 2 + 2


def test_save_and_load_round_trip_with_format_and_config(tmp_path):
    path = checkpoint.save_torch(tmp_path / "a" / "m.pt", "toy-v1", Settings(), weights=torch.arange(3))
    blob = checkpoint.load_torch(path, "toy-v1", remake="make it")
    assert blob["config"] == {"width": 4, "lr": 1e-3} and blob["weights"].tolist() == [0, 1, 2]
    assert not list(path.parent.glob("*.partial"))


def test_load_names_a_missing_file_and_the_command_that_makes_it(tmp_path):
    with pytest.raises(MissingArtefactError, match="python -m wmcourse x"):
        checkpoint.load_torch(tmp_path / "none.pt", "toy-v1", remake="python -m wmcourse x")


def test_load_refuses_another_kind_of_checkpoint(tmp_path):
    path = checkpoint.save_torch(tmp_path / "m.pt", "other-v1", {"a": 1})
    with pytest.raises(CourseError, match="not a toy-v1 checkpoint"):
        checkpoint.load_torch(path, "toy-v1", remake="x")


def test_check_same_config_names_every_setting_that_differs(tmp_path):
    checkpoint.check_same_config(tmp_path, {"width": 4, "lr": 1e-3}, Settings())
    with pytest.raises(CourseError, match=r"width: 4 -> 8") as err:
        checkpoint.check_same_config(tmp_path, {"width": 4, "lr": 1e-3, "old": 1}, Settings(width=8))
    assert "old: 1 -> (absent)" in str(err.value)


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = checkpoint.atomic_write_text(tmp_path / "f.json", "first")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.os, "replace", broken_replace)
    with pytest.raises(OSError):
        checkpoint.atomic_write_text(path, "second")
    assert path.read_text() == "first"
