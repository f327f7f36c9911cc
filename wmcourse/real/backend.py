"""Backends: where the real-environment work runs, on this machine's cores or on a Ray cluster.

The paper's scale (10,000 real rollouts for V and M; 64 candidates x 16 real rollouts per CMA-ES generation)
outgrows one machine. Both of the course's big real-environment jobs are a pure function mapped over work
items that carry their own seeds: a shard to collect (wmcourse.real.rollouts), a (candidate, track seed) episode
to score (wmcourse.worldmodels.real_es). So the result never depends on where or in which order the items ran, and a
backend only has to do one thing:

    for index, result in backend.map(function, items):   # results as they finish, in any order
        write(result)                                     # the caller keeps what is finished: resumable

`LocalBackend` (the default) runs the items on this machine: in this process with one worker, else in a
pool of worker processes. `RayBackend` runs each item as a Ray task (`ray.remote`, one CPU each) on a local
Ray instance or an existing cluster (`address="auto"`); a task whose worker process dies is run again
(Ray's `max_retries`). Errors raised by the function itself are not retried: they are bugs or bad input.
Ray is an optional extra: `pip install -e .[cluster]`.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import CourseError, SettingsError

BACKENDS = ("local", "ray")


class Backend(Protocol):
    """Maps a picklable, module-level function over work items; yields (item index, result) as each finishes."""

    def map(self, function: Callable[[Any], Any], items: Sequence[Any], cpus: int = 1) -> Iterator[tuple[int, Any]]: ...


def _one_thread() -> None:
    """Each worker is one core: torch's own thread pool would only fight the other workers for it.
    (Set before torch is imported in the fresh worker process, which then starts one thread.)"""
    os.environ["OMP_NUM_THREADS"] = "1"


@dataclass(frozen=True)
class LocalBackend:
    """This machine: `workers` processes (1: everything in this process, in order, nothing pickled).

    A worker process that dies breaks the whole pool; the pool is then started afresh and the unfinished
    items submitted again, up to `max_retries` times.
    """

    workers: int = 1
    max_retries: int = 3

    def __post_init__(self):
        if self.workers < 1:
            raise SettingsError(f"LocalBackend needs at least 1 worker, got workers={self.workers}.")

    def map(self, function: Callable[[Any], Any], items: Sequence[Any], cpus: int = 1) -> Iterator[tuple[int, Any]]:
        if self.workers == 1:
            for index, item in enumerate(items):
                yield index, function(item)
            return
        todo, retries = set(range(len(items))), 0
        while todo:
            # spawn, not fork: a forked copy of a process that already runs torch threads can deadlock
            pool = cf.ProcessPoolExecutor(min(self.workers, len(todo)), multiprocessing.get_context("spawn"),
                                          initializer=_one_thread)
            try:
                futures = {pool.submit(function, items[i]): i for i in sorted(todo)}
                for future in cf.as_completed(futures):
                    result = future.result()
                    todo.discard(futures[future])
                    yield futures[future], result
            except cf.process.BrokenProcessPool:
                retries += 1
                if retries > self.max_retries:
                    raise CourseError(f"Local worker processes died {retries} times; {len(todo)} of {len(items)} "
                                      "items unfinished. Rerun the same command to resume.") from None
            finally:
                pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class RayBackend:
    """Ray tasks, one CPU each (`cpus` per item), on a local instance or the cluster at `address`.

    address None starts a local Ray instance with `num_cpus` CPUs (None: all of them) unless Ray is
    already initialised in this process; "auto" joins the cluster this machine belongs to (`ray start`,
    `ray up`); "ray://host:10001" a remote one. At most `in_flight` items are submitted at a time
    (default: twice the cluster's CPUs), so results do not pile up in Ray's object store.
    """

    address: str | None = None
    num_cpus: int | None = None
    max_retries: int = 3
    in_flight: int | None = None

    def connect(self):
        """Start (or join) Ray now rather than at the first map; returns the ray module."""
        try:
            import ray
        except ImportError as exc:
            raise CourseError("The Ray backend needs Ray: pip install -e .[cluster] "
                              "(or pip install -r requirements-cluster.txt).") from exc
        if not ray.is_initialized():
            ray.init(address=self.address, num_cpus=None if self.address else self.num_cpus,
                     include_dashboard=False)
        return ray

    def map(self, function: Callable[[Any], Any], items: Sequence[Any], cpus: int = 1) -> Iterator[tuple[int, Any]]:
        ray = self.connect()
        task = ray.remote(num_cpus=cpus, max_retries=self.max_retries)(function)
        window = self.in_flight or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        pending: dict[Any, int] = {}
        next_item = 0
        while next_item < len(items) or pending:
            while next_item < len(items) and len(pending) < window:
                pending[task.remote(items[next_item])] = next_item
                next_item += 1
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)

    def shutdown(self) -> None:
        """Stop the local Ray instance this process started (a cluster keeps running)."""
        import ray

        ray.shutdown()


def make_backend(name: str = "local", workers: int | None = None, address: str | None = None) -> Backend:
    """A backend by name, as the command line chooses it: --backend local|ray, --workers N, --address A."""
    if name == "local":
        if address is not None:
            raise SettingsError("--address is for the Ray backend: add --backend ray, or drop --address.")
        return LocalBackend(workers or 1)
    if name == "ray":
        return RayBackend(address=address, num_cpus=workers)
    raise SettingsError(f"Unknown backend {name!r}: choose one of {', '.join(BACKENDS)}.")

