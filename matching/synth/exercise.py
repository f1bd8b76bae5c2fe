"""``generate``: simulate the population in chunks, render every dataset per body, and write
the files, the truth, the manifest and the README of a synthetic exercise.
"""

from __future__ import annotations

import time
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matching.errors import UserError
from matching.specs import DatasetSpec, load_spec
from matching.synth import readme, truth
from matching.synth.config import JOB_KINDS, JOBS, Rates
from matching.synth.derive import DERIVE, assign_keys
from matching.synth.noise import NoiseLog, Renderer
from matching.synth.simulate import simulate
from matching.synth.styles import headers_for, style_for
from matching.synth.table import Table
from matching.synth.world import BODIES, World
from matching.synth.writers import EXTENSIONS, FORMATS, DatasetWriter, TruthWriter

CHUNK_PEOPLE = 250_000
# The order datasets are derived in (council tax before council tax reduction, which names
# the account) and written in the manifest.
KINDS = (
    "payroll", "pensions", "council_tax", "council_tax_reduction", "housing_benefit", "electoral_register",
    "housing_tenants", "housing_waiting_list", "right_to_buy", "blue_badges", "concessionary_travel",
    "resident_parking_permits", "deceased_persons", "student_loans", "pupils", "post16_learners",
    "school_admissions", "free_school_meals", "trade_creditors", "trade_creditor_payments", "person",
)
# Who holds which kind: councils hold most; DWP and the Student Loans Company the rest.
HOLDERS = {"housing_benefit": (3,), "deceased_persons": (3,), "student_loans": (4,), "person": (0, 1),
           "right_to_buy": (0, 1)}  # Windsor and Maidenhead transferred its homes to a housing association
PERSON_FILES = {"kingston": "customer_contacts", "richmond": "parking_customers"}
SELF_JOIN = {job for job, (left, right) in JOB_KINDS.items() if left == right}


@dataclass
class Summary:
    people: int
    seed: int
    out: Path
    format: str
    files: list[dict[str, Any]] = field(default_factory=list)
    planted: Counter = field(default_factory=Counter)
    inconsistencies: Counter = field(default_factory=Counter)
    hard_negatives: Counter = field(default_factory=Counter)
    invalid_rows: int = 0
    seconds: float = 0.0
    noise: NoiseLog = field(default_factory=NoiseLog)

    def to_json(self) -> dict[str, Any]:
        return {
            "people": self.people, "seed": self.seed, "out": str(self.out), "format": self.format,
            "files": self.files, "planted": dict(sorted(self.planted.items())),
            "inconsistencies": dict(sorted(self.inconsistencies.items())),
            "hard_negatives": dict(sorted(self.hard_negatives.items())), "invalid_rows": self.invalid_rows,
            "seconds": round(self.seconds, 1),
        }


def holders(kind: str) -> tuple[int, ...]:
    return HOLDERS.get(kind, (0, 1, 2))


def file_name(kind: str, body: str, fmt: str) -> str:
    stem = PERSON_FILES.get(body, kind) if kind == "person" else kind
    return f"{body}/{stem}.{EXTENSIONS[fmt]}"


