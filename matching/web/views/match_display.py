"""How a match is shown: the two records as rows, the weight chart, and the history."""

from __future__ import annotations

from typing import Any

from matching.casework.audit import RETURNED_BECAUSE
from matching.casework.models import AuditEvent, Category, LinkageLabel, Match, Status
from matching.web.templatetags.web_tags import humanise, pounds

# Identity fields first, in the order a reviewer reads a person; anything else follows in
# the records' own order.
FIELD_ORDER = [
    "title", "forenames", "forename", "first_name", "middle_names", "surname", "last_name", "dob",
    "date_of_birth", "ni_number", "address_line_1", "address_line_2", "address_line_3",
    "address_line_4", "postcode", "uprn", "phone", "email", "sort_code", "account_number",
]

CHART_WIDTH = 760
LABEL_WIDTH = 340
ZERO_X = 550
HALF = 150
ROW = 36
BAR = 20


def _is_reference(key: str) -> bool:
    return key.endswith(("_ref", "_id", "_reference"))


def record_rows(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per field either record holds: references first, then identity, then the rest."""
    keys = list(dict.fromkeys([*left, *right]))
    rank = {k: i for i, k in enumerate(FIELD_ORDER)}
    keys.sort(key=lambda k: (0 if _is_reference(k) else 1 if k in rank else 2, rank.get(k, 0)))
    rows = []
    for key in keys:
        lv, rv = left.get(key), right.get(key)
        both = lv not in (None, "") and rv not in (None, "")
        rows.append({"label": humanise(key), "left": lv, "right": rv, "differs": both and str(lv) != str(rv)})
    return rows


def chart(contributions: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Geometry of a horizontal bar chart of each comparison's match weight, drawn with SVG
    attributes (the CSP forbids inline styles): positive bars right of the zero line, negative left."""
    items = []
    for c in contributions or []:
        try:
            weight = float(c.get("match_weight") or 0)
        except (TypeError, ValueError):
            weight = 0.0
        items.append({"comparison": humanise(c.get("comparison", "")), "level": str(c.get("level", "")),
                      "weight": weight})
    biggest = max((abs(i["weight"]) for i in items), default=0.0) or 1.0
    for n, item in enumerate(items):
        length = round(abs(item["weight"]) / biggest * HALF, 1)
        positive = item["weight"] >= 0
        top = n * ROW + 8
        item.update({
            "y": top, "text_y": top + BAR - 5, "height": BAR, "width": max(length, 1),
            "x": ZERO_X if positive else ZERO_X - length,
            "value_x": ZERO_X + length + 6 if positive else ZERO_X - length - 6,
            "anchor": "start" if positive else "end",
            "css": "app-chart__bar--positive" if positive else "app-chart__bar--negative",
            "signed": f"{item['weight']:+.1f}",
        })
    height = len(items) * ROW + 16
    summary = "; ".join(f"{i['comparison']} ({i['level']}): {i['signed']}" for i in items)
    return {"items": items, "width": CHART_WIDTH, "height": height, "zero_x": ZERO_X,
            "label_x": LABEL_WIDTH - 10, "summary": summary}


def _describe(event: AuditEvent, notes: dict[int, Any], outcomes: dict[int, Any]) -> dict[str, Any]:
    d = event.detail or {}
    statuses = dict(Status.choices)
    item: dict[str, Any] = {"at": event.at, "who": event.actor, "what": event.action.replace("_", " ").capitalize(),
                            "text": "", "outcome": None, "action": event.action}
    if event.action == "view":
        item["what"] = "Viewed"
    elif event.action == "allocate":
        because = RETURNED_BECAUSE.get(str(d.get("because")))
        item["what"] = (f"Allocated to {d['to']}" if d.get("to")
                        else f"Unallocated: {d.get('from')} {because}" if because else "Unallocated")
    elif event.action == "status":
        item["what"] = (f"Status changed from {statuses.get(d.get('from'), d.get('from'))} "
                        f"to {statuses.get(d.get('to'), d.get('to'))}")
    elif event.action == "note":
        item["what"] = "Note added after the match was closed" if d.get("after_closed") else "Note added"
        note = notes.get(int(d.get("note_id") or 0))
        item["text"] = note.text if note else ""
    elif event.action == "outcome":
        outcome = outcomes.get(int(d.get("outcome_id") or 0))
        item["what"] = f"Outcome recorded: {dict(Category.choices).get(d.get('category'), d.get('category'))}"
        if outcome is not None:
            item["outcome"] = {
                "linkage": dict(LinkageLabel.choices).get(outcome.linkage_label, outcome.linkage_label),
                "case_reference": outcome.case_reference,
                "actual": pounds(outcome.actual_pence) if outcome.actual_pence is not None else "",
                "estimated": pounds(outcome.estimated_pence) if outcome.estimated_pence is not None else "",
                "basis": outcome.estimate_basis,
            }
            item["text"] = outcome.note
    elif event.action == "reopen":
        item["what"] = "Reopened"
        note = notes.get(int(d.get("note_id") or 0))  # the reason lives in a purgeable note
        item["text"] = note.text.removeprefix("Reopened: ") if note else ""
    return item


def history(match: Match, views: int = 200) -> list[dict[str, Any]]:
    """The match's audit events, newest first, with the notes and outcomes they recorded: every
    change, and the latest ``views`` views (each page load adds one; they must not push the
    notes and outcomes off the page)."""
    of_match = AuditEvent.objects.filter(object_type="match", object_id=str(match.pk))
    changes = list(of_match.exclude(action="view"))
    seen = list(of_match.filter(action="view").order_by("-seq")[:views])
    events = sorted([*changes, *seen], key=lambda e: e.seq, reverse=True)
    notes = {n.pk: n for n in match.notes.all()}
    outcomes = {o.pk: o for o in match.outcomes.all()}
    return collapse_views([_describe(e, notes, outcomes) for e in events])


def collapse_views(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive views by the same person shown as one entry ("Viewed 3 times"), dated by the
    latest. Display only: the audit trail keeps every view."""
    out: list[dict[str, Any]] = []
    for item in items:
        last = out[-1] if out else None
        if item["action"] == "view" and last is not None and last["action"] == "view" and last["who"] == item["who"]:
            last["views"] += 1
            last["what"] = f"Viewed {last['views']} times"
            continue
        out.append({**item, "views": 1})
    return out
