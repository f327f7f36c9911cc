"""The real environments: envs (CarRacing, CartPole, Take Cover and their frames), evaluate (scores over real
episodes), rollouts (collecting episodes into shards) and backend (where the work runs: local or Ray).

The modules load when first used (`wmcourse.real.envs`, `from wmcourse.real import evaluate`): a worker process
that only needs the backend does not import gymnasium and torch.
"""

import importlib

__all__ = ["envs", "evaluate"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
