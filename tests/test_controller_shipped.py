"""The shipped CarRacing controller (data/), replayed with the shipped V and M: the same dreams and the same
real drive that the ship script measured, so a broken agent loop, dream or artefact shows up here."""

import json

import numpy as np
import pytest

from wmcourse import agent, artefacts, controller, mdnrnn, tau_sweep, vae


@pytest.fixture(scope="module")
def shipped():
    params, config, details = controller.load_shipped_controller()
    reference = json.loads(artefacts.require("controller_carracing_eval.json", controller.SHIPPED_COMMAND).read_text())
    return params, config, details, reference


def test_shipped_controller_replays_its_reference_dreams(shipped):
    params, config, details, reference = shipped
    ref = reference["reference_dreams"]
    starts = agent.start_latents(mdnrnn.load_shipped_heldout_encoded())
    returns = tau_sweep.dream_score(mdnrnn.load_shipped_mdnrnn(), starts, params, config, ref["tau"], ref["dreams"],
                                    ref["steps"], seed=ref["seed"])
    np.testing.assert_allclose(returns, ref["returns"], atol=0.05)


def test_shipped_controller_replays_its_reference_real_drive(shipped):
    params, config, _, reference = shipped
    ref = reference["reference_drive"]
    wm = agent.WorldModelAgent(vae.load_shipped_vae(), mdnrnn.load_shipped_mdnrnn(), params, config)
    drive = agent.drive_real(wm, ref["seed"], ref["steps"])
    assert len(drive["rewards"]) == ref["steps"]
    assert abs(float(drive["rewards"].sum()) - ref["return"]) < 5.0


def test_shipped_evaluation_is_recorded_with_its_command(shipped):
    *_, reference = shipped
    entry = artefacts.load_manifest()[controller.SHIPPED_NAME]
    assert entry["figures"]["real_mean"] == round(reference["mean"], 1)
    assert reference["episodes"] == len(reference["returns"]) >= 20
    assert np.isclose(np.mean(reference["returns"]), reference["mean"], atol=0.01)
    assert "evolve" in entry["command"]
