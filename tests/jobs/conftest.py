"""Fixtures shared by the job tests."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from matching.ingest import ingest_file
from matching.workspace import Workspace

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
# Kinds enough for one job of each shape of linkage: two kinds (hb-to-deceased, person-link),
# one kind across bodies (payroll-to-payroll), duplicates within a body (duplicate-payments).
SAMPLE_KINDS = {"payroll", "trade_creditor_payments", "person", "housing_benefit", "deceased_persons"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A workspace with the sample exercise's files of ``SAMPLE_KINDS`` ingested."""
    ws = tmp_path_factory.mktemp("ws")
    for f in tomllib.loads((SAMPLE / "manifest.toml").read_text())["files"]:
        if f["kind"] in SAMPLE_KINDS:
            ingest_file(f["kind"], SAMPLE / f["file"], body=f["body"], workspace=ws)
    return Workspace.at(ws)
