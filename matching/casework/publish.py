"""Publish a run bundle into the case store, in one transaction.

Each inconsistency becomes a match keyed by the job and both records' keys (dataset kind,
body and record id; never the submission, which changes with every file). Publishing a
later run of the same job:

- a key not seen before → a **new** match;
- an open match (new or in progress) → updated in place with the latest records,
  explanation and priority: never a duplicate;
- a closed match whose two records are unchanged → **stays closed**, marked as seen again
  (so the key contact can see it is still inconsistent);
- a closed match where either record changed (any field value of either record differs
  from the values it was closed on: a later payment date, a new address, a different
  amount) → **reopened** as new, keeping its allocation and its outcome history, with an
  audit event saying which run reopened it. The same data submitted again never reopens;
- an open match the run looked for and did not find (both its records' bodies were among the
  run's inputs, and the run covered its owning body) → marked **not found** by that run (a
  record may have been corrected since), until a later run finds it again.

An open match whose records, explanation, priority, probability or contributions changed
gets a new version (so an investigator's form opened before is refused, not applied to what
they did not see, and told which publish changed it: ``lifecycle.Conflict``); one the run
found unchanged keeps its version. No event is written for each match updated: a run a day
later moves every duration, so every open match, and the publish event in each body's trail
says what it did. A run older than one of the same job already published (for the same
bodies) is refused: it would put older records back over newer ones, and reopen matches
closed since.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from matching.casework import audit
from matching.casework.bulk import insert_rows, update_rows
from matching.casework.models import (
    Body,
    Exercise,
    Match,
    Run,
    SetAside,
    Status,
    Submission,
    record_text,
)
from matching.casework.shown_money import MoneyFields
from matching.errors import UserError
from matching.workspace import Workspace, load_run_manifest, read_run_manifest

OPEN_FIELDS = [
    "left_submission_id", "right_submission_id", "left_record", "right_record", "left_text", "right_text",
    "records_fingerprint", "explanation", "contributions", "match_probability", "match_weight",
    "priority_score", "priority_band", "last_run_id", "last_seen_at", "times_seen", "version",
    "updated_at", "job_title", "exercise_id", "not_found_by_id",
]
SEEN_FIELDS = ["last_run_id", "last_seen_at", "times_seen", "seen_since_closed", "not_found_by_id"]
NOT_FOUND_FIELDS = ["not_found_by_id", "version", "updated_at"]
# The columns of inconsistencies.parquet that publishing reads (contributions may be absent).
INCONSISTENCY_COLUMNS = (
    "owning_body", "left_kind", "left_body", "left_submission_id", "left_record_id", "right_kind", "right_body",
    "right_submission_id", "right_record_id", "match_probability", "match_weight", "explanation",
    "priority_score", "priority_band", "left_record", "right_record",
)
REOPEN_FIELDS = [*OPEN_FIELDS, "status", "closed_at", "times_reopened", "seen_since_closed"]


@dataclass(frozen=True)
class PublishResult:
    run_id: str
    job: str
    inconsistencies: int
    new: int
    updated: int
    seen_again: int
    reopened: int
    bodies: list[str]
    seconds: float
    set_aside: int = 0
    not_found: int = 0  # open matches the run looked for and did not find

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def match_key(job: str, row: dict[str, Any], *, per_owner: bool = False) -> str:
    """The match's identity: the job and both records' keys (and, for a job whose pairs are an
    inconsistency for each body, ``owning_body = "each"``, the body it is for)."""
    left = (row["left_kind"], row["left_body"], str(row["left_record_id"]))
    right = (row["right_kind"], row["right_body"], str(row["right_record_id"]))
    if left[0] == right[0] and right < left:
        left, right = right, left  # a dataset linked to itself: the pair has no direction
    parts = (job, *left, *right, *((str(row["owning_body"]),) if per_owner else ()))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _adopt_one_owner_matches(job: str, rows: list[dict[str, Any]], existing: dict[str, dict[str, Any]],
                             body_codes: dict[int, str]) -> None:
    """A job that now makes an inconsistency for each body: its matches published before, one
    per pair keyed without the owner, become the owner's own match (re-keyed), so the owner
    keeps its allocation, outcomes and history and the other body gets a new match."""
    for row in rows:
        key, legacy = match_key(job, row, per_owner=True), match_key(job, row)
        old = existing.get(legacy)
        if key in existing or old is None or body_codes.get(old["owning_body_id"]) != row["owning_body"]:
            continue
        Match.objects.filter(pk=old["id"]).update(key=key)
        existing[key] = {**existing.pop(legacy), "key": key}


def records_fingerprint(left: dict[str, Any], right: dict[str, Any]) -> str:
    blob = json.dumps([left, right], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _bundle(workspace: Workspace, run_id: str) -> tuple[Path, dict[str, Any]]:
    path = workspace.runs / run_id
    manifest_path = path / "manifest.json"
    if not run_id.startswith(".") and "/" not in run_id and path.is_dir() and not manifest_path.exists():
        raise UserError(
            f"{path}: the run folder has no manifest.json, so the run did not finish or its bundle is damaged. "
            "Nothing was published.\n  Fix: run the job again (matching run JOB), and remove this folder."
        )
    if run_id.startswith(".") or not manifest_path.is_file():
        known = ", ".join(unpublished(workspace)[:5]) or "none"
        raise UserError(
            f"No run bundle {run_id!r} in {workspace.runs}. Run a job first (matching run JOB), "
            f"or give one of the unpublished runs: {known}."
        )
    manifest = load_run_manifest(path)
    if manifest.get("review") is False:
        raise UserError(
            f"Run {run_id} is of {manifest.get('job')}, an analysts' link (review = false in its job "
            "config): its pairs are not inconsistencies for investigators, so it is not published."
        )
    if not (path / "inconsistencies.parquet").is_file():
        raise UserError(f"{path}: inconsistencies.parquet is missing; the bundle is damaged, run the job again.")
    return path, manifest


def unpublished(workspace: Workspace) -> list[str]:
    """Run ids in the workspace not yet in the case store, oldest first (analysts' links,
    whose job says ``review = false``, are never queued)."""
    on_disk = [p.name for p in workspace.run_folders() if (p / "manifest.json").is_file() and _for_review(p)]
    done = set(Run.objects.filter(run_id__in=on_disk).values_list("run_id", flat=True))
    return [r for r in on_disk if r not in done]


def without_manifest(workspace: Workspace) -> list[str]:
    """Run folders with no manifest.json: a run that did not finish (killed before its
    bundle was complete) or a damaged bundle. Never published; named so that nobody takes
    them for published."""
    return [p.name for p in workspace.run_folders() if not (p / "manifest.json").exists()]


def _for_review(folder: Path) -> bool:
    manifest = read_run_manifest(folder)
    return manifest is None or manifest.get("review", True) is not False  # publish names any damage


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _json(value: Any, default: Any) -> Any:
    if value is None:
        return default
    if isinstance(value, str):
        return json.loads(value)
    return value


# set_aside.parquet's columns that publishing keeps (and also_linked_right_submission_id, which
# bundles written before 30 November 2026 lack).
SET_ASIDE_COLUMNS = (
    "owning_body", "left_kind", "left_body", "left_submission_id", "left_record_id", "right_kind", "right_body",
    "right_submission_id", "right_record_id", "match_probability", "explanation", "also_linked_right_body",
    "also_linked_right_record_id", "also_linked_match_probability",
)


def _read_bundle_file(file: Path, columns: tuple[str, ...], may_be_empty: tuple[str, ...] = ()
                      ) -> tuple[list[dict[str, Any]], str]:
    """A bundle file's rows, each with a value in every one of ``columns`` (but ``may_be_empty``),
    or a UserError naming what is wrong; and the message pattern for what the caller finds."""
    damaged = f"{file}: {{}}; the bundle is damaged, run the job again. Nothing was published."
    try:
        table = pq.read_table(file)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise UserError(damaged.format(f"cannot be read ({exc})")) from exc
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise UserError(damaged.format(f"no column {', '.join(missing)}"))
    rows = table.to_pylist()
    for n, row in enumerate(rows, start=1):
        empty = [c for c in columns if c not in may_be_empty and (row[c] is None or not str(row[c]).strip())]
        if empty:
            raise UserError(damaged.format(f"row {n} has no {', '.join(empty)}"))
    return rows, damaged


def _set_aside_rows(path: Path, body: str | None) -> list[dict[str, Any]]:
    """set_aside.parquet's rows (none when the run set nothing aside), or a UserError naming
    what is wrong with the file. A run for one ``body`` sets aside only that body's."""
    if not path.is_file():
        return []
    rows, damaged = _read_bundle_file(path, SET_ASIDE_COLUMNS)
    for n, row in enumerate(rows, start=1):
        for c in ("match_probability", "also_linked_match_probability"):
            value = row[c]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise UserError(damaged.format(f"row {n}: {c} {value!r} is not a probability"))
        if body and row["owning_body"] != body:
            raise UserError(damaged.format(f"row {n} belongs to {row['owning_body']}, in a run for {body} alone"))
        for c in SET_ASIDE_COLUMNS:
            if c not in ("match_probability", "also_linked_match_probability"):
                row[c] = str(row[c])
    return rows


