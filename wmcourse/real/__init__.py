"""The real environments: envs (CarRacing, CartPole, Take Cover and their frames), evaluate (scores over real
episodes), rollouts (collecting episodes into shards) and backend (where the work runs: local or Ray)."""

from . import envs, evaluate

__all__ = ["envs", "evaluate"]
