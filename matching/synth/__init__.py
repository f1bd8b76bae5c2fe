"""The synthetic exercise: one population, every dataset with realistic noise, planted
inconsistencies and their truth.

    from matching.synth import generate
    summary = generate(people=5000, seed=20261129, out="sample_data", fmt="csv")

The command is ``matching synth`` (``matching/synth/cli.py``: ``synth_command``).
"""

from matching.synth.config import Noise, Rates
from matching.synth.exercise import Summary, generate

__all__ = ["Noise", "Rates", "Summary", "generate"]
