"""Dreamer: rssm (the world model: deterministic h, categorical z, balanced KL, symlog), agent (the actor, the
critic, lambda-returns, imagination), train (the loop with real steps and replay) and probes (its dream measured
against reality)."""

from . import agent, probes, rssm, train

__all__ = ["agent", "probes", "rssm", "train"]
