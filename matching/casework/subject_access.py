"""Subject access: find everything held about one person, by surname and date of birth.

The search terms are standardised exactly as ingest standardises a submitted value, then
looked for in every standardised dataset in the workspace and in both records of every
match, with the matches' outcomes, notes and audit events; the run bundles naming a record
found are reported too (linked pairs, and inconsistencies queued or set aside). Only a superuser (everything)
or a key contact (their bodies' datasets and matches) may search; the search is audited
with a SHA-256 of the terms, never the terms themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from matching.casework import access, audit
from matching.casework.access import visible_matches
from matching.casework.models import AuditEvent, Declaration, Match, Run
from matching.errors import UserError
from matching.ingest.standardise.sql import ident, literal
from matching.ingest.standardise.value import standardise_value
from matching.workspace import Workspace, read_run_manifest


@dataclass
class SubjectAccessReport:
    surname: str
    dob: str
    forename: str | None
    datasets: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    matches: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def dataset_rows(self) -> int:
        return sum(len(d["rows"]) for d in self.datasets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "protective_marking": settings.PROTECTIVE_MARKING,
            "about": "Everything the engine holds about one person, for a subject access request: "
                     "personal data, to be disclosed only to the person (or as the law allows).",
            "searched_for": {"surname": self.surname, "dob": self.dob, "forename": self.forename},
            "generated_at": timezone.now().isoformat(timespec="seconds"),
            "datasets": self.datasets, "rejected_rows": self.rejected, "matches": self.matches, "runs": self.runs,
        }


def standardised_terms(surname: str, dob: str, forename: str | None) -> tuple[str, date, str | None]:
    """The terms as ingest would store them, or a UserError naming the one that is not usable."""
    s, _ = standardise_value("name", surname, "surname")
    if not s:
        raise UserError(f"Surname '{surname}' has no letters: give the surname as written.")
    d, defect = standardise_value("date", dob, name="dob")
    if d is None:
        raise UserError(f"Date of birth '{dob}' is not usable ({defect or 'empty'}): give it as YYYY-MM-DD.")
    f = None
    if forename:
        f, _ = standardise_value("name", forename, "forename")
        f = f.split()[0] if f else None
    return s, d, f


def _key_contact_bodies(user: Any) -> set[str] | None:
    """None for a superuser (everything); else the codes of the bodies they may search (as
    their key contact), as ``access`` decides."""
    if user.is_superuser and access.allowed(user, "subject_access"):
        return None
    codes = set(access.bodies_for(user, "subject_access").values_list("code", flat=True))
    if not codes:
        raise UserError(f"{user.username} may not search for a person: only a superuser or a key contact may.")
    return codes


# The other people a row may hold, by column prefix: a claimant's partner, a council tax
# account's joint liable person, an application's joint applicant, a pupil and their parent,
# and a pupil's preferred names.
_OTHER_PEOPLE = ("partner", "joint_liable", "joint_applicant", "pupil", "parent", "preferred")


@dataclass(frozen=True)
class _Person:
    """Where a row holds one person: their surname column, and their date of birth and
    forename columns where the row has them."""

    role: str
    surname: str
    dob: str | None
    forename: str | None  # a column of the first forename, or of all forenames (its first word is taken)


def _people(names: set[str]) -> list[_Person]:
    people = []
    if "surname" in names:
        forename = "forename" if "forename" in names else "forenames" if "forenames" in names else None
        dob = "dob" if "dob" in names else None
        people.append(_Person("the record's person", "surname", dob, forename))
        if "maiden_surname" in names:
            people.append(_Person("the record's person (maiden name)", "maiden_surname", dob, forename))
    for prefix in _OTHER_PEOPLE:
        if f"{prefix}_surname" not in names:
            continue
        forename = next((c for c in (f"{prefix}_forename", f"{prefix}_forenames") if c in names), None)
        dob = f"{prefix}_dob" if f"{prefix}_dob" in names else None
        people.append(_Person(prefix.replace("_", " "), f"{prefix}_surname", dob, forename))
    return people


def _dataset_files(ws: Workspace, bodies: set[str] | None) -> list[Path]:
    files = []
    for path in sorted(ws.datasets.glob("*/*/*.parquet")) if ws.datasets.is_dir() else []:
        if bodies is not None and path.parent.name not in bodies:
            continue
        if _people(set(pq.read_schema(path).names)):
            files.append(path)
    return files


def _search_datasets(files: list[Path], surname: str, dob: date, forename: str | None) -> list[dict[str, Any]]:
    """Rows holding the person anywhere: as the record's person (or by their maiden name), or
    as a partner, joint liable person or applicant, pupil or parent. A person whose date of
    birth the row holds must have the one searched for; where it holds none (most electors,
    parents on admissions) the forename must be given and agree, and the row says it was
    found by name alone. A forename agrees as written or as its usual form (Mick, Michael)."""
    from matching.ingest.standardise.nicknames import canonical_forename

    by_name = " (found by name: the record holds no date of birth)"
    found = []
    con = duckdb.connect()
    for path in files:
        cols = set(pq.read_schema(path).names)
        whens: list[str] = []
        params: list[Any] = []
        for person in _people(cols):
            agrees, agree_params = None, []
            if forename and person.forename:
                options = [f"split_part({ident(person.forename)}, ' ', 1) IN (?, ?)"]
                agree_params = [forename, canonical_forename(forename)]
                if person.surname == "surname" and "forename_canonical" in cols:
                    options.append("forename_canonical = ?")
                    agree_params.append(canonical_forename(forename))
                agrees = "(" + " OR ".join(options) + ")"
            named = f"{ident(person.surname)} = ?"
            if person.dob:
                # With the date of birth agreeing, a blank forename does not disagree.
                blank = f"{ident(person.forename)} IS NULL OR " if agrees and person.forename else ""
                whens.append(f"WHEN {named} AND CAST({ident(person.dob)} AS DATE) = ?" + (f" AND ({blank}{agrees})" if agrees else "")
                             + f" THEN {literal(person.role)}")
                params += [surname, dob, *agree_params]
            if agrees:
                missing = f" AND {ident(person.dob)} IS NULL" if person.dob else ""
                whens.append(f"WHEN {named}{missing} AND {agrees} THEN {literal(person.role + by_name)}")
                params += [surname, *agree_params]
        if not whens:
            continue  # no date of birth here and no forename given: a surname alone would find everyone of it
        rel = con.execute(
            f"SELECT * FROM (SELECT *, CASE {' '.join(whens)} END AS found_as FROM read_parquet(?)) WHERE found_as IS NOT NULL",
            [*params, str(path)],
        )
        columns = [c[0] for c in rel.description]
        rows = [dict(zip(columns, r, strict=True)) for r in rel.fetchall()]
        if rows:
            found.append({"file": str(path), "kind": path.parent.parent.name, "body": path.parent.name,
                          "submission_id": path.stem, "rows": json.loads(json.dumps(rows, default=str))})
    return found


def _search_rejects(ws: Workspace, bodies: set[str] | None, surname: str, dob: date, forename: str | None) -> list[dict[str, Any]]:
    """Rejected rows (never loaded, kept as submitted in the rejects files) in which two of
    the terms appear: the surname, the date of birth (in any form ingest reads) or the
    forename. They may be the person, or not: the officer reads them."""
    from matching.ingest.standardise.dates import parse_date
    from matching.ingest.submissions import load_all

    found = []
    con = duckdb.connect()
    for sub in load_all(ws):
        path = Path(sub.rejects_path)
        if (bodies is not None and sub.body not in bodies) or not path.is_file():
            continue
        try:
            cols = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_csv(?, all_varchar = true, header = true)", [str(path)]).fetchall()]
        except duckdb.Error:
            continue  # an empty or unreadable rejects file holds nothing to find
        cells = [c for c in cols if c not in ("row", "line", "field", "reason", "value", "raw_line")]
        if not cells:
            continue
        text = [f"upper(trim({ident(c)}))" for c in cells]
        # A line that was not a record (the wrong number of fields) is in raw_line whole.
        whole = "upper(coalesce(raw_line, ''))" if "raw_line" in cols else "''"
        has_surname = " OR ".join([*(f"coalesce({t} = ?, false)" for t in text), f"contains({whole}, ?)"])
        has_dob = " OR ".join(f"coalesce({parse_date(ident(c), True)} = ?, false)" for c in cells)
        terms = [f"({has_surname})::INT", f"({has_dob})::INT"]
        params: list[Any] = [surname] * len(text) + [surname] + [dob] * len(cells)
        if forename:
            has_forename = " OR ".join([*(f"coalesce(split_part({t}, ' ', 1) = ?, false)" for t in text), f"contains({whole}, ?)"])
            terms.append(f"({has_forename})::INT")
            params += [forename] * len(text) + [forename]
        rel = con.execute(f"SELECT * FROM read_csv(?, all_varchar = true, header = true) WHERE {' + '.join(terms)} >= 2",
                          [str(path), *params])
        names = [c[0] for c in rel.description]
        rows = [dict(zip(names, r, strict=True)) for r in rel.fetchall()]
        if rows:
            found.append({"file": str(path), "kind": sub.kind, "body": sub.body, "submission_id": sub.submission_id,
                          "note": "rejected rows, never loaded, in which two of the terms appear: they may be the person",
                          "rows": rows})
    return found


# What a run bundle keeps about a record, file by file: the columns reported.
_IDS = "left_kind, left_body, left_record_id, right_kind, right_body, right_record_id, match_probability"
_BUNDLE_FILES = {
    "pairs": ("pairs.parquet", _IDS),
    "inconsistencies": ("inconsistencies.parquet", f"owning_body, {_IDS}, explanation, priority_band, left_record, right_record"),
    "set_aside": ("set_aside.parquet", f"owning_body, {_IDS}, explanation, also_linked_right_body, also_linked_right_record_id"),
}
# A set-aside row names a third record, of the right kind: the one that set it aside (for an
# admission, often the parent's own account at the address given).
_ALSO = ("right_kind", "also_linked_right_body", "also_linked_right_submission_id", "also_linked_right_record_id")


def _declared_by_run() -> dict[str, list[str]]:
    """Run id → every body declared for its exercise. A key contact answers for the runs where
    one of their bodies is among them, and a row there that shows another body's record only
    once that body is among them too, as ``access`` releases matches."""
    declared: dict[int, list[str]] = {}
    for exercise_id, code in Declaration.objects.values_list("exercise_id", "body__code"):
        declared.setdefault(exercise_id, []).append(code)
    return {run_id: sorted(declared.get(e, [])) for run_id, e in Run.objects.values_list("run_id", "exercise_id")}


def _search_runs(ws: Workspace, datasets: list[dict[str, Any]], bodies: set[str] | None) -> list[dict[str, Any]]:
    """The run bundles that name one of the records found: the pairs linking it, and the
    inconsistencies, queued or set aside, about it (a bundle keeps copies of both records and
    the engine's explanation until its run is purged). A record is named by its kind, body,
    submission and id, so an id a later file reuses finds nobody else. A superuser answers for
    every bundle, published or not; a key contact for the published runs of exercises their
    bodies have declared, and there only for their bodies' inconsistencies and for pairs of
    two of their bodies' records."""
    held = sorted({(d["kind"], d["body"], d["submission_id"], str(row["record_id"])) for d in datasets for row in d["rows"]})
    if not held:
        return []
    everyone = None if bodies is None else _declared_by_run()
    # the published runs a key contact answers for: of exercises one of their bodies declared
    released = None if everyone is None or bodies is None else {
        run_id: mine for run_id, codes in everyone.items() if (mine := [c for c in codes if c in bodies])}
    con = duckdb.connect()
    con.execute("CREATE TABLE held (kind VARCHAR, body VARCHAR, submission_id VARCHAR, record_id VARCHAR)")
    con.executemany("INSERT INTO held VALUES (?, ?, ?, ?)", held)
    def names(columns: list[tuple[str, str, str, str]]) -> str:
        return " OR ".join(
            f"EXISTS (SELECT 1 FROM held h WHERE h.kind = p.{kind} AND h.body = p.{body} "
            f"AND h.submission_id = p.{sub} AND h.record_id = CAST(p.{rid} AS VARCHAR))"
            for kind, body, sub, rid in columns
        )

    sides = [(f"{s}_kind", f"{s}_body", f"{s}_submission_id", f"{s}_record_id") for s in ("left", "right")]
    found = []
    for run in ws.run_folders():
        manifest = read_run_manifest(run)
        if manifest is None or (released is not None and run.name not in released):
            continue  # not a finished bundle, or not one the key contact answers for
        entry: dict[str, Any] = {"run_id": run.name, "job": manifest.get("job"), "created_at": manifest.get("created_at")}
        for key, (name, columns) in _BUNDLE_FILES.items():
            if not (run / name).is_file():
                continue
            params: list[Any] = [str(run / name)]
            scope = ""
            if released is not None and everyone is not None:
                mine = released[run.name]
                marks = ", ".join("?" * len(mine))
                scope = f"AND left_body IN ({marks}) AND right_body IN ({marks})" if key == "pairs" else f"AND owning_body IN ({marks})"
                params += mine * (2 if key == "pairs" else 1)
                if key != "pairs":  # and every other body whose record the row shows has declared
                    shown = ["left_body", "right_body"] + (["also_linked_right_body"] if key == "set_aside" else [])
                    out = everyone.get(run.name) or [""]
                    scope += "".join(f" AND {c} IN ({', '.join('?' * len(out))})" for c in shown)
                    params += out * len(shown)
            try:
                named = sides + [_ALSO] if key == "set_aside" and _ALSO[2] in pq.read_schema(run / name).names else sides
                rel = con.execute(f"SELECT {columns} FROM read_parquet(?) p WHERE ({names(named)}) {scope}", params)
            except (duckdb.Error, OSError, ValueError) as exc:  # a damaged bundle, or one of an earlier version
                entry.setdefault("unreadable", []).append(f"{name}: {exc}".splitlines()[0])
                continue
            cols = [c[0] for c in rel.description]
            rows = [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]
            for row in rows:
                for side in ("left_record", "right_record"):
                    if isinstance(row.get(side), str):
                        row[side] = json.loads(row[side])
            if rows:
                entry[key] = json.loads(json.dumps(rows, default=str))
        if len(entry) > 3:
            found.append(entry)
    return found


def _holds(record: dict[str, Any], surname: str, dob: str, forename: str | None) -> bool:
    """Whether a match's record holds the person, by the rules ``_search_datasets`` uses."""
    from matching.ingest.standardise.nicknames import canonical_forename

    for person in _people(set(record)):
        if record.get(person.surname) != surname:
            continue
        first = str(record.get(person.forename) or "").split()[:1] if person.forename else []
        agrees = None if not forename else bool(first) and first[0] in (forename, canonical_forename(forename)) or (
            person.surname == "surname" and record.get("forename_canonical") == canonical_forename(forename))
        held_dob = record.get(person.dob) if person.dob else None
        if held_dob is not None:
            if held_dob == dob and (agrees is not False or not first):  # a blank forename does not disagree
                return True
        elif agrees:
            return True
    return False


def _matches(user: Any, bodies: set[str] | None, surname: str, dob: date, forename: str | None) -> list[Match]:
    # A superuser answers for everything held, declared or not; a key contact sees what access allows.
    qs = Match.objects.all() if bodies is None else visible_matches(user).filter(owning_body__code__in=bodies)
    d = dob.isoformat()
    keys = ["surname", "maiden_surname", *(f"{prefix}_surname" for prefix in _OTHER_PEOPLE)]
    named = Q(pk__in=[])
    for side in ("left", "right"):
        for key in keys:
            named |= Q(**{f"{side}_record__{key}": surname})
    out = []
    for m in qs.filter(named).select_related("owning_body").prefetch_related("outcomes__recorded_by", "notes__author").order_by("pk"):
        if any(_holds(m.record(side), surname, d, forename) for side in ("left", "right")):
            out.append(m)
    return out


def _match_json(m: Match, events: list[AuditEvent]) -> dict[str, Any]:
    return {
        "match_id": m.pk, "job": m.job, "owning_body": m.owning_body.code, "status": m.status,
        "explanation": m.explanation,
        "left": {"kind": m.left_kind, "body": m.left_body, "record_id": m.left_record_id, "record": m.left_record},
        "right": {"kind": m.right_kind, "body": m.right_body, "record_id": m.right_record_id, "record": m.right_record},
        "outcomes": [{"category": o.category, "case_reference": o.case_reference, "actual_pence": o.actual_pence,
                      "estimated_pence": o.estimated_pence, "estimate_basis": o.estimate_basis, "note": o.note,
                      "linkage_label": o.linkage_label, "recorded_by": o.recorded_by.username,
                      "recorded_at": o.recorded_at.isoformat()} for o in m.outcomes.all()],
        "notes": [{"author": n.author.username, "text": n.text, "created_at": n.created_at.isoformat()}
                  for n in m.notes.all()],
        "audit_events": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                          "detail": e.detail} for e in events],
    }


