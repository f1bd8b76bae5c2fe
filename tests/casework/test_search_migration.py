"""Migration 0007: matches published before it are found by the queue's search, which now
reads each record's shown values (Match.left_text, right_text) instead of its JSON."""

from __future__ import annotations

import importlib

from django.apps import apps

from matching.casework.models import Match
from matching.casework.queries import QueueFilters, filter_matches

migration = importlib.import_module("matching.casework.migrations.0007_record_text")


def test_matches_published_before_it_are_found_by_name_after_it(casework):
    m = casework.matches["kingston"][0]
    Match.objects.all().update(left_text="", right_text="")  # as the migration's new columns find them
    name = f"{m.left_record['forenames']} {m.left_record['surname']}".lower()
    everything = Match.objects.all()
    assert m not in filter_matches(everything, QueueFilters(search=name), None)
    migration.forwards(apps, None)
    assert m in filter_matches(everything, QueueFilters(search=name), None)
    m.refresh_from_db()
    assert m.left_text == " ".join(str(v).upper() for v in m.left_record.values() if v not in (None, ""))
