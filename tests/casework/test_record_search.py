"""The queue's search reads each record's shown values in capitals (Match.left_text and
right_text), filled at publish and, for matches published before migration 0007, by it."""

from __future__ import annotations

import importlib

from django.apps import apps

from matching.casework.models import SEARCHED_BYTES, Match
from matching.casework.publish import publish
from matching.casework.queries import QueueFilters, filter_matches
from matching.workspace import Workspace
from tests.casework.fixtures import inconsistency, make_bundle

migration = importlib.import_module("matching.casework.migrations.0007_record_text")


def _found(text: str) -> set[int]:
    return set(filter_matches(Match.objects.all(), QueueFilters(search=text), None).values_list("pk", flat=True))


def test_matches_published_before_it_are_found_by_name_after_it(casework):
    m = casework.matches["kingston"][0]
    Match.objects.all().update(left_text="", right_text="")  # as the migration's new columns find them
    name = f"{m.left_record['forenames']} {m.left_record['surname']}".lower()
    assert m.pk not in _found(name)
    migration.forwards(apps, None)
    assert m.pk in _found(name)
    m.refresh_from_db()
    assert m.left_text == " ".join(str(v).upper() for v in m.left_record.values() if v not in (None, "")) != ""


def test_a_record_with_a_long_field_is_published_and_found_by_its_name(casework):
    """A free-text field of thousands of characters (any script) is published whole, and the
    searched text keeps within what an index entry may hold on PostgreSQL, even beside the
    longest record ids in four-byte characters; the name is still found (free text is not
    searched)."""
    note = "Ωmega straße " * 700
    ref = "𝔸" * 200
    row = inconsistency(41, surname="ZAŁĘSKA", left={"notes": note, "claim_ref": ref}, right={"notes": note, "death_ref": ref})
    publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, [row]), actor="test")
    m = Match.objects.get(left_record_id=ref)
    assert m.left_record["notes"] == note
    assert len(m.left_text.encode("utf-8")) <= SEARCHED_BYTES and "ZAŁĘSKA" in m.left_text
    assert m.pk in _found("gemma załęska")
