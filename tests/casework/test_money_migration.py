"""Migration 0005: money in matches published before it reads in pounds, and the same data
published again does not reopen them."""

from __future__ import annotations

import importlib

from django.apps import apps

from matching.casework.models import Match, Status
from matching.casework.publish import publish, records_fingerprint
from matching.workspace import Workspace
from tests.casework.fixtures import inconsistency, make_bundle

money = importlib.import_module("matching.casework.migrations.0005_money_in_pounds")


def test_pence_in_old_matches_become_pounds_and_keep_them_closed(casework):
    m = casework.matches["kingston"][1]
    old = {**m.left_record, "weekly_amount": "26518"}
    Match.objects.filter(pk=m.pk).update(left_record=old, records_fingerprint=records_fingerprint(old, m.right_record),
                                         status=Status.CLOSED)
    money.forwards(apps, None)
    m.refresh_from_db()
    assert m.left_record["weekly_amount"] == "£265.18"
    assert m.left_record["claim_ref"] == old["claim_ref"] and m.right_record == casework.matches["kingston"][1].right_record
    assert m.records_fingerprint == records_fingerprint(m.left_record, m.right_record)
    # A later run gives the same record in pounds: the closed match stays closed.
    row = inconsistency(1, surname="<script>alert('x')</script>O'BRIEN", left={"weekly_amount": "£265.18"})
    publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, [row]), actor="test")
    m.refresh_from_db()
    assert m.status == Status.CLOSED and m.seen_since_closed
