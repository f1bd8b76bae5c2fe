"""Investigators' decisions as Splink pairwise labels, for analysts to measure and retrain jobs.

Every outcome says whether the two records are the same person ("same", "not_same" or
"not_sure"). The latest outcome of each match becomes one row of a Splink labels table::

    source_dataset_l, unique_id_l, source_dataset_r, unique_id_r, clerical_match_score

named exactly as the engine names records when it links them (``matching.linkage.inputs``):
``unique_id`` is ``<body>/<record id>`` and ``source_dataset`` is the name the input table
is registered under, so the labels join to a job's Splink tables. Columns for the analyst
follow (job, match id, the label, the outcome category, and the match probability of the
latest run that found the pair: after a model is retrained, the pair's score under the model
now in use, which is what a threshold is chosen against).

``simulate_review`` records outcomes from a synthetic exercise's truth, so the whole loop
(run, review, export, measure, retrain) can be shown and tested on made-up people. It
refuses to write anywhere but a throwaway SQLite case store.

Django must be set up (``matching.casework.setup.use_workspace``) before this is imported.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from matching.casework import audit
from matching.casework.models import Match, Outcome, Status
from matching.casework.people import check_job
from matching.errors import UserError
from matching.workspace import replaced_atomically

FORMATS = ("csv", "parquet")
SCORES = {"same": 1.0, "not_same": 0.0, "not_sure": 0.5}  # LinkageLabel values
SPLINK_COLUMNS = ["source_dataset_l", "unique_id_l", "source_dataset_r", "unique_id_r", "clerical_match_score"]
ANALYST_COLUMNS = ["job", "match_id", "linkage_label", "outcome_category", "match_probability", "recorded_at"]
COLUMNS = SPLINK_COLUMNS + ANALYST_COLUMNS


def unique_id(body: str, record_id: str) -> str:
    """A record's Splink ``unique_id``, as ``load_records`` builds it: ``body || '/' || record_id``."""
    return f"{body}/{record_id}"


@dataclass(frozen=True)
class JobShape:
    """How a job's inputs are registered with Splink (``matching.linkage.inputs.linkage_tables``)."""

    within_body: bool  # one table, registered as "all" (dedupe_only: Splink ignores source_dataset)
    across_bodies: bool  # one table per body, registered under the body's code
    # otherwise: two tables, registered as "left" and "right"

    def source_dataset(self, side: str, body: str) -> str:
        from matching.evaluate.labels import source_dataset

        return source_dataset(self, side, body)


@cache
def job_shape(job: str, left_kind: str = "", right_kind: str = "") -> JobShape:
    """The job config's shape; for a job whose config is gone, the shape its records imply."""
    from matching.errors import ConfigError
    from matching.jobs.config import load_job

    try:
        config = load_job(job)
    except ConfigError:
        same_kind = left_kind == right_kind and bool(left_kind)
        return JobShape(within_body=False, across_bodies=same_kind)
    return JobShape(within_body=config.within_body, across_bodies=config.across_bodies)


def _latest_outcomes(job: str | None) -> Any:
    # A match's outcome stands while it is closed (as in exports): a reopened match's last one
    # is being looked at again, and is no label until the match is closed again.
    latest = Outcome.objects.filter(match=OuterRef("pk"), match__status=Status.CLOSED).order_by("-recorded_at", "-pk")
    qs = Match.objects.annotate(
        label=Subquery(latest.values("linkage_label")[:1]),
        category=Subquery(latest.values("category")[:1]),
        labelled_at=Subquery(latest.values("recorded_at")[:1]),
    ).filter(label__isnull=False)
    if job:
        qs = qs.filter(job=job)
    return qs.select_related("owning_body").order_by("job", "pk")