def terms_digest(surname: str, dob: date, forename: str | None) -> str:
    """HMAC-SHA-256 of the standardised terms under the deployment's secret key: the audit
    trail can show that the same person was searched for twice, but a list of surnames and
    birth dates cannot be hashed to find out who (a plain hash could be reversed that way)."""
    return audit.keyed_digest(surname, dob.isoformat(), forename or "")


def subject_access(workspace: Workspace, user: Any, *, surname: str, dob: str,
                   forename: str | None = None) -> SubjectAccessReport:
    """Everything the user may answer for about one person: dataset rows, matches and the run
    bundles that name the person's records.

    Raises UserError when the user may not search or a term is unusable. Records one
    "subject_access" audit event with the counts and a digest of the terms.
    """
    bodies = _key_contact_bodies(user)
    s, d, f = standardised_terms(surname, dob, forename)
    report = SubjectAccessReport(surname=s, dob=d.isoformat(), forename=f)
    report.datasets = _search_datasets(_dataset_files(workspace, bodies), s, d, f)
    report.rejected = _search_rejects(workspace, bodies, s, d, f)
    report.runs = _search_runs(workspace, report.datasets, bodies)
    with transaction.atomic():
        matches = _matches(user, bodies, s, d, f)
        events: dict[str, list[AuditEvent]] = {}
        for e in AuditEvent.objects.filter(object_type="match", object_id__in=[str(m.pk) for m in matches]):
            events.setdefault(e.object_id, []).append(e)
        report.matches = [_match_json(m, events.get(str(m.pk), [])) for m in matches]
        # Each disclosed match shows the disclosure in its own history, and each body whose
        # data was searched sees the search in its audit trail.
        for m in matches:
            audit.record_view(user, m, detail={"via": "subject_access"})
        concerned = {str(x["body"]) for x in report.datasets + report.rejected} | {m.owning_body.code for m in matches} | {
            str(row[c]) for r in report.runs for k in _BUNDLE_FILES if k in r for row in r[k]
            for c in ("owning_body", "left_body", "right_body", "also_linked_right_body") if row.get(c)}
        detail = {
            "terms_hmac": terms_digest(s, d, f), "dataset_files": len(report.datasets),
            "dataset_rows": report.dataset_rows, "rejected_rows": sum(len(r["rows"]) for r in report.rejected),
            "matches": len(report.matches), "runs": len(report.runs),
            "scope": "all bodies" if bodies is None else sorted(bodies),
        }
        audit.record_many(user, "subject_access", [(body, detail, "person", "") for body in sorted(concerned | (bodies or set())) or [""]])
    return report
