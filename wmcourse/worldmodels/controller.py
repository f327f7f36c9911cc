"""C: the controller, one linear layer from [z, h] to the action, kept tiny on purpose.

    a_t = squash(W [z_t, h_t] + b)      (CarRacing: 3 x 288 + 3 = 867 parameters)

C acts on h_t, the memory M holds BEFORE the action; M then reads [z_t, a_t] to make h_{t+1}.
The paper's main text writes C as linear, a_t = W [z_t h_t] + b_t; its appendix bounds the actions with tanh
(steering in [-1, 1], gas and brake in [0, 1]). This module does what the paper's code does for CarRacing:
steer = tanh(o_0), gas = (tanh(o_1) + 1) / 2, brake = clip(tanh(o_2), 0, 1).
For a discrete task (CartPole) one output is thresholded: push right when tanh(o) > 0.
For VizDoom Take Cover the paper reads one tanh output in thirds ("thirds"): a = -1 (left) when
tanh(o) < -1/3, +1 (right) when tanh(o) > 1/3, else 0 (stay); Doom's C reads [z, h, c], the LSTM's
cell too: 64 + 512 + 512 = 1,088 inputs. The authors' Take Cover controller has no bias: 1,088 weights (the
paper's parameter table). This one adds one bias: 1,089 numbers.

Parameters are a flat vector (what CMA-ES searches). `act` takes a whole population at once:
params (P, n) and features (P, R, inputs) -> actions (P, R, ...), one batched matrix product.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import MissingArtefactError, SettingsError, ShapeError

SQUASHES = ("carracing", "tanh", "discrete", "thirds")


@dataclass(frozen=True)
class ControllerConfig:
    input_size: int = 32 + 256  # z and h for CarRacing
    action_size: int = 3
    squash: str = "carracing"

    def __post_init__(self):
        if self.squash not in SQUASHES:
            raise SettingsError(f"Unknown squash {self.squash!r}: expected one of {SQUASHES}.")
        if self.squash in ("discrete", "thirds") and self.action_size != 1:
            raise SettingsError(f"A {self.squash!r} controller has one output (read by its sign or its thirds): "
                                "set action_size=1.")

    @property
    def n_params(self) -> int:
        return self.action_size * self.input_size + self.action_size


def split_params(params: torch.Tensor, config: ControllerConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat parameter vectors (P, n) -> weights W (P, action_size, input_size) and biases b (P, action_size)."""
    if params.ndim != 2 or params.shape[1] != config.n_params:
        raise ShapeError(f"Expected controller parameters of shape (population, {config.n_params}), got "
                         f"{tuple(params.shape)}.")
    n_weights = config.action_size * config.input_size
    weights = params[:, :n_weights].reshape(-1, config.action_size, config.input_size)
    return weights, params[:, n_weights:]


def squash(raw: torch.Tensor, kind: str) -> torch.Tensor:
    """Map the linear outputs to actions (see the module docstring)."""
    out = torch.tanh(raw)
    if kind == "carracing":
        return torch.stack([out[..., 0], (out[..., 1] + 1.0) / 2.0, out[..., 2].clamp(0.0, 1.0)], dim=-1)
    if kind == "discrete":
        return (out[..., 0] > 0).long()
    if kind == "thirds":
        from ..real.envs import thirds

        return thirds(out)
    return out


def act(params: torch.Tensor, features: torch.Tensor, config: ControllerConfig) -> torch.Tensor:
    """Actions of P candidate controllers, each on its own R feature rows: (P, n), (P, R, inputs) -> (P, R, ...)."""
    if features.ndim != 3 or features.shape[-1] != config.input_size or features.shape[0] != params.shape[0]:
        raise ShapeError(
            f"Expected features of shape (population={params.shape[0]}, rollouts, {config.input_size}), "
            f"got {tuple(features.shape)}."
        )
    weights, biases = split_params(params.to(features.dtype), config)
    raw = torch.baddbmm(biases.unsqueeze(1), features, weights.transpose(1, 2))
    return squash(raw, config.squash)


def save_controller(path: str | Path, params: np.ndarray, config: ControllerConfig, **details) -> Path:
    """Write a controller's parameters, config and any details (history, tau, ...) to an .npz file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, params=np.asarray(params, np.float32), config=json.dumps(asdict(config)),
             details=json.dumps(details))
    return path


def load_controller(path: str | Path) -> tuple[np.ndarray, ControllerConfig, dict]:
    """(params, config, details) of a controller saved by save_controller."""
    if not Path(path).exists():
        raise MissingArtefactError(f"No controller at {path}. Evolve one with:\n"
                                   f"    python -m wmcourse evolve --out {path}")
    with np.load(path) as f:
        return f["params"], ControllerConfig(**json.loads(str(f["config"]))), json.loads(str(f["details"]))