def labelled_pairs(job: str | None = None, *, include_unsure: bool = False) -> list[dict[str, Any]]:
    """One row per labelled pair (its match's latest outcome), in ``COLUMNS`` order, plus
    ``owning_body``. A job that gives each body its own match (``owning_body = "each"``) may
    have the pair labelled twice, once by each body: the later label stands, so the pair counts
    once in accuracy and training.

    "not sure" is left out unless ``include_unsure`` (then scored 0.5: Splink counts a score
    of 0.5 or more as a match, so analysts usually leave it out).
    """
    rows = []
    for m in _latest_outcomes(job).iterator(chunk_size=2000):
        if m.label == "not_sure" and not include_unsure:
            continue
        shape = job_shape(m.job, m.left_kind, m.right_kind)
        rows.append({
            "source_dataset_l": shape.source_dataset("left", m.left_body),
            "unique_id_l": unique_id(m.left_body, m.left_record_id),
            "source_dataset_r": shape.source_dataset("right", m.right_body),
            "unique_id_r": unique_id(m.right_body, m.right_record_id),
            "clerical_match_score": SCORES[m.label],
            "job": m.job,
            "match_id": m.pk,
            "linkage_label": m.label,
            "outcome_category": m.category,
            "match_probability": m.match_probability,
            "recorded_at": m.labelled_at,
            "owning_body": m.owning_body.code,
        })
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["job"], row["source_dataset_l"], row["unique_id_l"], row["source_dataset_r"], row["unique_id_r"])
        if key not in latest or (row["recorded_at"], row["match_id"]) > (latest[key]["recorded_at"], latest[key]["match_id"]):
            latest[key] = row
    kept = {id(r) for r in latest.values()}
    return [r for r in rows if id(r) in kept]


@dataclass(frozen=True)
class LabelsExport:
    path: Path
    format: str
    rows: int
    by_label: dict[str, int] = field(default_factory=dict)
    jobs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format, "rows": self.rows,
                "by_label": self.by_label, "jobs": self.jobs}


def _format(path: Path, fmt: str | None) -> str:
    chosen = fmt or ("parquet" if path.suffix.lower() == ".parquet" else "csv")
    if chosen not in FORMATS:
        raise UserError(f"--format {chosen}: labels are written as {' or '.join(FORMATS)}.")
    return chosen


def _write(path: Path, fmt: str, rows: list[dict[str, Any]]) -> None:
    with replaced_atomically(path) as tmp:
        if fmt == "csv":
            # Ids are written exactly as submitted (no spreadsheet quoting): the file is for
            # Splink and DuckDB, and an altered id would no longer join to its record.
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
                writer.writeheader()
                for row in rows:
                    writer.writerow({**row, "recorded_at": row["recorded_at"].isoformat() if row["recorded_at"] else ""})
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema([
                *((c, pa.string()) for c in SPLINK_COLUMNS[:4]), ("clerical_match_score", pa.float64()),
                ("job", pa.string()), ("match_id", pa.int64()), ("linkage_label", pa.string()),
                ("outcome_category", pa.string()), ("match_probability", pa.float64()),
                ("recorded_at", pa.timestamp("us", tz="UTC")),
            ])
            table = pa.Table.from_pylist([{c: r[c] for c in COLUMNS} for r in rows], schema=schema)
            pq.write_table(table, str(tmp))


def export_labels(out: str | os.PathLike[str], *, job: str | None = None, fmt: str | None = None,
                  include_unsure: bool = False, actor: Any = "cli") -> LabelsExport:
    """Write the investigators' linkage labels (of one job, or all) to ``out`` as CSV or Parquet.

    The format follows ``fmt``, else the file's suffix (``.parquet``), else CSV. One
    "labels_export" audit event is written per body whose matches are in the file.
    """
    path = Path(out)
    chosen = _format(path, fmt)
    check_job(job)
    with transaction.atomic():
        rows = labelled_pairs(job, include_unsure=include_unsure)
        _write(path, chosen, rows)
        by_label = dict(sorted(Counter(r["linkage_label"] for r in rows).items()))
        per_body = Counter(r["owning_body"] for r in rows) or Counter({"": 0})
        for body, n in sorted(per_body.items()):
            audit.record(actor, "labels_export", object_type="labels", body=body, detail={
                "job": job, "format": chosen, "rows": len(rows), "rows_of_body": n,
                "include_unsure": include_unsure, "by_label": by_label,
            })
    return LabelsExport(path=path, format=chosen, rows=len(rows), by_label=by_label,
                        jobs=sorted({r["job"] for r in rows}))


# -- a synthetic exercise's review -----------------------------------------------------------

REVIEWER = "simulated-reviewer"


@dataclass(frozen=True)
class SimulatedReview:
    run_id: str
    matches: int
    by_label: dict[str, int]


