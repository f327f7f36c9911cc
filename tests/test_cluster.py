"""The Ray backend on a local Ray instance with 2 CPUs: the same shards and scores as the local backend, a worker
that dies is retried, an interrupted run resumes on Ray. Skipped when Ray is not installed
(pip install -e .[cluster])."""

import importlib.util
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from test_real_es import StopAfter  # the same interrupted backend

from wmcourse.real import rollouts
from wmcourse.real.backend import LocalBackend, RayBackend
from wmcourse.worldmodels import real_es

# Ray is imported by the fixture (seconds of imports), not when the tests are collected
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                reason="Ray is not installed (pip install -e .[cluster])")


@pytest.fixture(scope="module")
def on_ray():
    """One local Ray instance for the whole module (starting Ray costs seconds on 2 cores), shut down after."""
    import ray

    # Ray's workers cannot import this test file: send its functions to them by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    attempts = 3  # Ray gives its raylet 30 s to start: beside the other test worker on 2 cores, try again
    for attempt in range(attempts):
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            break
        except Exception:
            ray.shutdown()
            if attempt == attempts - 1:
                raise
    try:
        yield RayBackend()
    finally:
        ray.shutdown()
        assert not ray.is_initialized()


def test_ray_collects_the_same_shards(on_ray, tmp_path):
    settings = dict(num_envs=1, seed=4, episodes_per_shard=1, max_steps=15, progress=False)
    local = rollouts.collect("CarRacing-v3", 3, tmp_path / "local", **settings)
    remote = rollouts.collect("CarRacing-v3", 3, tmp_path / "ray", backend=on_ray, **settings)
    assert ([p.name for p in local] == [p.name for p in remote]
            == ["shard_00000.npz", "shard_00001.npz", "shard_00002.npz"])
    for a, b in zip(local, remote):
        assert rollouts.shard_meta(a) == rollouts.shard_meta(b)
        with np.load(a) as x, np.load(b) as y:
            for name in x.files:
                np.testing.assert_array_equal(x[name], y[name], err_msg=f"{a.name}: {name}")
    frames = np.concatenate([e.obs for e in rollouts.load_episodes(tmp_path / "ray")])
    assert frames.std() > 0  # real pictures, not blanks


def test_ray_scores_a_population_as_the_local_backend_does(on_ray, tiny_world_model):
    vae, mdnrnn, config = tiny_world_model
    candidates = np.random.default_rng(1).standard_normal((2, config.n_params))
    seeds = real_es.track_seeds(7, 0, 2)
    local = real_es.score_population(candidates, seeds, vae, mdnrnn, config, LocalBackend(), max_steps=20)
    remote = real_es.score_population(candidates, seeds, vae, mdnrnn, config, on_ray, max_steps=20)
    np.testing.assert_array_equal(local.returns, remote.returns)
    np.testing.assert_array_equal(local.steps, remote.steps)


def die_once_then_play(item):
    """Kills its own Ray worker process the first time (a marker file remembers), then plays the episode."""
    marker, work = item
    if not Path(marker).exists():
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return real_es.play_episode(work)


def test_a_killed_ray_worker_is_retried(on_ray, tiny_world_model, tmp_path):
    vae, mdnrnn, config = tiny_world_model
    work = real_es.EpisodeWork(str(vae), str(mdnrnn), np.full(config.n_params, 0.3, np.float32), config, 11, 20)
    marker = tmp_path / "died"
    [(index, result)] = list(on_ray.map(die_once_then_play, [(str(marker), work)]))
    assert marker.exists(), "the worker never died: the test tested nothing"
    assert (index, result) == (0, real_es.play_episode(work))




def test_a_run_interrupted_locally_resumes_on_ray(on_ray, tiny_world_model, tmp_path):
    vae, mdnrnn, config = tiny_world_model
    settings = real_es.RealESConfig(population=4, rollouts=2, sigma_init=1.0, generations=1, max_steps=20, seed=5)
    start = np.zeros(config.n_params)
    whole, history = real_es.evolve_real(start, config, vae, mdnrnn, tmp_path / "whole", settings, progress=False)
    with pytest.raises(KeyboardInterrupt):
        real_es.evolve_real(start, config, vae, mdnrnn, tmp_path / "cut", settings, StopAfter(3), progress=False)
    resumed, resumed_history = real_es.evolve_real(start, config, vae, mdnrnn, tmp_path / "cut", settings, on_ray,
                                                   progress=False)
    np.testing.assert_array_equal(resumed, whole)
    for key in ("best", "mean", "worst", "sigma", "total_real_steps"):
        assert resumed_history[-1][key] == history[-1][key], key


def test_the_paper_scale_cluster_config_is_one_ray_accepts():
    """What `ray up` checks before it starts any machine (no cloud account here: the cluster is never launched)."""
    import copy

    import yaml
    from ray.autoscaler._private.util import prepare_config, validate_config

    root = Path(__file__).resolve().parent.parent
    config = yaml.safe_load((root / "cluster" / "ray-paper-scale.yaml").read_text())
    validate_config(prepare_config(copy.deepcopy(config)))
    workers = config["available_node_types"]["cpu_worker"]
    assert workers["min_workers"] == 16 and workers["node_config"]["InstanceType"] == "c6i.16xlarge"  # 1,024 vCPUs
    assert config["available_node_types"]["head"]["resources"] == {"CPU": 0}
    setup = " ".join(config["setup_commands"])
    for pinned in ("requirements.txt", "requirements-cluster.txt"):
        assert pinned in setup and (root / pinned).exists()
    config["available_node_types"]["cpu_worker"]["min_worker"] = 1  # a typo Ray must catch, or the check checks nothing
    with pytest.raises(Exception, match="min_worker"):
        validate_config(prepare_config(config))
    page = (root / "docs" / "cluster.md").read_text()  # the cluster's page says how to start it
    assert "ray up cluster/ray-paper-scale.yaml" in page and "--backend ray --address auto" in page