class OlderRun(UserError):
    """A run older than one of the same job already published, for the same bodies."""


def _covers(a: str | None, b: str | None) -> bool:
    """Whether two runs' scopes (the body of ``run --body``, or None for every body) meet."""
    return a is None or b is None or a == b


def _newer_published(job: str, created: datetime, run_id: str, body: str | None) -> Run | None:
    """The newest run of ``job`` already published, made after ``created`` (or in the same
    second, with a later run id: a second run in one second is "<id>-2"), whose bodies meet
    ``body``'s: publishing an older run over it would put its older records back."""
    later = (Run.objects.filter(job=job).filter(Q(created_at__gt=created) | Q(created_at=created, run_id__gt=run_id))
             .order_by("-created_at", "-run_id").only("run_id", "created_at", "manifest"))
    return next((r for r in later if _covers((r.manifest or {}).get("body"), body)), None)


def _lock_job(job: str) -> None:
    """Publishing one job at a time, until the transaction ends: the check for a newer run and
    the writes it guards cannot interleave with another publish of the job. (SQLite's
    transactions already take the database's write lock at their start.)"""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"publish:{job}".encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _keyed_per_owner(job: str, m: dict[str, Any], body_codes: dict[int, str]) -> bool:
    """Whether a match is one body's own match of its pair (``owning_body = "each"``)."""
    row = {**m, "owning_body": body_codes.get(m["owning_body_id"], "")}
    return bool(m["key"] == match_key(job, row, per_owner=True))