def _truth_entities(truth: Path, subject: str) -> dict[tuple[str, str, str], set[str]]:
    """(kind, body, record id) -> the people (or property) the record truly describes: a
    council tax account holds its joint liable person as truly as its lead."""
    path = truth / "truth" / "entities.csv"
    if not path.exists():
        path = truth / "entities.csv"
    if not path.exists():
        raise UserError(f"{truth}: no truth/entities.csv: only a synthetic exercise (matching synth) has truth to review from.")
    column = "property_id" if subject == "property" else "person_id"
    found: dict[tuple[str, str, str], set[str]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r.get(column):
                found.setdefault((r["kind"], r["body"], r["record_id"]), set()).add(r[column])
    return found


def _truth_inconsistencies(truth: Path, job: str) -> set[tuple[str, str, str, str]]:
    path = truth / "truth" / "inconsistencies.csv"
    if not path.exists():
        path = truth / "inconsistencies.csv"
    if not path.exists():
        return set()
    with path.open(encoding="utf-8", newline="") as fh:
        return {(r["left_body"], r["left_record_id"], r["right_body"], r["right_record_id"])
                for r in csv.DictReader(fh) if r["job"] == job}


def _require_throwaway_store(workspace: Path) -> None:
    from django.conf import settings
    from django.db import connection

    name = Path(str(settings.DATABASES["default"]["NAME"]))
    if connection.vendor != "sqlite" or not name.resolve().is_relative_to(workspace.resolve()):
        raise UserError(
            f"A simulated review writes made-up outcomes, so it runs only on a throwaway SQLite case "
            f"store inside {workspace} (this process uses {connection.vendor} at {name}).\n"
            "  Fix: unset DATABASE_URL and call use_workspace() on a new, empty workspace first."
        )


def simulate_review(workspace: str | os.PathLike[str], run_dir: str | os.PathLike[str],
                    truth: str | os.PathLike[str]) -> SimulatedReview:
    """Publish a run into ``workspace``'s (throwaway) case store and close every match as a
    reviewer would, from the synthetic exercise's truth: "same" when both records describe the
    same person (or property), "not_same" when they do not, "not_sure" when the truth does
    not know one of them; outcome "error" for a planted inconsistency, else "no_issue"."""
    from django.contrib.auth.models import User

    from matching.casework import lifecycle
    from matching.casework.models import Body, Declaration, Exercise, Membership, Role
    from matching.casework.publish import publish
    from matching.jobs.config import load_job
    from matching.workspace import Workspace

    ws = Workspace.at(workspace)
    _require_throwaway_store(ws.root)
    source = Path(run_dir)
    if not (source / "manifest.json").is_file():
        raise UserError(f"{source}: not a run bundle (no manifest.json).")
    target = ws.runs / source.name
    if not target.exists():
        shutil.copytree(source, target)
    result = publish(ws, source.name, actor=REVIEWER)
    # One made-up key contact of every body closes the matches (key contacts may work any
    # match of their body); every body is declared so its matches are released.
    reviewer = User.objects.filter(username=REVIEWER).first() or User.objects.create_user(REVIEWER)
    for body in Body.objects.all():
        Membership.objects.get_or_create(user=reviewer, body=body, defaults={"role": Role.KEY_CONTACT})
        for exercise in Exercise.objects.all():
            Declaration.objects.get_or_create(body=body, exercise=exercise, defaults={"declared_by": REVIEWER})
    subject = load_job(result.job).subject
    entities = _truth_entities(Path(truth), subject)
    planted = _truth_inconsistencies(Path(truth), result.job)
    labels: Counter[str] = Counter()
    for match in Match.objects.filter(last_run__run_id=source.name, status__in=["new", "in_progress"]).order_by("pk"):
        left = entities.get((match.left_kind, match.left_body, match.left_record_id))
        right = entities.get((match.right_kind, match.right_body, match.right_record_id))
        label = "not_sure" if left is None or right is None else ("same" if left & right else "not_same")
        key = (match.left_body, match.left_record_id, match.right_body, match.right_record_id)
        # A planted inconsistency is an error unless the records are of different people; a
        # transaction job's (duplicate payments) records name no person, and are still one.
        category = "error" if key in planted and label != "not_same" else "no_issue"
        lifecycle.record_outcome(match, reviewer, lifecycle.OutcomeInput(
            category=category, linkage_label=label, note="Simulated from the synthetic exercise's truth."),
            match.version)
        labels[label] += 1
    return SimulatedReview(run_id=source.name, matches=sum(labels.values()), by_label=dict(sorted(labels.items())))
