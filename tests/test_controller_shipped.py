"""The shipped CarRacing controllers (data/), replayed with the shipped V and M: the same dreams and the same
real drive that the ship script measured, so a broken agent loop, dream or artefact shows up here; and the
controller after the last round of iterative training beating a random policy on a real track."""

import functools

import numpy as np
import pytest

from wmcourse import artefacts
from wmcourse.real import envs, evaluate
from wmcourse.shipped import catalogue as shipped
from wmcourse.worldmodels import agent, dream

ROUNDS = shipped.shipped_rounds()  # 0 and each round of iterative training shipped in data/


def _shipped(round_):
    params, config, details = shipped.load_shipped_controller(round_)
    return params, config, details, shipped.load_shipped_evaluation(round_)


@pytest.mark.parametrize("round_", ROUNDS)
def test_shipped_controller_replays_its_reference_dreams(round_):
    params, config, _, reference = _shipped(round_)
    ref = reference["reference_dreams"]
    starts = agent.start_latents(shipped.load_shipped_heldout_encoded())
    returns = dream.dream_score(shipped.load_shipped_mdnrnn(round_=round_), starts, params, config,
                                ref["tau"], ref["dreams"], ref["steps"], seed=ref["seed"])
    np.testing.assert_allclose(returns, ref["returns"], atol=0.05)


@functools.cache  # several tests look at the same drive: play it once
def _real_drive(round_):
    params, config, _, reference = _shipped(round_)
    ref = reference["reference_drive"]
    wm = agent.WorldModelAgent(shipped.load_shipped_vae(), shipped.load_shipped_mdnrnn(round_=round_), params, config)
    return agent.drive_real(wm, ref["seed"], ref["steps"]), ref


@pytest.mark.parametrize("round_", ROUNDS)
def test_shipped_controller_replays_its_reference_real_drive(round_):
    drive, ref = _real_drive(round_)
    assert len(drive["rewards"]) == ref["steps"]
    assert abs(float(drive["rewards"].sum()) - ref["return"]) < 5.0


def test_iterated_controller_beats_a_random_policy_on_a_real_track():
    assert len(ROUNDS) >= 2, "data/ should hold at least one round of iterative training"
    drive, ref = _real_drive(ROUNDS[-1])
    env = envs.make_env("CarRacing-v3")
    env.reset(seed=ref["seed"])
    random_policy = evaluate.RandomPolicy(env.action_space, seed=0)
    random_return = 0.0
    for _ in range(ref["steps"]):
        _, reward, terminated, truncated, _ = env.step(random_policy.act(np.zeros((1, 1)))[0])
        random_return += reward
        if terminated or truncated:
            break
    env.close()
    assert drive["rewards"].sum() > random_return + 50  # tiles are worth about 3.3 each: 15 more tiles at least


@pytest.mark.parametrize("round_", ROUNDS)
def test_shipped_evaluation_is_recorded_with_its_command(round_):
    *_, reference = _shipped(round_)
    entry = artefacts.load_manifest()[shipped.controller_name(round_)]
    assert entry["figures"]["real_mean"] == round(reference["mean"], 1)
    assert reference["episodes"] == len(reference["returns"]) >= 20
    assert np.isclose(np.mean(reference["returns"]), reference["mean"], atol=0.01)
    assert "evolve" in entry["command"] or "carracing_round" in entry["command"]


def _round2_controller():
    return shipped.load_shipped_controller(2)


@functools.cache  # the same drive serves several tests: play it once
def _whole_drive_with_round2_m(load):
    """The controller `load` returns, with the shipped V and round-2 M, on the reference track of the round-2
    evaluation for a whole episode (1,000 steps, what a held-out score counts): its real return."""
    _, ref = _real_drive(2)
    params, config, *_ = load()
    wm = agent.WorldModelAgent(shipped.load_shipped_vae(), shipped.load_shipped_mdnrnn(round_=2), params, config)
    return float(agent.drive_real(wm, ref["seed"], 1000)["rewards"].sum())


@pytest.mark.parametrize("load", [shipped.load_refined_controller, shipped.load_refined_ensemble_controller])
def test_the_refined_controllers_outdrive_the_dream_only_one_on_a_real_track(load):
    """"Dream, then real CMA-ES" (the round-2 controller after real CMA-ES, 772 on 100 held-out tracks) and the
    three-Ms controller after real CMA-ES (776), each against the round-2 controller (530), on the reference track
    of the round-2 evaluation (measured: 521, 753 and 159)."""
    dream_only = _whole_drive_with_round2_m(_round2_controller)
    refined = _whole_drive_with_round2_m(load)
    assert refined > dream_only + 100, (refined, dream_only)


def test_real_cma_es_improved_the_three_ms_controller_on_a_real_track():
    """The three-Ms controller after real CMA-ES against itself before (the search's start), on the reference track
    of the round-2 evaluation: the refinement moved its weights to a better drive there (measured: 753 against
    695)."""
    start = _whole_drive_with_round2_m(shipped.load_ensemble_controller)
    refined = _whole_drive_with_round2_m(shipped.load_refined_ensemble_controller)
    assert refined > start + 20, (refined, start)