def _created_at(manifest: dict[str, Any], path: Path) -> datetime:
    try:
        created = datetime.fromisoformat(str(manifest["created_at"]))
    except (KeyError, ValueError):
        raise UserError(
            f"{path / 'manifest.json'}: created_at {manifest.get('created_at')!r} is not a date and time; the bundle "
            "is damaged, run the job again. Nothing was published."
        ) from None
    return created if created.tzinfo else created.replace(tzinfo=timezone.get_default_timezone())


def _inconsistency_rows(path: Path) -> list[dict[str, Any]]:
    """inconsistencies.parquet's rows, each record and contribution list read from its JSON, or a
    UserError naming what is wrong with the file."""
    rows, damaged = _read_bundle_file(path / "inconsistencies.parquet", INCONSISTENCY_COLUMNS,
                                      may_be_empty=("left_record", "right_record"))
    for n, row in enumerate(rows, start=1):
        try:
            row["left_record"], row["right_record"] = _json(row["left_record"], {}), _json(row["right_record"], {})
            row["contributions"] = _json(row.get("contributions"), [])
        except ValueError as exc:  # json's JSONDecodeError is a ValueError
            raise UserError(damaged.format(f"row {n}: a record or its contributions is not JSON ({exc})")) from None
        if not isinstance(row["left_record"], dict) or not isinstance(row["right_record"], dict):
            raise UserError(damaged.format(f"row {n}: a record is not a set of fields"))
        for c in ("match_probability", "match_weight", "priority_score"):
            if isinstance(row[c], bool) or not isinstance(row[c], int | float):
                raise UserError(damaged.format(f"row {n}: {c} {row[c]!r} is not a number"))
    return rows


