"""Backends map a function over work items: local (in this process or in worker processes); see test_cluster for Ray."""

import os
import signal
from pathlib import Path

import pytest

from wmcourse.errors import CourseError
from wmcourse.real import backend


def square(x: int) -> int:
    return x * x


def die_once(item: tuple[str, int]) -> int:
    """Kills its own worker process the first time it runs (a marker file remembers), then squares."""
    marker, x = item
    if x == 3 and not Path(marker).exists():
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return x * x


def test_one_local_worker_runs_in_order_in_this_process():
    assert list(backend.LocalBackend().map(square, [3, 1, 2])) == [(0, 9), (1, 1), (2, 4)]


def test_local_worker_processes_that_die_are_replaced(tmp_path):
    marker = str(tmp_path / "died")
    results = dict(backend.LocalBackend(workers=2).map(die_once, [(marker, x) for x in range(6)]))
    assert Path(marker).exists(), "the worker never died: the test tested nothing"
    assert results == {i: i * i for i in range(6)}


def test_local_backend_gives_up_after_max_retries(tmp_path):
    with pytest.raises(CourseError, match="died 2 times"):
        list(backend.LocalBackend(workers=2, max_retries=1).map(die_always, [1, 2]))


def die_always(x: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)


def test_bad_backend_choices_say_what_to_do():
    with pytest.raises(CourseError, match="local, ray"):
        backend.make_backend("dask")
    with pytest.raises(CourseError, match="--backend ray"):
        backend.make_backend("local", address="auto")
    with pytest.raises(CourseError, match="at least 1 worker"):
        backend.LocalBackend(workers=0)
    assert backend.make_backend("ray", workers=2, address="auto") == backend.RayBackend(address="auto", num_cpus=2)
