"""Deterministic generator of a retail web shop's raw landing-zone data."""

from mesh_demo.generate.run import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
