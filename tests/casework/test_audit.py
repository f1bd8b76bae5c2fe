"""The audit trail is append-only and hash-chained: any edit, deletion or reordering shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from matching.casework import audit
from matching.casework.models import AuditEvent

pytestmark = pytest.mark.django_db


def three_events() -> list[AuditEvent]:
    return [audit.record("k_inv", "view", object_type="match", object_id=str(n), body="kingston") for n in (1, 2, 3)]


def raw(sql: str, *params: object) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params)


def test_an_untouched_trail_verifies():
    events = three_events()
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash
    result = audit.verify()
    assert result.ok and result.events == 3


def test_an_edited_event_is_found():
    events = three_events()
    raw("UPDATE casework_auditevent SET actor = %s WHERE id = %s", "someone_else", events[1].pk)
    result = audit.verify()
    assert not result.ok and result.seq == 2 and "changed" in result.problem


def test_a_deleted_event_is_found():
    events = three_events()
    raw("DELETE FROM casework_auditevent WHERE id = %s", events[1].pk)
    result = audit.verify()
    assert not result.ok and result.seq == 2 and "missing" in result.problem


def test_a_deleted_last_event_is_found():
    events = three_events()
    raw("DELETE FROM casework_auditevent WHERE id = %s", events[2].pk)
    result = audit.verify()
    assert not result.ok and "3 were written" in result.problem


def test_events_cannot_be_changed_or_deleted_through_the_app():
    event = three_events()[0]
    event.actor = "someone_else"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert audit.verify().ok


def test_detail_is_stored_exactly_as_hashed():
    """A detail holding a value JSON has no form for (the date an export covered up to) is
    stored as the text it was hashed as: the trail still verifies, read back from the database."""
    when = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    event = audit.record("k_kc", "export", object_type="export", detail={"rows": 3, "when": when})
    assert AuditEvent.objects.get(pk=event.pk).detail == {"rows": 3, "when": "2026-11-01 09:30:00+00:00"}
    assert audit.verify().ok
