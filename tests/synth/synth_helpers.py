"""Readers for a written synthetic exercise (the session fixture is in conftest.py).

The readers map each file's headers with the ingest's own header mapping, so the tests see
the files as ingest does, not as the generator meant them.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from matching.ingest.headers import map_headers
from matching.specs import load_spec
from matching.synth import Summary

PEOPLE = 2000
SEED = 20261129
MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def parse_date(text: str) -> dt.date | None:
    """The date forms the exercise writes: dd/mm/yyyy, dd-mm-yyyy, yyyy-mm-dd, ddmmyyyy, d Mon yyyy."""
    s = text.strip()
    if not s:
        return None
    if m := re.fullmatch(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})", s):
        return dt.date(int(m[3]), int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s):
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})(\d{2})(\d{4})", s):
        return dt.date(int(m[3]), int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(\d{1,2}) ([A-Za-z]{3}) (\d{4})", s):
        return dt.date(int(m[3]), MONTHS[m[2].lower()], int(m[1]))
    raise ValueError(f"not a date the exercise writes: {text!r}")


def parse_pence(text: str) -> int | None:
    s = text.strip()
    if not s:
        return None
    if s.startswith("£") or "." in s:
        return round(float(s.lstrip("£")) * 100)
    return int(s)


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


@dataclass
class Exercise:
    out: Path
    summary: Summary
    _cache: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    @cached_property
    def manifest(self) -> dict:
        return tomllib.loads((self.out / "manifest.toml").read_text(encoding="utf-8"))

    def files(self, kind: str | None = None) -> list[dict]:
        return [f for f in self.manifest["files"] if kind is None or f["kind"] == kind]

    def rows(self, file: str) -> tuple[list[str], list[list[str]]]:
        with (self.out / file).open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            return header, list(reader)

    def records(self, kind: str, body: str) -> dict[str, dict[str, str]]:
        """Records of one file by record key, with values by spec field name."""
        key = f"{kind}/{body}"
        if key not in self._cache:
            spec = load_spec(kind)
            entry = next(f for f in self.files(kind) if f["body"] == body)
            header, rows = self.rows(entry["file"])
            mapping = map_headers(spec, header, entry["file"])
            out = {}
            for row in rows:
                rec = {name: row[i] for name, i in mapping.columns.items()}
                if rec[spec.record_key].strip():
                    out[rec[spec.record_key].strip()] = rec
            self._cache[key] = out
        return self._cache[key]

    def truth(self, name: str) -> list[dict[str, str]]:
        with (self.out / "truth" / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    @cached_property
    def entities(self) -> dict[tuple[str, str, str], dict[str, str]]:
        found: dict[tuple[str, str, str], dict[str, str]] = {}
        for e in self.truth("entities"):  # a joint liable person is a second row: the lead comes first
            found.setdefault((e["kind"], e["body"], e["record_id"]), e)
        return found
