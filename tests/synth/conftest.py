"""A small synthetic exercise, written once per test session."""

from __future__ import annotations

import pytest
from synth_helpers import PEOPLE, SEED, Exercise

from matching.synth import generate


@pytest.fixture(scope="session")
def exercise(tmp_path_factory: pytest.TempPathFactory) -> Exercise:
    out = tmp_path_factory.mktemp("synth") / "exercise"
    summary = generate(PEOPLE, SEED, out, "csv")
    return Exercise(out, summary)
