"""Migration 0005: money in matches published before it reads in pounds, and the same data
published again does not reopen them."""

from __future__ import annotations

import copy
import importlib

from django.apps import apps

from matching.casework.models import Match, Status
from matching.casework.publish import publish, records_fingerprint
from matching.workspace import Workspace
from tests.casework.fixtures import inconsistency, make_bundle

migration = importlib.import_module("matching.casework.migrations.0005_money_in_pounds")


def test_pence_in_old_matches_become_pounds_and_keep_them_closed(casework):
    m = casework.matches["kingston"][1]
    old = {**m.left_record, "weekly_amount": "26518"}
    Match.objects.filter(pk=m.pk).update(left_record=old, records_fingerprint=records_fingerprint(old, m.right_record),
                                         status=Status.CLOSED)
    right = copy.deepcopy(m.right_record)  # as it was: m itself is refreshed by the migration
    assert right["death_ref"]
    migration.forwards(apps, None)
    m.refresh_from_db()
    assert m.left_record["weekly_amount"] == "£265.18"
    assert m.left_record == {**old, "weekly_amount": "£265.18"} and m.right_record == right
    assert m.records_fingerprint == records_fingerprint(m.left_record, m.right_record)
    # A later run gives the same record in pounds: the closed match stays closed.
    row = inconsistency(1, surname="<script>alert('x')</script>O'BRIEN", left={"weekly_amount": "£265.18"})
    publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, [row]), actor="test")
    m.refresh_from_db()
    assert m.status == Status.CLOSED and m.seen_since_closed


def test_a_bundle_made_before_the_change_is_published_in_pounds_and_reopens_nothing(casework):
    """A run made before the upgrade and published after it: its pence are shown as pounds,
    and a closed match whose records are otherwise the same stays closed."""
    m = casework.matches["kingston"][2]
    record = {**m.left_record, "weekly_amount": "£265.18"}
    Match.objects.filter(pk=m.pk).update(left_record=record, status=Status.CLOSED,
                                         records_fingerprint=records_fingerprint(record, m.right_record))
    old = inconsistency(2, left={"weekly_amount": "26518"})
    publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, [old], money_shown_as=None), actor="test")
    m.refresh_from_db()
    assert m.status == Status.CLOSED and m.left_record["weekly_amount"] == "£265.18"
    # The same bundle marked as made today would have reopened it: pence are not pounds.
    publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, [old]), actor="test")
    m.refresh_from_db()
    assert m.status == Status.NEW and m.left_record["weekly_amount"] == "26518"
