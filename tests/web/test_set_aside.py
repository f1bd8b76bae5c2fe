"""What the jobs set aside instead of queueing: published with its run, shown to the owning
body's key contacts and auditors (never to investigators or other bodies), each page audited."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matching.casework.models import AuditEvent, SetAside
from matching.casework.publish import publish
from matching.workspace import Workspace
from tests.casework.fixtures import inconsistency, make_bundle

pytestmark = pytest.mark.django_db


def _set_aside(n: int, body: str) -> dict[str, object]:
    return {
        "job": "admissions-to-council-tax", "owning_body": body,
        "left_kind": "school_admissions", "left_body": body, "left_submission_id": "s1", "left_record_id": f"APP{n}",
        "right_kind": "council_tax", "right_body": body, "right_submission_id": "s2", "right_record_id": f"CT{n}",
        "match_probability": 0.985,
        "explanation": f"School admission application APP{n} for AMY <b>WOODCOCK</b> gives a home address of 1 ALPHA ROAD ...",
        "also_linked_right_body": body, "also_linked_right_record_id": f"CT{n}H", "also_linked_match_probability": 0.999,
    }


@pytest.fixture
def published(casework) -> str:
    """A second run of the same exercise, with two of kingston's inconsistencies and one of
    richmond's set aside."""
    run_id = make_bundle(casework.workspace, [inconsistency(n) for n in range(2)], job="admissions-to-council-tax")
    rows = [_set_aside(1, "kingston"), _set_aside(2, "kingston"), _set_aside(3, "richmond")]
    pq.write_table(pa.Table.from_pylist(rows), Path(casework.workspace) / "runs" / run_id / "set_aside.parquet")
    result = publish(Workspace.at(casework.workspace), run_id, actor="test")
    assert result.set_aside == 3
    return run_id


def test_publishing_keeps_what_was_set_aside(published):
    rows = SetAside.objects.order_by("right_record_id")
    assert [(a.owning_body.code, a.left_record_id, a.right_record_id, a.also_linked_right_record_id) for a in rows] == [
        ("kingston", "APP1", "CT1", "CT1H"), ("kingston", "APP2", "CT2", "CT2H"), ("richmond", "APP3", "CT3", "CT3H")]
    assert {a.run.run_id for a in rows} == {published} and rows[0].also_linked_match_probability == 0.999


def test_key_contacts_and_auditors_see_their_bodys(published, as_user):
    html = as_user("k_aud").get("/set-aside/").content.decode()
    assert "2 set aside." in html and "APP1" in html and "APP2" in html and "APP3" not in html
    assert "CT1H" in html and "&lt;b&gt;WOODCOCK&lt;/b&gt;" in html and "<b>WOODCOCK" not in html  # escaped
    assert "1 set aside." in as_user("r_kc").get("/set-aside/").content.decode()
    assert "3 set aside." in as_user("admin").get("/set-aside/").content.decode()
    assert as_user("k_inv").get("/set-aside/").status_code == 403
    assert ">Set aside<" in as_user("k_kc").get("/").content.decode()
    assert ">Set aside<" not in as_user("k_inv").get("/").content.decode()


def test_viewing_is_audited_by_the_records_keys_per_body(published, as_user):
    as_user("admin").get("/set-aside/")
    events = {e.body: e.detail["rows"] for e in AuditEvent.objects.filter(action="view_set_aside")}
    assert sorted(events) == ["kingston", "richmond"]
    assert sorted((r["left"], r["right"], r["also_linked"]) for r in events["kingston"]) == [
        ("school_admissions/kingston/APP1", "council_tax/kingston/CT1", "council_tax/kingston/CT1H"),
        ("school_admissions/kingston/APP2", "council_tax/kingston/CT2", "council_tax/kingston/CT2H")]
    assert {r["run_id"] for r in events["kingston"]} == {published}
    assert "WOODCOCK" not in str(events)  # keys, never personal data


def test_nothing_is_shown_before_the_body_declares(published, as_user):
    from matching.casework.models import Declaration

    Declaration.objects.filter(body__code="kingston").delete()
    page = as_user("k_kc").get("/set-aside/").content.decode()
    assert "Nothing set aside." in page and "APP1" not in page and "set aside.</p>" not in page


def test_a_later_run_replaces_the_list(casework, published, as_user):
    """As a match shows its latest run, the page shows what the job's latest run set aside."""
    run_id = make_bundle(casework.workspace, [inconsistency(n) for n in range(2)], job="admissions-to-council-tax")
    pq.write_table(pa.Table.from_pylist([_set_aside(2, "kingston")]), Path(casework.workspace) / "runs" / run_id / "set_aside.parquet")
    publish(Workspace.at(casework.workspace), run_id, actor="test")
    assert list(SetAside.objects.values_list("right_record_id", "run__run_id")) == [("CT2", run_id)]
    assert "1 set aside." in as_user("admin").get("/set-aside/").content.decode()


