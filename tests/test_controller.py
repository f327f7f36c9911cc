import pytest
import torch

from wmcourse.errors import ShapeError
from wmcourse.worldmodels.controller import ControllerConfig, act, split_params, squash


def test_paper_parameter_count():
    assert ControllerConfig().n_params == 867


def test_batched_act_equals_one_candidate_at_a_time():
    config = ControllerConfig()
    params = torch.randn(5, config.n_params)
    features = torch.randn(5, 7, config.input_size)
    batched = act(params, features, config)
    for p in range(5):
        w, b = split_params(params[p : p + 1], config)
        single = squash(features[p] @ w[0].T + b[0], "carracing")
        torch.testing.assert_close(batched[p], single)


def test_carracing_action_ranges():
    actions = squash(torch.randn(1000, 3) * 5, "carracing")
    assert actions[:, 0].min() >= -1 and actions[:, 0].max() <= 1
    assert actions[:, 1:].min() >= 0 and actions[:, 1:].max() <= 1
    assert (actions[:, 2] == 0).float().mean() > 0.4  # brake is clipped at 0 for negative outputs


def test_discrete_controller():
    config = ControllerConfig(input_size=4, action_size=1, squash="discrete")
    params = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0]])
    actions = act(params, torch.tensor([[[2.0, 0, 0, 0], [-2.0, 0, 0, 0]]]), config)
    assert actions.tolist() == [[1, 0]]


def test_bad_shapes_are_explained():
    config = ControllerConfig()
    with pytest.raises(ShapeError, match="population, 867"):
        act(torch.zeros(2, 10), torch.zeros(2, 1, 288), config)
    with pytest.raises(ShapeError, match="rollouts, 288"):
        act(torch.zeros(2, 867), torch.zeros(2, 288), config)
    with pytest.raises(ValueError, match="action_size=1"):
        ControllerConfig(input_size=4, action_size=2, squash="discrete")
