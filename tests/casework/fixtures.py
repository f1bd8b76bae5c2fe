"""Shared casework fixtures: real run bundles on disk, published into a real case store.

``make_bundle`` writes a bundle exactly as ``matching run`` does (manifest.json and
inconsistencies.parquet), so publish is always exercised through its real input.
``casework`` builds two bodies with one user per role, declarations, and published matches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

PASSWORD = "correct-horse-battery-9"

COLUMNS = [
    "job", "owning_body", "left_kind", "left_body", "left_submission_id", "left_record_id",
    "right_kind", "right_body", "right_submission_id", "right_record_id", "match_probability",
    "match_weight", "explanation", "priority_score", "priority_band", "contributions",
    "left_record", "right_record", "as_at",
]


def inconsistency(n: int, body: str = "kingston", job: str = "hb-to-deceased", **overrides: Any) -> dict[str, Any]:
    """One row of inconsistencies.parquet: claim HB<n> linked to death registration DR<n>."""
    surname = overrides.pop("surname", "FRANCIS")
    left = {
        "claim_ref": f"HB{n:06d}", "title": "MRS", "forenames": "GEMMA", "surname": surname,
        "dob": "1956-10-01", "ni_number": "••••••94B", "address_line_1": f"{n} WHARF RD",
        "postcode": "TW9 9RP", "payment_end_date": "2026-06-22",
    }
    right = {
        "death_ref": f"DR{n:06d}", "title": "MRS", "forenames": "GEMMA", "surname": surname,
        "dob": "1956-10-01", "ni_number": "••••••94B", "address_line_1": f"{n} WHARF ROAD",
        "postcode": "TW9 9RP", "date_of_death": "2026-01-23",
    }
    left.update(overrides.pop("left", {}))
    right.update(overrides.pop("right", {}))
    row: dict[str, Any] = {
        "job": job, "owning_body": body,
        "left_kind": "housing_benefit", "left_body": body,
        "left_submission_id": f"20261001T000000-housing_benefit-{body}-aaaa", "left_record_id": left["claim_ref"],
        "right_kind": "deceased_persons", "right_body": "dwp",
        "right_submission_id": "20261001T000000-deceased_persons-dwp-bbbb", "right_record_id": right["death_ref"],
        "match_probability": 0.9999, "match_weight": 30.0 + n,
        "explanation": f"Housing benefit claim {left['claim_ref']} was in payment until 22 June 2026, "
                       "150 days after a matched death registration.",
        "priority_score": 90.0 - n, "priority_band": "high" if n < 3 else ("medium" if n < 6 else "low"),
        "contributions": json.dumps([
            {"match_weight": 13.4, "comparison": "ni_number", "level": "exact match"},
            {"match_weight": 9.4, "comparison": "surname", "level": "exact match"},
            {"match_weight": -2.1, "comparison": "address", "level": "different house number"},
        ]),
        "left_record": left, "right_record": right, "as_at": date(2026, 10, 1),
    }
    row.update(overrides)
    return row


def make_bundle(workspace: Path, rows: list[dict[str, Any]], *, job: str = "hb-to-deceased",
                run_id: str | None = None, as_at: str = "2026-10-01",
                created_at: datetime | None = None, money_shown_as: str | None = "pounds",
                manifest_extra: dict[str, Any] | None = None) -> str:
    """Write a run bundle into ``workspace/runs`` and return its run id (``money_shown_as=None``:
    as a bundle made before money was shown in pounds)."""
    created = created_at or datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    runs = workspace / "runs"
    run_id = run_id or f"{created:%Y%m%dT%H%M%S}-{job}-{len(list(runs.glob('*'))) if runs.exists() else 0:08x}"
    path = runs / run_id
    path.mkdir(parents=True)
    data = [{**r, "left_record": json.dumps(r["left_record"]), "right_record": json.dumps(r["right_record"])}
            for r in rows]
    schema = pa.schema([
        (c, pa.float64() if c in ("match_probability", "match_weight", "priority_score")
         else pa.date32() if c == "as_at" else pa.string())
        for c in COLUMNS
    ])
    table = pa.Table.from_pylist(data, schema=schema)
    pq.write_table(table, path / "inconsistencies.parquet")
    bodies = sorted({r["left_body"] for r in rows} | {r["right_body"] for r in rows}) or ["kingston", "dwp"]
    manifest = {
        "run_id": run_id, "job": job, "title": "Housing benefit claims to deceased persons",
        "created_at": created.isoformat(), "as_at": as_at, "threshold": 0.95, "body": None,
        "backend": "duckdb",
        "inputs": [
            {"side": "left", "submission_id": f"sub-{b}-{as_at}", "kind": "housing_benefit", "body": b,
             "file_name": "hb.csv", "sha256": "0" * 64, "rows_loaded": 10, "dataset_path": ""}
            for b in bodies
        ],
        "counts": {"inconsistencies": len(rows)},
    }
    if money_shown_as:
        manifest["money_shown_as"] = money_shown_as
    manifest.update(manifest_extra or {})
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return run_id


@dataclass
class Casework:
    """A small, real case store: see the ``casework`` fixture."""

    workspace: Path
    users: dict[str, Any] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)
    matches: dict[str, list[Any]] = field(default_factory=dict)
    run_id: str = ""

    def login(self, client: Any, username: str) -> Any:
        client.force_login(self.users[username])
        return client


@pytest.fixture
def casework(db: Any, workspace: Path) -> Casework:
    """Two bodies (kingston, richmond), each with a key contact, two investigators and an
    auditor; a superuser ``admin``; both declared for the exercise, and so is dwp, whose
    death registrations the matches show; six kingston matches and
    two richmond ones published from a real bundle; kingston's first match allocated to
    ``k_inv`` and richmond's first to ``r_inv``. Every password is ``PASSWORD``."""
    from django.contrib.auth.models import User

    from matching.casework import lifecycle
    from matching.casework.models import Body, Declaration, Exercise, Match, Membership
    from matching.casework.publish import publish
    from matching.workspace import Workspace

    cw = Casework(workspace=workspace)
    rows = [inconsistency(n) for n in range(6)] + [inconsistency(100 + n, body="richmond") for n in range(2)]
    rows[1] = inconsistency(1, surname="<script>alert('x')</script>O'BRIEN")
    cw.run_id = make_bundle(workspace, rows)
    publish(Workspace.at(workspace), cw.run_id, actor="test")
    for code, name in (("kingston", "Royal Borough of Kingston upon Thames"), ("richmond", "London Borough of Richmond upon Thames")):
        body = Body.objects.get(code=code)
        body.name = name
        body.save()
        cw.bodies[code] = body
        Declaration.objects.create(body=body, exercise=Exercise.objects.get(), declared_by="test")
    # DWP supplies the death registrations the matches show: its declaration releases them.
    Declaration.objects.create(body=Body.objects.get(code="dwp"), exercise=Exercise.objects.get(), declared_by="test")
    roles = {"kc": "key_contact", "inv": "investigator", "inv2": "investigator", "aud": "auditor"}
    for code, prefix in (("kingston", "k"), ("richmond", "r")):
        for suffix, role in roles.items():
            user = User.objects.create_user(f"{prefix}_{suffix}", password=PASSWORD)
            Membership.objects.create(user=user, body=cw.bodies[code], role=role)
            cw.users[user.username] = user
    cw.users["admin"] = User.objects.create_superuser("admin", password=PASSWORD)
    for code, prefix in (("kingston", "k"), ("richmond", "r")):
        cw.matches[code] = list(Match.objects.filter(owning_body__code=code).order_by("-priority_score"))
        first = cw.matches[code][0]
        lifecycle.allocate(first, cw.users[f"{prefix}_inv"], cw.users[f"{prefix}_kc"], first.version)
        cw.matches[code][0] = Match.objects.get(pk=first.pk)
    return cw
