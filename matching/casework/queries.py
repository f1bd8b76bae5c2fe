"""Read-only questions the review app asks of the case store: queue filters, counts and the
outcomes dashboard. Each answer is one or two aggregate queries, never a loop over matches.

Callers pass a queryset already restricted by ``access.visible_matches``; nothing here
decides who may see what.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from matching.casework.models import Category, Match, Outcome, Status

# Matches are numbered as they are first published, so id order is first-seen order: sorting
# by id uses the table's own key instead of sorting every visible row by created_at.
SORTS = {
    "priority": ("-priority_score", "-pk"),
    "newest": ("-pk",),
    "oldest": ("pk",),
}
OPEN = (Status.NEW, Status.IN_PROGRESS)


@dataclass(frozen=True)
class QueueFilters:
    """What a reviewer asked the queue for. ``allocated`` is "me", "unallocated", a user id or "";
    ``status`` a status, "open" (new or in progress), or "" or "all" for any."""

    job: str = ""
    status: str = ""
    band: str = ""
    allocated: str = ""
    body: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "priority"
    search: str = ""  # a match number, a record's reference, or words in either record (a name)

    def as_dict(self) -> dict[str, Any]:
        """The filters actually applied, as plain strings (for the audit trail and exports)."""
        out = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items()}
        return {k: v for k, v in out.items() if v}


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_matches(matches: QuerySet[Match], f: QueueFilters, user: Any, *, with_status: bool = True) -> QuerySet[Match]:
    """Apply the queue filters (not the sort)."""
    if f.job:
        matches = matches.filter(job=f.job)
    if with_status:
        matches = with_status_of(matches, f.status)
    if f.band:
        matches = matches.filter(priority_band=f.band)
    if f.allocated == "me":
        matches = matches.filter(allocated_to=user)
    elif f.allocated == "unallocated":
        matches = matches.filter(allocated_to__isnull=True)
    elif f.allocated.isdigit():
        matches = matches.filter(allocated_to_id=int(f.allocated))
    if f.body:
        matches = matches.filter(owning_body__code=f.body)
    if f.date_from:
        matches = matches.filter(created_at__gte=_start_of(f.date_from))
    if f.date_to:
        matches = matches.filter(created_at__lt=_start_of(f.date_to + timedelta(days=1)))
    if f.search:
        matches = _search(matches, f.search)
    return matches


def _search(matches: QuerySet[Match], text: str) -> QuerySet[Match]:
    """A match number, a record's reference (as a caller quotes it: as given, or in capitals),
    or every word somewhere in the values of one of the two records (a name: 'gemma francis';
    a postcode), whatever its case.
    A reference is looked up by index first; only when no record has it are the records'
    texts read."""
    text = " ".join(text.split())
    if numbered := re.fullmatch(r"(?i)match\s*(?:no\.?|number)?\s*#?\s*(\d+)", text):
        text = numbered.group(1)  # "Match 165", as the queue labels it
    forms = sorted({text, text.upper()})
    by_reference = Q(left_record_id__in=forms) | Q(right_record_id__in=forms)
    if text.isascii() and text.isdecimal():  # a number is a match's or a record's, not a fragment of every record
        return matches.filter(by_reference | Q(pk=int(text)))
    if " " not in text and any(c.isdigit() for c in text):
        found = matches.filter(by_reference)
        if found.exists():
            return found
    words = Q()
    for side in ("left_text", "right_text"):
        every = Q()
        for word in text.upper().split(" "):
            every &= Q(**{f"{side}__contains": word})
        words |= every
    return matches.filter(by_reference | words)


def sort_matches(matches: QuerySet[Match], sort: str) -> QuerySet[Match]:
    return matches.order_by(*SORTS.get(sort, SORTS["priority"]))


def with_status_of(matches: QuerySet[Match], status: str) -> QuerySet[Match]:
    """The matches of a status, or of either open one ("open"); "" or "all" for any."""
    if status == "open":
        return matches.filter(status__in=OPEN)
    return matches.filter(status=status) if status and status != "all" else matches


def counted(counts: dict[str, int], status: str) -> int:
    """How many matches ``with_status_of`` keeps, from ``status_counts``."""
    if status == "open":
        return sum(n for s, n in counts.items() if s in OPEN)
    return counts.get(status, 0) if status and status != "all" else sum(counts.values())


def status_counts(matches: QuerySet[Match]) -> dict[str, int]:
    """Matches per status (every status present, zeros included) in one aggregate query."""
    agg = matches.order_by().aggregate(
        **{s: Count("pk", filter=Q(status=s)) for s in Status.values}
    )
    return {s: agg[s] or 0 for s in Status.values}


def _current_outcomes() -> QuerySet[Outcome]:
    """Each match's latest outcome (a later one, or the same time with a higher id, supersedes)."""
    later = Outcome.objects.filter(match=OuterRef("match")).filter(
        Q(recorded_at__gt=OuterRef("recorded_at")) | Q(recorded_at=OuterRef("recorded_at"), pk__gt=OuterRef("pk"))
    )
    return Outcome.objects.filter(~Exists(later))


def dashboard(matches: QuerySet[Match], now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per job and owning body: counts by status, age of open matches and, from the
    current outcome of each closed match, counts by category and amounts. Two queries."""
    now = now or timezone.now()
    d30, d90 = now - timedelta(days=30), now - timedelta(days=90)
    is_open = Q(status__in=OPEN)
    rows = (
        matches.order_by()
        .values("job", "job_title", "owning_body__code", "owning_body__name")
        .annotate(
            total=Count("pk"),
            new=Count("pk", filter=Q(status=Status.NEW)),
            in_progress=Count("pk", filter=Q(status=Status.IN_PROGRESS)),
            closed=Count("pk", filter=Q(status=Status.CLOSED)),
            age_0_30=Count("pk", filter=is_open & Q(created_at__gte=d30)),
            age_31_90=Count("pk", filter=is_open & Q(created_at__lt=d30, created_at__gte=d90)),
            age_over_90=Count("pk", filter=is_open & Q(created_at__lt=d90)),
            oldest_open=Min("created_at", filter=is_open),
        )
        .order_by("job", "owning_body__code")
    )
    closed_ids = matches.filter(status=Status.CLOSED).order_by().values("pk")
    outcomes = (
        _current_outcomes().filter(match__in=closed_ids)
        .values("match__job", "match__owning_body__code")
        .annotate(
            actual_pence=Sum("actual_pence"),
            estimated_pence=Sum("estimated_pence"),
            **{f"outcome_{c}": Count("pk", filter=Q(category=c)) for c in Category.values},
        )
        .order_by()
    )
    by_key = {(o["match__job"], o["match__owning_body__code"]): o for o in outcomes}
    result = []
    for row in rows:
        o = by_key.get((row["job"], row["owning_body__code"]), {})
        row["outcomes"] = {c: o.get(f"outcome_{c}", 0) for c in Category.values}
        row["actual_pence"] = o.get("actual_pence") or 0
        row["estimated_pence"] = o.get("estimated_pence") or 0
        result.append(row)
    return result


def dashboard_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The dashboard's bottom line, summed from its rows."""
    keys = ("total", "new", "in_progress", "closed", "age_0_30", "age_31_90", "age_over_90",
            "actual_pence", "estimated_pence")
    totals: dict[str, Any] = {k: sum(r[k] for r in rows) for k in keys}
    totals["outcomes"] = {c: sum(r["outcomes"][c] for r in rows) for c in Category.values}
    opens = [r["oldest_open"] for r in rows if r["oldest_open"]]
    totals["oldest_open"] = min(opens) if opens else None
    return totals
