"""Retention: delete an exercise's data and matches once it is past keeping, and say so.

``purge`` removes everything older than a date, in two parts:

- the case store: matches (with their outcomes and notes), what runs set aside, runs,
  submissions, declarations and the exercises themselves, for exercises whose ``as_at`` is before the date, in one
  transaction that also writes ONE audit event "purge" with the counts;
- the workspace files, after that transaction commits: run bundles of those runs and any
  bundle whose manifest's ``as_at`` is before the date, and the standardised datasets,
  rejects files and submission records of submissions extracted before the date.

What a later exercise still uses stays: a match a later run saw again moves to that run's
exercise (with its outcomes and notes), and a submission a later run was made from (in the
case store, or in the inputs of a bundle that stays) keeps its files and moves likewise.

The audit trail is never purged: its events name records by id and hold no personal data.
If the process stops between the two parts, running the purge again finishes the files.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from matching.casework import audit
from matching.casework.models import (
    Declaration,
    Exercise,
    Match,
    Note,
    Outcome,
    Run,
    SetAside,
    Submission,
)
from matching.workspace import Workspace, leftovers, read_run_manifest, remove_leftovers


@dataclass
class PurgeResult:
    before: date
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    bundles: list[Path] = field(default_factory=list)
    dataset_files: list[Path] = field(default_factory=list)
    rejects_files: list[Path] = field(default_factory=list)
    submission_records: list[Path] = field(default_factory=list)
    # Files in the workspace that no exercise accounts for (notebooks' charts, exports saved
    # there): not purged, since nothing says what they hold, but named so a person can judge.
    not_managed: list[Path] = field(default_factory=list)
    # What processes killed mid-work left (partial runs, spill folders, half-written files),
    # whatever their date: nothing will finish them, and they hold records.
    leftovers: list[Path] = field(default_factory=list)

    def file_counts(self) -> dict[str, int]:
        return {"run_bundles": len(self.bundles), "dataset_files": len(self.dataset_files),
                "rejects_files": len(self.rejects_files), "submission_records": len(self.submission_records),
                "left_by_interrupted_work": len(self.leftovers)}

    def as_dict(self) -> dict[str, Any]:
        return {"before": self.before.isoformat(), "dry_run": self.dry_run,
                "case_store": self.counts, "files": self.file_counts(),
                "not_purged_files": [str(p) for p in self.not_managed]}


# What the engine keeps in a workspace and accounts for by exercise (or holds no personal data).
MANAGED = {"datasets", "rejects", "runs", "submissions", "models", "tmp", "casework.sqlite3",
           "casework.sqlite3-wal", "casework.sqlite3-shm", "secret_key"}


def _not_managed(ws: Workspace) -> list[Path]:
    if not ws.root.is_dir():
        return []
    return sorted(p for top in ws.root.iterdir() if top.name not in MANAGED and not top.name.startswith(".")
                  for p in ([top] if top.is_file() else top.rglob("*")) if p.is_file())


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path`` is within ``root``: a purge never deletes outside the workspace."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _as_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _old_bundles(ws: Workspace, before: date, run_paths: list[str]) -> list[Path]:
    found: dict[Path, None] = {}
    for p in run_paths:
        path = Path(p)
        if path.is_dir() and _inside(path, ws.runs):
            found[path] = None
    if ws.runs.is_dir():
        for path in ws.run_folders():  # not a .partial- run: one finishing has a manifest already
            manifest = path / "manifest.json"
            if not manifest.is_file():
                continue
            try:
                as_at = _as_date(json.loads(manifest.read_text(encoding="utf-8")).get("as_at"))
            except (OSError, ValueError):
                continue  # a damaged bundle is not ours to judge by date
            if as_at is not None and as_at < before:
                found[path] = None
    return list(found)


def _inputs_of_kept_bundles(ws: Workspace, purged: list[Path]) -> set[str]:
    """The submissions every bundle that stays was made from: their files stay too."""
    gone = {p.resolve() for p in purged}
    needed: set[str] = set()
    for path in ws.run_folders():
        manifest = read_run_manifest(path) if path.resolve() not in gone else None
        if manifest is not None:
            needed |= {str(i.get("submission_id")) for i in manifest.get("inputs") or [] if isinstance(i, dict)}
    return needed


def _old_submission_files(ws: Workspace, before: date, result: PurgeResult, needed: set[str]) -> None:
    if not ws.submissions.is_dir():
        return
    for record in sorted(ws.submissions.glob("*.json")):
        try:
            sub = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        extracted = _as_date(sub.get("extract_date")) or _as_date(sub.get("received_at"))
        if extracted is None or extracted >= before:
            continue
        sid = sub.get("submission_id") or record.stem
        if sid in needed:
            continue  # a later exercise's run was made from it
        # Where this workspace keeps the files, not the path recorded when they were written: a
        # workspace copied or moved elsewhere would otherwise keep its own copies past retention.
        known = sub.get("kind") and sub.get("body")
        dataset = ws.dataset_path(sub["kind"], sub["body"], sid) if known else Path(sub.get("dataset_path") or ws.root / "-")
        rejects = ws.rejects_path(sid)
        if dataset.is_file() and _inside(dataset, ws.root):
            result.dataset_files.append(dataset)
        if rejects.is_file() and _inside(rejects, ws.root):
            result.rejects_files.append(rejects)
        result.submission_records.append(record)


def purge(workspace: Workspace, before: date, actor: Any, *, dry_run: bool = False) -> PurgeResult:
    """Delete the case store's rows and the workspace's files older than ``before``.

    With ``dry_run`` nothing is deleted and no event recorded; the result says what would be.
    """
    result = PurgeResult(before=before, dry_run=dry_run)
    exercises = Exercise.objects.filter(as_at__lt=before)
    with transaction.atomic():
        runs = Run.objects.filter(exercise__in=exercises)
        kept_runs = Run.objects.exclude(exercise__in=exercises)
        # A match a later exercise's run saw again, and a submission a later run was made
        # from, belong to that exercise now: they stay, and move to it.
        kept_matches = Match.objects.filter(exercise__in=exercises, last_run__in=kept_runs)
        matches = Match.objects.filter(exercise__in=exercises).exclude(pk__in=kept_matches.values("pk"))
        kept_subs = Submission.objects.filter(exercise__in=exercises, runs__in=kept_runs).distinct()
        subs = Submission.objects.filter(exercise__in=exercises).exclude(pk__in=kept_subs.values("pk"))
        run_paths = list(runs.values_list("bundle_path", flat=True))
        result.counts = {
            "exercises": exercises.count(),
            "matches": matches.count(),
            "matches_kept_for_a_later_exercise": kept_matches.count(),
            "outcomes": Outcome.objects.filter(match__in=matches).count(),
            "notes": Note.objects.filter(match__in=matches).count(),
            "runs": runs.count(),
            "set_aside": SetAside.objects.filter(exercise__in=exercises).count(),
            "submissions": subs.count(),
            "declarations": Declaration.objects.filter(exercise__in=exercises).count(),
        }
        result.bundles = _old_bundles(workspace, before, run_paths)
        needed = _inputs_of_kept_bundles(workspace, result.bundles) | set(
            Submission.objects.filter(runs__in=kept_runs).values_list("submission_id", flat=True))
        _old_submission_files(workspace, before, result, needed)
        result.not_managed = _not_managed(workspace)
        result.leftovers = leftovers(workspace)
        if dry_run:
            return result
        exercise_dates = sorted(d.isoformat() for d in exercises.values_list("as_at", flat=True))
        # Every body whose matches, records or submissions go sees the purge in its trail.
        concerned = set(matches.values_list("owning_body__code", flat=True)) | {
            b for pair in matches.values_list("left_body", "right_body") for b in pair if b
        } | set(subs.values_list("body__code", flat=True)) | set(kept_matches.values_list("owning_body__code", flat=True))
        later_run = Run.objects.filter(pk=OuterRef("last_run_id")).values("exercise_id")[:1]
        kept_matches.update(exercise_id=Subquery(later_run))
        later_use = Run.objects.filter(submissions=OuterRef("pk")).exclude(exercise__in=exercises).order_by("exercise__as_at")
        kept_subs_ids = list(kept_subs.values_list("pk", flat=True))
        Submission.objects.filter(pk__in=kept_subs_ids).update(exercise_id=Subquery(later_use.values("exercise_id")[:1]))
        Outcome.objects.filter(match__in=matches).delete()
        Note.objects.filter(match__in=matches).delete()
        matches.delete()
        runs.delete()  # and what they set aside
        subs.delete()
        Declaration.objects.filter(exercise__in=exercises).delete()
        exercises.delete()
        detail = {"before": before.isoformat(), "exercise_dates": exercise_dates, **result.counts, **result.file_counts()}
        audit.record_many(actor, "purge", [(body, detail, "retention", "") for body in sorted(concerned) or [""]])
    for bundle in result.bundles:
        shutil.rmtree(bundle, ignore_errors=True)
    for path in [*result.dataset_files, *result.rejects_files, *result.submission_records]:
        path.unlink(missing_ok=True)
    remove_leftovers(workspace, result.leftovers)
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        # Deleted rows can linger in the write-ahead log and free pages: fold the log into
        # the database (secure_delete, set for every connection, has zeroed the pages).
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return result