def _shown(m: dict[str, Any]) -> tuple[Any, ...]:
    """What an investigator reads of a match, as precisely as it is shown: its records,
    explanation, priority, probability and weight, and why they matched."""
    return (m["records_fingerprint"], m["explanation"], m["priority_band"], round(m["priority_score"], 1),
            round(m["match_probability"], 4), round(m["match_weight"], 1), m["contributions"])


def publish(workspace: Workspace, run_id: str, actor: Any = "cli") -> PublishResult:
    """Load one bundle into the case store: all of it or, on any error, none of it."""
    started = timezone.now()
    path, manifest = _bundle(workspace, run_id)
    if Run.objects.filter(run_id=run_id).exists():
        raise UserError(f"Run {run_id} is already published; nothing to do.")
    job = manifest["job"]
    created_at = _created_at(manifest, path)
    scope = manifest.get("body")
    rows = _inconsistency_rows(path)
    aside = _set_aside_rows(path / "set_aside.parquet", scope)
    as_at = _as_date(manifest.get("as_at") or (rows[0]["as_at"] if rows else started.date()))

    try:
        with transaction.atomic():
            result = _publish(workspace, run_id, actor, started, path, manifest, job, created_at, scope, rows, aside, as_at)
    except IntegrityError:
        # Another publish of the same run committed first (two `publish --all` at once).
        if Run.objects.filter(run_id=run_id).exists():
            raise UserError(f"Run {run_id} is already published; nothing to do.") from None
        raise
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")  # refresh the planner's statistics after a big load
    return result


