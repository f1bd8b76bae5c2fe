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
from matching.wording import plural

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


# What each action is, as the audit page and its filter name it.
ACTION_LABELS = {
    "view": "Viewed a match", "view_record": "Viewed a record of this body's (in another body's match)",
    "view_queue": "Viewed a queue page", "view_set_aside": "Viewed the set-aside matches",
    "allocate": "Allocated", "status": "Changed the status", "note": "Added a note", "outcome": "Recorded an outcome",
    "reopen": "Reopened", "not_found": "Not found by a later run",
    "export": "Exported matches", "labels_export": "Exported labels for analysts",
    "publish": "Published a run", "purge": "Purged past retention", "declaration": "Recorded a declaration",
    "subject_access": "Searched for a subject access request", "body_created": "Added a body",
    "body_renamed": "Renamed a body", "user_created": "Created a user", "user_added": "Added a user to a body",
    "membership_added": "Added a membership", "membership_changed": "Changed a membership",
    "membership_removed": "Removed a membership", "role_changed": "Changed a role",
    "superuser_granted": "Made a superuser", "password_set": "Set a user's password",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " ").capitalize())


def keyed_digest(*parts: str) -> str:
    """HMAC-SHA-256 of ``parts`` under the deployment's secret key, for terms that name a
    person (a subject access search's, an export's search): the trail can show the same
    terms were used twice, but a list of names cannot be hashed to find out whose they were
    (a plain hash could be reversed that way)."""
    import hmac

    from django.conf import settings

    message = "\x1f".join(parts).encode("utf-8")
    return hmac.new(settings.SECRET_KEY.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _listed(items: Any) -> str:
    return ", ".join(str(i) for i in items) if isinstance(items, list) else str(items)


def _change(d: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    """"from A to B" as a reviewer reads it (statuses and roles by their labels)."""
    labels = labels or {}
    before, after = str(d.get("from") or ""), str(d.get("to") or "")
    return f"from {labels.get(before, before) or 'none'} to {labels.get(after, after) or 'none'}"


# Why ``lifecycle.return_to_queue`` unallocated a match (the membership change it followed), as the
# history and the audit trail say it of the person who had it.
RETURNED_BECAUSE = {
    "membership_removed": "was removed from the body",
    "membership_changed": "is no longer an investigator or key contact of the body",
    "role_changed": "is no longer an investigator or key contact of the body",
    "superuser_granted": "became a superuser, who does not work matches",
}


def summary(action: str, detail: dict[str, Any] | None) -> str:
    """What an event's detail says, in a line for the audit page: "to bob (was alice)",
    "CSV, 120 rows; filters: body=kingston". Never a subject access search's terms (the trail
    holds only their keyed hash)."""
    from matching.casework.models import Category, LinkageLabel, Role, Status
    from matching.casework.shown_money import as_pounds

    d = detail or {}
    statuses, roles = dict(Status.choices), {k: v.lower() for k, v in Role.choices}
    if action in ("view", "view_match"):
        return {"cli": "from the command line", "subject_access": "in a subject access search"}.get(str(d.get("via")), "")
    if action == "view_record":
        return f"in match {d.get('match')}: {_listed(d.get('records', []))}"
    if action == "view_queue":
        shown = plural(len(d.get("matches") or []), "match", "matches")
        return f"{shown} shown" + (f", page {d['page']}" if d.get("page") else "") + (
            " from the command line" if d.get("via") == "cli" else "")
    if action == "view_set_aside":
        return f"{plural(len(d.get('rows') or d.get('ids') or []), 'row')} shown"
    if action == "allocate":
        to = f"to {d['to']}" if d.get("to") else "unallocated"
        because = RETURNED_BECAUSE.get(str(d.get("because")))
        return to + (f" (was {d['from']}, who {because})" if d.get("from") and because
                     else f" (was {d['from']})" if d.get("from") else "")
    if action == "status":
        return _change(d, statuses) + (" (on adding a note)" if d.get("by") == "note" else "")
    if action == "note":
        return (f"note {d['note_id']}" if d.get("note_id") else "") + (
            " (added after the match was closed)" if d.get("after_closed") else "")
    if action == "outcome":
        parts = [dict(Category.choices).get(d.get("category", ""), str(d.get("category"))),
                 dict(LinkageLabel.choices).get(d.get("linkage_label", ""), str(d.get("linkage_label"))).lower()]
        parts += [f"{kind} {as_pounds(int(d[key]))}" for kind, key in (("actual", "actual_pence"), ("estimated", "estimated_pence"))
                  if isinstance(d.get(key), int)]
        return "; ".join(parts)
    if action == "reopen":
        if d.get("run_id"):  # publish's own words; a person's reason is a note, purged with the match
            return f"{d.get('reason', 'a record changed')} (run {d['run_id']})"
        return f"reason in note {d['note_id']}" if d.get("note_id") else ""
    if action == "not_found":
        return f"run {d.get('run_id')} looked for the pair and did not find it: a record may have been corrected"
    if action == "export":
        filters = ", ".join("search given" if k in ("search", "search_hmac") else f"{k}={v}"
                            for k, v in sorted((d.get("filters") or {}).items())) or "none"
        return f"{str(d.get('format', '')).upper()}, {plural(d.get('rows', 0), 'row')}; filters: {filters}"
    if action == "labels_export":
        labels = ", ".join(f"{k} {v:,}" for k, v in (d.get("by_label") or {}).items())
        return (f"{str(d.get('format', '')).upper()}, {plural(d.get('rows', 0), 'row')} "
                f"({d.get('rows_of_body', 0):,} of this body's)" + (f"; job {d['job']}" if d.get("job") else "; every job")
                + (f"; {labels}" if labels else ""))
    if action == "publish":
        counts = ", ".join(f"{d[k]:,} {word}" for k, word in (
            ("new", "new"), ("updated", "updated"), ("seen_again", "seen again"), ("reopened", "reopened"),
            ("set_aside", "set aside"), ("not_found", "no longer found")) if d.get(k))
        return f"{d.get('job', '')}: {plural(d.get('inconsistencies', 0), 'inconsistency', 'inconsistencies')}" + (f" ({counts})" if counts else "")
    if action == "subject_access":
        scope = d.get("scope")
        found = ", ".join(plural(d[k], one, many) for k, one, many in (
            ("matches", "match", "matches"), ("dataset_rows", "dataset row", None), ("rejected_rows", "rejected row", None),
            ("runs", "run", None)) if k in d)  # what an older version did not count is not said to be none
        return (f"{found or 'nothing counted'} found; searched {scope if isinstance(scope, str) else _listed(scope or 'its bodies')}"
                " (the terms are not kept)")
    if action == "declaration":
        return f"exercise as at {d.get('exercise')}" + (f", declared by {d['declared_by']}" if d.get("declared_by") else "")
    if action == "body_created":
        return f"on publishing run {d['by_publish']}" if d.get("by_publish") else str(d.get("name", ""))
    if action == "body_renamed":
        return _change(d)
    if action == "role_changed":
        return _change(d, roles)
    if action == "membership_changed":
        return f"{d.get('username')}: {_change(d, roles)}"
    if action in ("membership_added", "membership_removed", "user_added"):
        role = roles.get(str(d.get("role")), d.get("role"))
        return (f"{d['username']} " if d.get("username") else "") + (f"as {role}" if role else "") + (
            " (superuser)" if d.get("superuser") or d.get("is_superuser") else "")
    if action == "password_set":
        return f"for {d.get('username')}" + (", to be changed at their next sign-in" if d.get("must_change") else "")
    if action == "user_created":
        return str(d.get("username", "")) + (" (superuser)" if d.get("is_superuser") else "")
    if action == "purge":
        counts = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in d.items() if isinstance(v, int) and not isinstance(v, bool) and v)
        return f"before {d.get('before')}" + (f": {counts}" if counts else ": nothing held")
    # An action this does not know: its detail as it is, briefly.
    return "; ".join(f"{k.replace('_', ' ')}: {len(v) if isinstance(v, list | dict) else v}" for k, v in d.items())


def record(actor: Any, action: str, obj: Any = None, *, body: str = "",
           detail: dict[str, Any] | None = None, object_type: str = "", object_id: str = "") -> AuditEvent:
    """Append one event. Runs in the caller's transaction (or its own), so an action and its
    audit event are written together or not at all."""
    if obj is not None:
        object_type = object_type or type(obj).__name__.lower()
        object_id = object_id or str(obj.pk)
    return record_many(actor, action, [(body, detail or {}, object_type, object_id)])[0]


def record_many(actor: Any, action: str, events: list[tuple[str, dict[str, Any], str, str]]) -> list[AuditEvent]:
    """Append one event per (body, detail, object type, object id), chained in that order, in
    one transaction holding the trail's head once (a page shown to several bodies' trails
    costs one lock, not one each)."""
    name = actor_name(actor)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        at = timezone.now()  # after the lock, so event order and time order agree
        made = []
        for body, detail, object_type, object_id in events:
            stored = json.loads(json.dumps(detail, default=str))  # exactly what will be stored
            seq = head.seq + 1
            digest = chain_hash(head.hash, _canonical(seq, at, name, action, object_type, object_id, body, stored))
            made.append(AuditEvent(
                seq=seq, at=at, actor=name, action=action, object_type=object_type,
                object_id=object_id, body=body, detail=stored, prev_hash=head.hash, hash=digest,
            ))
            head.seq, head.hash = seq, digest
        AuditEvent.objects.bulk_create(made)
        head.save(update_fields=["seq", "hash"])
    return made


def record_view(actor: Any, match: Any, detail: dict[str, Any] | None = None) -> None:
    """One match shown, both records: a "view" in the owning body's trail (and the match's
    history), and a "view_record" in the trail of each other body whose record it shows (a
    cross-council job shows another council's employee or tenant)."""
    record(actor, "view", match, body=match.owning_body.code, detail=detail)
    others: dict[str, list[str]] = {}
    for side in ("left", "right"):
        body = getattr(match, f"{side}_body")
        if body and body != match.owning_body.code:
            others.setdefault(body, []).append(f"{getattr(match, f'{side}_kind')}/{body}/{getattr(match, f'{side}_record_id')}")
    for body, records in sorted(others.items()):
        record(actor, "view_record", object_type="record", object_id=records[0][:200], body=body,
               detail={"match": match.pk, "records": records, **(detail or {})})


def record_listing(actor: Any, action: str, matches: list[Any], detail: dict[str, Any] | None = None) -> None:
    """A list of matches shown (their explanations name people): one event per body whose
    matches or records it shows, naming the matches, in that body's trail."""
    shown: dict[str, list[int]] = {}
    for m in matches:
        for body in dict.fromkeys((m.owning_body.code, m.left_body, m.right_body)):
            if body:
                shown.setdefault(body, []).append(m.pk)
    record_many(actor, action, [(body, {"matches": ids, **(detail or {})}, "matches", "") for body, ids in sorted(shown.items())])


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    problem: str = ""
    seq: int | None = None
    head: str = ""  # the last event's hash

    @property
    def anchor(self) -> str:
        """The trail's anchor, "<events>:<last event's hash>": recorded outside the case store,
        it lets a later ``verify`` show that no event up to it was removed or rewritten."""
        return f"{self.events}:{self.head}" if self.ok and self.events else ""


# An anchor names its event's hash in full or by its first characters, at least this many.
ANCHOR_HASH_CHARS = 16


def parse_anchor(text: str) -> tuple[int, str]:
    """(event, hash prefix) from an anchor "<event>:<hash>" as ``verify`` printed it; a
    ValueError saying what an anchor looks like otherwise."""
    seq, _, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    seq = seq.strip()
    if not (seq.isascii() and seq.isdigit() and int(seq) > 0 and len(digest) >= ANCHOR_HASH_CHARS
            and len(digest) <= 64 and all(c in "0123456789abcdef" for c in digest)):
        raise ValueError(
            f"{text.strip()!r} is not an anchor: an anchor is an event's number and its hash, as "
            f"'matching audit verify' prints it (for example 1234:{'0' * ANCHOR_HASH_CHARS}, the hash "
            f"in full or its first {ANCHOR_HASH_CHARS} characters or more)"
        )
    return int(seq), digest


def verify(anchor: tuple[int, str] | None = None) -> Verification:
    """Recompute the chain from the first event; name the first event that does not fit.

    The chain alone cannot show events removed from its end, or a trail rewritten from some
    event on with its hashes recomputed: anyone able to write to the case store can do
    either. An ``anchor`` recorded earlier (``Verification.anchor``, kept outside the store)
    can: its event must still be there, with the hash it had.
    """
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
        if anchor is not None and event.seq == anchor[0] and not event.hash.startswith(anchor[1]):
            return Verification(False, count, f"event {event.seq} is not the event the anchor recorded: the trail "
                                              "was rewritten from there or before", event.seq)
        prev = event.hash
        expected_seq += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != count or head.hash != prev):
        return Verification(False, count, f"the trail ends at event {count} but {head.seq} were written", count + 1)
    if anchor is not None and anchor[0] > count:
        return Verification(False, count, f"event {anchor[0]}, the anchor's, is missing: events were removed "
                                          "from the end of the trail", count + 1)
    return Verification(True, count, head=prev if count else "")