def generate(people: int, seed: int, out: str | Path, fmt: str = "csv", bodies: tuple[str, ...] | None = None,
             rates: Rates | None = None, command: str | None = None, chunk_people: int = CHUNK_PEOPLE,
             progress: Callable[[str], None] | None = None) -> Summary:
    """Write a synthetic exercise of ``people`` people to ``out``; same arguments, same bytes."""
    if people < 100:
        raise UserError(f"--people {people}: make at least 100 people, so every dataset has records.")
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt}: unknown format.\n  Use one of: {', '.join(FORMATS)}")
    chosen = tuple(bodies) if bodies else BODIES
    unknown = [b for b in chosen if b not in BODIES]
    if unknown:
        raise UserError(f"--bodies: unknown body {unknown[0]!r}.\n  Use some of: {', '.join(BODIES)}")
    rates = rates or Rates()
    out = Path(out)
    _prepare(out)
    started = time.perf_counter()
    specs = {kind: load_spec(kind) for kind in KINDS}
    summary = Summary(people, seed, out, fmt)
    writers = Writers(out, fmt, specs)
    tw = {
        "inconsistencies": TruthWriter(out / "truth" / "inconsistencies.csv", [
            "job", "left_kind", "left_body", "left_record_id", "right_kind", "right_body", "right_record_id"]),
        "entities": TruthWriter(out / "truth" / "entities.csv", ["kind", "body", "record_id", "person_id", "property_id"]),
        "invalid": TruthWriter(out / "truth" / "invalid_rows.csv", ["kind", "body", "file", "row", "line", "record_id",
                                                                    "field", "what"]),
        "hard": TruthWriter(out / "truth" / "hard_negatives.csv", [
            "job", "left_kind", "left_body", "left_record_id", "right_kind", "right_body", "right_record_id", "why"]),
    }
    seq: dict[str, list[int]] = {"uprn": [0, 0, 0, 0], "person": [0]}
    n_chunks = (people + chunk_people - 1) // chunk_people
    try:
        for ci in range(n_chunks):
            n = min(chunk_people, people - ci * chunk_people)
            rng = np.random.default_rng([seed, ci])
            w = simulate(rng, n, seq, rates, ci)
            _write_chunk(w, specs, rates, seq, writers, tw, summary, chosen, seed, ci)
            if progress:
                progress(f"chunk {ci + 1}/{n_chunks}: {n:,} people")
            del w
    finally:
        writers.close()
        for t in tw.values():
            t.close()
    summary.files = [{"kind": kind, "body": BODIES[b], "file": file_name(kind, BODIES[b], fmt), "rows": wr.rows}
                     for (kind, b), wr in sorted(writers.open.items(), key=lambda kv: (KINDS.index(kv[0][0]), kv[0][1]))]
    summary.seconds = time.perf_counter() - started
    generated_by = command or f"matching synth --people {people} --seed {seed} --out {out} --format {fmt}"
    (out / "manifest.toml").write_text(readme.manifest(summary, generated_by), encoding="utf-8", newline="\n")
    (out / "README.md").write_text(readme.readme(summary, generated_by, rates), encoding="utf-8", newline="\n")
    return summary


class Writers:
    """One writer per (kind, body), opened when its first record arrives: a body with no
    records of a kind submits no file."""

    def __init__(self, out: Path, fmt: str, specs: dict[str, DatasetSpec]) -> None:
        self.out, self.fmt, self.specs = out, fmt, specs
        self.open: dict[tuple[str, int], DatasetWriter] = {}

    def get(self, kind: str, b: int) -> DatasetWriter:
        if (kind, b) not in self.open:
            style = style_for(BODIES[b], kind)
            self.open[(kind, b)] = DatasetWriter(self.out / file_name(kind, BODIES[b], self.fmt), self.fmt,
                                                 headers_for(self.specs[kind], BODIES[b], style), style.line_ending)
        return self.open[(kind, b)]

    def close(self) -> None:
        for wr in self.open.values():
            wr.close()


TRUTH_FILES = ("inconsistencies.csv", "entities.csv", "invalid_rows.csv", "hard_negatives.csv")