def _publish(workspace: Workspace, run_id: str, actor: Any, started: datetime, path: Path, manifest: dict[str, Any],
             job: str, created_at: datetime, scope: str | None, rows: list[dict[str, Any]],
             aside: list[dict[str, Any]], as_at: date) -> PublishResult:
    """``publish``'s work, inside its transaction."""
    _lock_job(job)
    if Run.objects.filter(run_id=run_id).exists():  # published by another process since the check above
        raise UserError(f"Run {run_id} is already published; nothing to do.")
    newer = _newer_published(job, created_at, run_id, scope)
    if newer is not None:
        raise OlderRun(
            f"Run {run_id} was made before run {newer.run_id} of {job}, which is already published: publishing it "
            "would put older records back over newer ones, and reopen matches closed since. Nothing was published.\n"
            f"  Fix: publish the newest run of a job (matching run {job} --publish makes one)."
        )
    exercise, _ = Exercise.objects.get_or_create(as_at=as_at)
    codes = {i["body"] for i in manifest.get("inputs", [])} | {r["owning_body"] for r in rows + aside}
    bodies = {b.code: b for b in Body.objects.filter(code__in=codes)}
    created = sorted(codes - bodies.keys())
    for code in created:
        bodies[code] = Body.objects.create(code=code, name=code)
    run = Run.objects.create(
        run_id=run_id, job=job, title=manifest.get("title", job), exercise=exercise,
        created_at=created_at, published_by=audit.actor_name(actor),
        bundle_path=str(path), manifest=manifest, inconsistencies=len(rows),
    )
    subs = []
    for item in manifest.get("inputs", []):
        sub, _ = Submission.objects.get_or_create(
            submission_id=item["submission_id"],
            defaults={
                "kind": item["kind"], "body": bodies[item["body"]], "exercise": exercise,
                "file_name": item.get("file_name", ""), "sha256": item.get("sha256", ""),
                "rows_loaded": item.get("rows_loaded", 0), "dataset_path": item.get("dataset_path", ""),
            },
        )
        subs.append(sub)
    run.submissions.set(subs)

    existing_qs = Match.objects.filter(job=job)
    if connection.features.has_select_for_update:
        existing_qs = existing_qs.select_for_update()  # investigators' saves wait for us
    existing = {m["key"]: m for m in existing_qs.values(
        "id", "key", "status", "records_fingerprint", "times_seen", "version", "times_reopened",
        "owning_body_id", "left_body", "right_body", "explanation", "priority_band", "priority_score",
        "match_probability", "match_weight", "contributions", "not_found_by_id", "updated_at",
        "left_kind", "left_record_id", "right_kind", "right_record_id")}
    body_codes = {b.pk: b.code for b in bodies.values()} | dict(
        Body.objects.filter(matches__job=job).distinct().values_list("pk", "code"))

    old_money = MoneyFields() if manifest.get("money_shown_as") != "pounds" else None
    now = timezone.now()
    new: list[dict[str, Any]] = []
    open_updates: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    reopened: list[dict[str, Any]] = []
    keys_done: set[str] = set()
    per_owner = manifest.get("owning_body") == "each"
    if per_owner:
        _adopt_one_owner_matches(job, rows, existing, body_codes)
    for row in rows:
        key = match_key(job, row, per_owner=per_owner)
        if not per_owner and key not in existing and (owned := match_key(job, row, per_owner=True)) in existing:
            key = owned  # a bundle made before its job gave each body a match: the owner's match
        if key in keys_done:
            continue
        keys_done.add(key)
        left, right = row["left_record"], row["right_record"]
        if old_money is not None:  # a bundle made before money was shown in pounds
            old_money.to_pounds(row["left_kind"], left)
            old_money.to_pounds(row["right_kind"], right)
        fingerprint = records_fingerprint(left, right)
        current = existing.get(key)
        if current is not None and current["owning_body_id"] != bodies[row["owning_body"]].pk:
            raise UserError(
                f"Run {run_id} gives match {current['id']} ({row['left_record_id']} / "
                f"{row['right_record_id']}) to {row['owning_body']}, but it belongs to "
                f"{body_codes.get(current['owning_body_id'], 'another body')}. Has the job's "
                "owning_body changed? Nothing was published; move or purge the old matches first."
            )
        fields = {
            "left_submission_id": row["left_submission_id"], "right_submission_id": row["right_submission_id"],
            "left_record": left, "right_record": right, "records_fingerprint": fingerprint,
            "left_text": record_text(left), "right_text": record_text(right),
            "explanation": row["explanation"], "contributions": row["contributions"],
            "match_probability": float(row["match_probability"]), "match_weight": float(row["match_weight"]),
            "priority_score": float(row["priority_score"]), "priority_band": row["priority_band"],
            "last_run_id": run.pk, "last_seen_at": now, "job_title": run.title, "exercise_id": exercise.pk,
            "not_found_by_id": None,
        }
        if current is None:
            new.append({
                "key": key, "job": job, "owning_body_id": bodies[row["owning_body"]].pk,
                "left_kind": row["left_kind"], "left_body": row["left_body"],
                "left_record_id": str(row["left_record_id"]), "right_kind": row["right_kind"],
                "right_body": row["right_body"], "right_record_id": str(row["right_record_id"]),
                "first_run_id": run.pk, "created_at": now, "updated_at": now, **fields,
            })
        elif current["status"] != Status.CLOSED:
            update = {**current, **fields, "times_seen": current["times_seen"] + 1}
            if current["not_found_by_id"] or _shown(current) != _shown(fields):  # what the investigator sees changed
                update |= {"version": current["version"] + 1, "updated_at": now}
            open_updates.append(update)
        elif current["records_fingerprint"] == fingerprint:
            seen.append({**current, "last_run_id": run.pk, "last_seen_at": now,
                         "times_seen": current["times_seen"] + 1, "seen_since_closed": True, "not_found_by_id": None})
        else:
            reopened.append({**current, **fields, "times_seen": current["times_seen"] + 1,
                             "version": current["version"] + 1, "updated_at": now, "status": Status.NEW,
                             "closed_at": None, "seen_since_closed": False,
                             "times_reopened": current["times_reopened"] + 1})
    # Open matches the run looked for and did not find: it read both their records' bodies'
    # data and covered their owner (a run for one body covers that body's matches alone).
    inputs = {i["body"] for i in manifest.get("inputs", []) if i.get("side") != "lookup"}
    not_found = [
        {**m, "not_found_by_id": run.pk, "version": m["version"] + 1, "updated_at": now}
        for key, m in existing.items()
        if key not in keys_done and m["status"] != Status.CLOSED and m["not_found_by_id"] is None
        and m["left_body"] in inputs and m["right_body"] in inputs
        and _covers(scope, body_codes.get(m["owning_body_id"]))
        # A run that gives a pair one match does not look for the other body's own match of it
        # (a bundle made before its job gave each body a match).
        and (per_owner or not _keyed_per_owner(job, m, body_codes))
    ]

    insert_rows(Match, new)
    # What the job's rule set aside, for the body's key contacts and auditors to see: the
    # latest run's, as a match shows its latest run (an earlier run's list is replaced; a
    # run for one body, `run --body`, replaces only that body's).
    stale = SetAside.objects.filter(job=job, exercise=exercise)
    if scope:
        stale = stale.filter(owning_body__code=scope)
    stale.delete()
    insert_rows(SetAside, [{
        "run_id": run.pk, "exercise_id": exercise.pk, "owning_body_id": bodies[a["owning_body"]].pk, "job": job,
        "job_title": run.title, **{c: a[c] for c in SET_ASIDE_COLUMNS if c != "owning_body"},
        "also_linked_right_submission_id": a.get("also_linked_right_submission_id") or "",
    } for a in aside])
    update_rows(Match, OPEN_FIELDS, open_updates)
    update_rows(Match, SEEN_FIELDS, seen)
    update_rows(Match, REOPEN_FIELDS, reopened)
    update_rows(Match, NOT_FOUND_FIELDS, not_found)
    # Audit events last: appending locks the chain's head until commit, and every other
    # writer takes the match rows first, then the head; the same order here cannot deadlock.
    for code in created:
        audit.record(actor, "body_created", bodies[code], body=code, detail={"by_publish": run_id})
    audit.record_many(actor, "reopen", [
        (body_codes.get(match["owning_body_id"], ""), {"run_id": run_id, "reason": "a record changed since the match was closed",
                                                       "from": Status.CLOSED, "to": Status.NEW}, "match", str(match["id"]))
        for match in reopened
    ])
    audit.record_many(actor, "not_found", [
        (body_codes.get(match["owning_body_id"], ""), {"run_id": run_id}, "match", str(match["id"])) for match in not_found
    ])
    run.new_matches, run.seen_again, run.reopened = len(new), len(seen), len(reopened)
    run.save(update_fields=["new_matches", "seen_again", "reopened"])
    result = PublishResult(
        run_id=run_id, job=job, inconsistencies=len(rows), new=len(new), updated=len(open_updates),
        seen_again=len(seen), reopened=len(reopened), bodies=sorted({r["owning_body"] for r in rows}),
        seconds=round((timezone.now() - started).total_seconds(), 3), set_aside=len(aside), not_found=len(not_found),
    )
    # In the trail of every body whose matches or records it loaded (set aside too), so each
    # body's auditors see when its data entered the case store.
    concerned = ({r["owning_body"] for r in rows} | {str(r[c]) for r in rows for c in ("left_body", "right_body") if r.get(c)}
                 | {str(a[c]) for a in aside for c in ("owning_body", "left_body", "right_body", "also_linked_right_body")}
                 | {code for m in not_found if (code := body_codes.get(m["owning_body_id"]))})
    detail = {k: v for k, v in result.as_dict().items() if k not in ("run_id", "seconds")}
    audit.record_many(actor, "publish", [(body, detail, "run", str(run.pk)) for body in sorted(concerned) or [""]])
    return result