def test_a_run_for_one_body_with_another_bodys_row_is_damaged(casework, published):
    import json

    from matching.errors import UserError

    run_id = make_bundle(casework.workspace, [inconsistency(1)], job="admissions-to-council-tax")
    bundle = Path(casework.workspace) / "runs" / run_id
    (bundle / "manifest.json").write_text(json.dumps(json.loads((bundle / "manifest.json").read_text()) | {"body": "kingston"}))
    pq.write_table(pa.Table.from_pylist([_set_aside(5, "richmond")]), bundle / "set_aside.parquet")
    with pytest.raises(UserError, match="row 1 belongs to richmond, in a run for kingston alone"):
        publish(Workspace.at(casework.workspace), run_id, actor="test")
    assert SetAside.objects.count() == 3  # the list published before is kept whole


def test_a_later_run_for_one_body_replaces_only_that_bodys_list(casework, published):
    import json

    run_id = make_bundle(casework.workspace, [inconsistency(n) for n in range(2)], job="admissions-to-council-tax")
    bundle = Path(casework.workspace) / "runs" / run_id
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps(manifest | {"body": "richmond"}))
    pq.write_table(pa.Table.from_pylist([_set_aside(4, "richmond")]), bundle / "set_aside.parquet")
    publish(Workspace.at(casework.workspace), run_id, actor="test")
    assert sorted(SetAside.objects.values_list("owning_body__code", "right_record_id")) == [
        ("kingston", "CT1"), ("kingston", "CT2"), ("richmond", "CT4")]


@pytest.mark.parametrize(("change", "message"), [
    (lambda rows: [{k: v for k, v in r.items() if k != "explanation"} for r in rows], "no column explanation"),
    (lambda rows: [rows[0] | {"explanation": None}], "row 1 has no explanation"),
    (lambda rows: [rows[0] | {"match_probability": float("nan")}], "row 1: match_probability nan is not a probability"),
    (lambda rows: [rows[0] | {"explanation": "  "}], "row 1 has no explanation"),
])
def test_a_damaged_set_aside_file_is_a_message_and_publishes_nothing(casework, change, message):
    from matching.casework.models import Run
    from matching.errors import UserError

    run_id = make_bundle(casework.workspace, [inconsistency(1)], job="admissions-to-council-tax")
    path = Path(casework.workspace) / "runs" / run_id / "set_aside.parquet"
    pq.write_table(pa.Table.from_pylist(change([_set_aside(1, "kingston")])), path)
    with pytest.raises(UserError, match=message) as info:
        publish(Workspace.at(casework.workspace), run_id, actor="test")
    assert str(path) in str(info.value) and "Nothing was published" in str(info.value)
    assert not Run.objects.filter(run_id=run_id).exists() and not SetAside.objects.exists()


def test_a_superuser_sees_only_declared_bodies(published, as_user):
    from matching.casework.models import Declaration

    Declaration.objects.filter(body__code="richmond").delete()
    html = as_user("admin").get("/set-aside/").content.decode()
    assert "2 set aside." in html and "APP3" not in html


def test_the_other_council_named_sees_the_view_in_its_trail(casework, as_user):
    """A kingston application set aside for a namesake's account at richmond: richmond's trail
    records the view too."""
    run_id = make_bundle(casework.workspace, [inconsistency(1)], job="admissions-to-council-tax")
    rows = [_set_aside(7, "kingston") | {"right_body": "richmond"}, _set_aside(8, "kingston") | {"also_linked_right_body": "windsor"}]
    pq.write_table(pa.Table.from_pylist(rows), Path(casework.workspace) / "runs" / run_id / "set_aside.parquet")
    publish(Workspace.at(casework.workspace), run_id, actor="test")
    as_user("k_aud").get("/set-aside/")
    assert sorted(AuditEvent.objects.filter(action="view_set_aside").values_list("body", flat=True)) == ["kingston", "richmond", "windsor"]


def test_a_row_naming_an_undeclared_bodys_record_is_not_shown(casework, as_user):
    """The link that set an inconsistency aside may be another body's record: until that body
    declares for the exercise, the row is not shown."""
    run_id = make_bundle(casework.workspace, [inconsistency(0), inconsistency(1, right_body="windsor")],
                         job="admissions-to-council-tax")
    row = {**_set_aside(1, "kingston"), "also_linked_right_body": "windsor"}
    pq.write_table(pa.Table.from_pylist([row, _set_aside(2, "kingston")]), Path(casework.workspace) / "runs" / run_id / "set_aside.parquet")
    publish(Workspace.at(casework.workspace), run_id, actor="test")
    html = as_user("k_kc").get("/set-aside/").content.decode()
    assert "APP2" in html and "APP1" not in html