def _written_by_synth(out: Path) -> set[Path] | None:
    """The files an earlier ``matching synth`` wrote in ``out`` (from its manifest), or None
    when the folder's manifest is not one of synth's (an ``ingest-dir`` delivery has one too)."""
    try:
        manifest = tomllib.loads((out / "manifest.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    exercise, files = manifest.get("exercise"), manifest.get("files")
    if not isinstance(exercise, dict) or not str(exercise.get("generated_by", "")).startswith("matching synth") or not isinstance(files, list):
        return None
    listed = {Path(str(f.get("file", ""))) for f in files if isinstance(f, dict)}
    # And any file synth names, in any format: a run stopped part way leaves files the
    # manifest (written last) does not list.
    named = {Path(file_name(kind, body, fmt)) for kind in KINDS for body in BODIES for fmt in FORMATS}
    return listed | named | {Path("manifest.toml"), Path("README.md")} | {Path("truth") / name for name in TRUTH_FILES}


def _prepare(out: Path) -> None:
    """An empty folder, or the folder of an earlier exercise, whose files are replaced. A
    folder holding anything synth did not write is refused, never emptied: a delivery of
    real files for ``ingest-dir`` also has a manifest.toml."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: is a file, not a folder.\n  Give a new or empty folder for --out.")
    if out.exists() and any(out.iterdir()):
        previous = _written_by_synth(out)
        if previous is None:
            raise UserError(f"{out}: the folder is not empty and holds no exercise written by matching synth.\n"
                            "  Give a new or empty folder for --out.")
        others = sorted(str(p.relative_to(out)) for p in out.rglob("*") if not p.is_dir() and p.relative_to(out) not in previous)
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            raise UserError(f"{out}: holds an earlier exercise and files matching synth did not write ({shown}), "
                            "so it is not replaced.\n  Give a new or empty folder for --out, or move those files out.")
        for rel in previous:
            target = (out / rel).resolve()
            if target.is_relative_to(out.resolve()):  # a manifest naming ../x or /x deletes nothing outside
                target.unlink(missing_ok=True)
        for folder in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
    out.mkdir(parents=True, exist_ok=True)


def _write_chunk(w: World, specs: dict[str, DatasetSpec], rates: Rates, seq: dict[str, list[int]],
                 writers: Writers, tw: dict[str, TruthWriter], summary: Summary,
                 chosen: tuple[str, ...], seed: int, ci: int) -> None:
    pairs = truth.compute(w)
    _check_planted(w, pairs)
    truth_rows: dict[str, set[int]] = defaultdict(set)
    for _, lk, lr, rk, rr in pairs:
        truth_rows[lk].add(lr)
        truth_rows[rk].add(rr)
    ids: dict[str, dict[int, tuple[int, str]]] = {}
    invalid: dict[str, set[int]] = defaultdict(set)
    for kind in KINDS:
        table = w.tables.get(kind)
        if table is None:
            continue
        spec = specs[kind]
        rec = DERIVE[kind](w, table)
        assign_keys(w, kind, rec, spec.record_key, seq)
        order = np.lexsort((rec["_key"].astype(str),))
        rec = rec.take(order)
        ids[kind] = {int(r): (int(b), str(k)) for r, b, k in zip(rec["_row_id"], rec["_body"], rec["_key"], strict=True)}
        w.record_keys[kind] = {r: k for r, (_, k) in ids[kind].items()}
        if kind == "council_tax":
            w.ct_ref_by_addr = {int(a): str(k) for a, k in zip(rec["_addr"], rec["_key"], strict=True)}
        keep_safe = np.isin(rec["_row_id"], list(w.protected.get(kind, set()) | truth_rows.get(kind, set())))
        for b in holders(kind):
            if BODIES[b] not in chosen:
                continue
            mine = rec.take(rec["_body"] == b)
            if not len(mine):
                continue
            safe = keep_safe[rec["_body"] == b]
            body = BODIES[b]
            noise_rng = np.random.default_rng([seed, ci, 1_000 + KINDS.index(kind), b])
            renderer = Renderer(kind, body, spec, rates.noise(kind), style_for(body, kind), noise_rng, summary.noise,
                                w.addresses)
            cols = renderer.render(mine, safe & _rule_dates_protected(kind))
            writer = writers.get(kind, b)
            bad = _invalidate(kind, body, spec, cols, safe, rates.noise(kind).invalid, noise_rng, writer, tw)
            invalid[kind].update(int(r) for r in mine["_row_id"][bad])
            summary.invalid_rows += int(bad.sum())
            writer.write([list(cols[f.name]) for f in spec.fields])
            _entities(w, kind, body, mine, bad, tw["entities"])

    def ref(kind: str, row: int) -> tuple[str, str] | None:
        hit = ids.get(kind, {}).get(row)
        if hit is None or BODIES[hit[0]] not in chosen or row in invalid[kind]:
            return None
        return BODIES[hit[0]], hit[1]

    rows = []
    for job, lk, lr, rk, rr in pairs:
        left, right = ref(lk, lr), ref(rk, rr)
        if left and right:
            if job in SELF_JOIN and right < left:
                left, right = right, left
            rows.append((job, lk, *left, rk, *right))
            summary.inconsistencies[job] += 1
    tw["inconsistencies"].write(sorted(rows, key=lambda r: (JOBS.index(r[0]), r[1:])))
    for job, _lk, _lr, _rk, _rr in w.planted_pairs:
        summary.planted[job] += 1
    hard = []
    flagged = {(j, lk, lr, rk, rr) for j, lk, lr, rk, rr in pairs}
    for h in w.hard_negatives:
        if (h.job, h.left_kind, h.left_row, h.right_kind, h.right_row) in flagged or \
                (h.job, h.right_kind, h.right_row, h.left_kind, h.left_row) in flagged:
            continue  # cannot happen by construction; never list a flagged pair as a negative
        left, right = ref(h.left_kind, h.left_row), ref(h.right_kind, h.right_row)
        if left and right:
            if h.job in SELF_JOIN and right < left:
                left, right = right, left
            hard.append((h.job, h.left_kind, *left, h.right_kind, *right, h.why))
            summary.hard_negatives[h.job] += 1
    tw["hard"].write(sorted(hard, key=lambda r: (JOBS.index(r[0]), r[1:])))


def _check_planted(w: World, pairs: list[tuple[str, str, int, str, int]]) -> None:
    flagged = set(pairs) | {(j, rk, rr, lk, lr) for j, lk, lr, rk, rr in pairs}
    missing = [p for p in w.planted_pairs if p not in flagged]
    if missing:
        raise RuntimeError(f"planted inconsistencies the rules do not flag (a generator bug): {missing[:5]}")


def _rule_dates_protected(kind: str) -> bool:
    """Whether a protected record's date of birth must stay exact (it decides a rule)."""
    return kind in ("post16_learners", "electoral_register")


def _invalidate(kind: str, body: str, spec: DatasetSpec, cols: dict[str, np.ndarray], safe: np.ndarray, rate: float,
                rng: np.random.Generator, writer: DatasetWriter, tw: dict[str, TruthWriter]) -> np.ndarray:
    """Make a few records unusable (blank key or blank required field) and record which."""
    n = len(safe)
    bad = ~safe & (rng.random(n) < rate)
    required = [f.name for f in spec.required_fields if f.name != spec.record_key]
    target = "surname" if "surname" in required else (required[0] if required else spec.record_key)
    rows = []
    for i in np.flatnonzero(bad):
        key = str(cols[spec.record_key][i])
        blank_key = rng.random() < 0.5 or target == spec.record_key
        field_name = spec.record_key if blank_key else target
        cols[field_name][i] = ""
        row = writer.rows + int(i) + 1
        rows.append((kind, body, _rel(writer), row, row + 1, "" if blank_key else key,
                     field_name, f"blank {field_name} (required)"))
    tw["invalid"].write(rows)
    return bad


def _rel(writer: DatasetWriter) -> str:
    return f"{writer.path.parent.name}/{writer.path.name}"


def _entities(w: World, kind: str, body: str, rec: Table, bad: np.ndarray, out: TruthWriter) -> None:
    """Who and where each record is: its person and property, and a second row for a record
    holding a second person (a council tax account's joint liable person), who is as truly
    on it as the lead."""
    seq = w.people["person_seq"]
    uprn = w.addresses["uprn"]
    joint = rec["_joint"] if "_joint" in rec else None
    rows = []
    for i in np.flatnonzero(~bad):
        person = int(rec["_person"][i])
        addr = int(rec["_addr"][i])
        place = str(int(uprn[addr])) if addr >= 0 else ""
        rows.append((kind, body, str(rec["_key"][i]), f"P{int(seq[person]):09d}" if person >= 0 else "", place))
        if joint is not None and int(joint[i]) >= 0:
            rows.append((kind, body, str(rec["_key"][i]), f"P{int(seq[int(joint[i])]):09d}", place))
    out.write(rows)
