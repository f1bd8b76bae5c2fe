"""The audit trail: record every view, allocation, status change, outcome, export and deletion,
and verify that nobody has edited it since.

Each event's hash covers the previous event's hash, so the trail is a chain: changing,
removing or reordering any event changes every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from matching.casework.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def actor_name(actor: Any) -> str:
    """A user's username, or the given name for the CLI and system tasks."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return str(getattr(actor, "username", actor))


def _canonical(seq: int, at: datetime, actor: str, action: str, object_type: str,
               object_id: str, body: str, detail: dict[str, Any]) -> bytes:
    return json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, object_type, object_id, body, detail],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    ).encode("utf-8")


def chain_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + content).hexdigest()


def record(actor: Any, action: str, obj: Any = None, *, body: str = "",
           detail: dict[str, Any] | None = None, object_type: str = "", object_id: str = "") -> AuditEvent:
    """Append one event. Runs in the caller's transaction (or its own), so an action and its
    audit event are written together or not at all."""
    if obj is not None:
        object_type = object_type or type(obj).__name__.lower()
        object_id = object_id or str(obj.pk)
    detail = json.loads(json.dumps(detail or {}, default=str))  # exactly what will be stored
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        at = timezone.now()  # after the lock, so event order and time order agree
        seq = head.seq + 1
        name = actor_name(actor)
        digest = chain_hash(head.hash, _canonical(seq, at, name, action, object_type, object_id, body, detail))
        event = AuditEvent.objects.create(
            seq=seq, at=at, actor=name, action=action, object_type=object_type,
            object_id=object_id, body=body, detail=detail, prev_hash=head.hash, hash=digest,
        )
        head.seq, head.hash = seq, digest
        head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    problem: str = ""
    seq: int | None = None


def verify() -> Verification:
    """Recompute the chain from the first event; name the first event that does not fit."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=5000):
        count += 1
        if event.seq != expected_seq:
            return Verification(False, count, f"event {expected_seq} is missing (next found is {event.seq})", expected_seq)
        if event.prev_hash != prev:
            return Verification(False, count, f"event {event.seq} does not follow event {event.seq - 1}", event.seq)
        content = _canonical(event.seq, event.at, event.actor, event.action, event.object_type,
                             event.object_id, event.body, event.detail)
        if chain_hash(prev, content) != event.hash:
            return Verification(False, count, f"event {event.seq} was changed after it was written", event.seq)
        prev = event.hash
        expected_seq += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != count or head.hash != prev):
        return Verification(False, count, f"the trail ends at event {count} but {head.seq} were written", count + 1)
    return Verification(True, count)
