"""The engine reports inconsistencies for investigation; it never calls a match fraud."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Where the word may appear: the counter-fraud field's name, the statement that a match is
# not evidence of fraud, and the statutory outcome categories a person records.
ALLOWED = re.compile(
    r"counter[- ]?fraud|not (?:evidence|a finding) of fraud|never (?:a finding of|calls a match|says) fraud|"
    r"fraud, error or|fraud or error|outcome|categor|FRAUD *=|[\"']fraud[\"']|fraud_|no .fraud. |only a person",
    re.IGNORECASE,
)


def test_job_configs_never_say_fraud() -> None:
    """Every "fraud" in a job config is part of an allowed phrase: one such phrase does not
    excuse the word elsewhere in the file, or elsewhere on its line."""
    offenders = []
    for path in sorted((ROOT / "configs" / "jobs").rglob("*.toml")):
        data = tomllib.loads(path.read_text())
        for key in ("title", "description"):
            assert "fraud" not in str(data.get(key, "")).lower(), f"{path.name}: {key}"
        assert "fraud" not in str(data.get("rule", {}).get("explanation", "")).lower(), path.name
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "fraud" in ALLOWED.sub("", line).lower():
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_engine_source_only_says_fraud_where_allowed() -> None:
    offenders = []
    for path in sorted((ROOT / "matching").rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "fraud" in line.lower() and not ALLOWED.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
