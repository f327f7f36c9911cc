"""World Models (Ha & Schmidhuber 2018): V sees, M remembers and predicts, C acts.

The networks and what they are made of, handed on by name (as ctallec/world-models' `models/` does):

    V  ConvVAE (vae.py)         a 64x64 frame -> a code z, and back; trained on the ELBO
    M  MDNRNN (mdnrnn.py)       an LSTM over [z, a] with a mixture density head: p(z_{t+1} | z_t, a_t, h_t)
    C  a linear controller (controller.py): a = tanh(W [z, h] + b), evolved with CMA-ES (evolve.py)

The dream (dream.py) is M standing in for the world; the agent (agent.py) is V + M + C acting together.
Every submodule is importable as `worldmodels.vae`, `worldmodels.dream`, ...
"""

from . import (
    agent,
    controller,
    dream,
    evolve,
    latents,
    mdn,
    mdnrnn,
    probes,
    real_es,
    train_mdnrnn,
    train_vae,
    vae,
)
from .agent import WorldModelAgent
from .controller import ControllerConfig, load_controller, save_controller
from .dream import BatchedDream, DreamEnv
from .evolve import EvolveConfig, evolve_in_dream
from .mdn import MixtureHead
from .mdnrnn import MDNRNN, MDNRNNConfig, load_mdnrnn, save_mdnrnn
from .vae import ConvVAE, VAEConfig, load_vae, save_vae

__all__ = [
    "agent", "controller", "dream", "evolve", "latents", "mdn", "mdnrnn", "probes", "real_es", "train_mdnrnn",
    "train_vae", "vae",
    "WorldModelAgent", "ControllerConfig", "load_controller", "save_controller", "BatchedDream", "DreamEnv",
    "EvolveConfig", "evolve_in_dream", "MixtureHead", "MDNRNN", "MDNRNNConfig", "load_mdnrnn", "save_mdnrnn",
    "ConvVAE", "VAEConfig", "load_vae", "save_vae",
]
