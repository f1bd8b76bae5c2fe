"""The written exercise ingests with exactly the planted invalid rows rejected, and nothing else."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
from synth_helpers import Exercise

from matching.ingest.pipeline import ingest_file


@pytest.mark.slow
def test_ingest_rejects_exactly_the_planted_invalid_rows(exercise: Exercise, tmp_path: Path) -> None:
    expected: dict[str, dict[int, str]] = defaultdict(dict)
    for r in exercise.truth("invalid_rows"):
        expected[r["file"]][int(r["row"])] = r["field"]
    for f in exercise.manifest["files"]:
        result = ingest_file(f["kind"], exercise.out / f["file"], body=f["body"], workspace=tmp_path / "ws")
        s = result.submission
        assert s.rows_read == f["rows"], f["file"]
        with Path(s.rejects_path).open(encoding="utf-8", newline="") as fh:
            rejected = {int(r["row"]): r["field"] for r in csv.DictReader(fh)}
        assert rejected == expected[f["file"]], f["file"]
        assert s.rows_loaded == f["rows"] - len(expected[f["file"]])
