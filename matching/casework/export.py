"""Export matches to CSV or XLSX: marked, attributed, and safe to open in a spreadsheet.

Every cell that a spreadsheet would read as a formula (text starting ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with a single quote, as OWASP's CSV
injection guidance says, so data submitted by anyone can never run in a reviewer's Excel.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from matching.casework import audit
from matching.casework.explained import body_names, explanation_of
from matching.casework.models import Match, Outcome, Status
from matching.cells import neutralise

FORMATS = ("csv", "xlsx")
CHUNK = 2000
FIXED_COLUMNS = [
    "match id", "job", "owning body", "status", "priority band", "priority score", "explanation",
    "allocated to", "first seen", "left kind", "left body", "left record id", "right kind",
    "right body", "right record id", "why they matched", "outcome category", "outcome case reference",
    "outcome actual (£)", "outcome estimated (£)", "outcome estimate basis", "outcome recorded",
]
NUMERIC = {"priority score", "outcome actual (£)", "outcome estimated (£)"}


def pounds(pence: int | None) -> str:
    """Pence as pounds with two decimal places ("1234.56"), or "" for none."""
    if pence is None:
        return ""
    whole, part = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{whole}.{part:02d}"


def _with_outcome(matches: QuerySet[Match]) -> QuerySet[Match]:
    # A match's outcome stands while it is closed: a reopened match's last one is not its own.
    latest = Outcome.objects.filter(match=OuterRef("pk"), match__status=Status.CLOSED).order_by("-recorded_at", "-pk")
    return matches.select_related("owning_body", "allocated_to").annotate(
        outcome_category=Subquery(latest.values("category")[:1]),
        outcome_actual=Subquery(latest.values("actual_pence")[:1]),
        outcome_estimated=Subquery(latest.values("estimated_pence")[:1]),
        outcome_reference=Subquery(latest.values("case_reference")[:1]),
        outcome_basis=Subquery(latest.values("estimate_basis")[:1]),
        outcome_recorded=Subquery(latest.values("recorded_at")[:1]),
    ).order_by("-priority_score", "pk")


def _record_keys(matches: QuerySet[Match]) -> tuple[list[str], list[str]]:
    """The union of the records' field names on each side, in first-seen order."""
    left: dict[str, None] = {}
    right: dict[str, None] = {}
    for lrec, rrec in matches.values_list("left_record", "right_record").iterator(chunk_size=CHUNK):
        left.update(dict.fromkeys(lrec or {}))
        right.update(dict.fromkeys(rrec or {}))
    return list(left), list(right)


def _rows(matches: QuerySet[Match], left_keys: list[str], right_keys: list[str]) -> Iterator[list[Any]]:
    names = body_names()
    for m in _with_outcome(matches).iterator(chunk_size=CHUNK):
        lrec, rrec = m.left_record or {}, m.right_record or {}
        recorded = timezone.localtime(m.outcome_recorded).strftime("%Y-%m-%d %H:%M") if m.outcome_recorded else ""
        yield [
            m.pk, m.job, m.owning_body.code, m.status, m.priority_band, round(m.priority_score, 2),
            explanation_of(m, names),
            m.allocated_to.username if m.allocated_to else "",
            timezone.localtime(m.created_at).strftime("%Y-%m-%d %H:%M"),
            m.left_kind, m.left_body, m.left_record_id, m.right_kind, m.right_body, m.right_record_id,
            m.why_matched(), m.outcome_category or "", m.outcome_reference or "",
            pounds(m.outcome_actual), pounds(m.outcome_estimated), m.outcome_basis or "", recorded,
            *(lrec.get(k) for k in left_keys), *(rrec.get(k) for k in right_keys),
        ]


def preamble(actor: Any, body_label: str, filters: dict[str, Any]) -> list[str]:
    """The lines above the header: the protective marking and what the rows are (and are not)."""
    shown = ", ".join(f"{k}={v}" for k, v in sorted(filters.items()) if v not in (None, "")) or "none"
    at = timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")
    return [
        settings.PROTECTIVE_MARKING,
        f"Inconsistencies requiring investigation — not evidence of fraud. Exported by "
        f"{audit.actor_name(actor)} at {at} from {body_label}; filters: {shown}",
    ]


def export_matches(actor: Any, matches: QuerySet[Match], fmt: str, out: IO[bytes], *,
                   filters: dict[str, Any], body_label: str) -> int:
    """Write ``matches`` to ``out`` as ``fmt`` ("csv" or "xlsx") and return the rows written.

    The caller has already decided the actor may export these matches (``access``). The
    rows are read and the "export" audit event written in one transaction.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    filters = {k: v for k, v in filters.items() if v not in (None, "")}
    with transaction.atomic():
        left_keys, right_keys = _record_keys(matches)
        header = [*FIXED_COLUMNS, *(f"left_{k}" for k in left_keys), *(f"right_{k}" for k in right_keys)]
        lines = preamble(actor, body_label, filters)
        rows = _rows(matches, left_keys, right_keys)
        count = (_write_csv if fmt == "csv" else _write_xlsx)(out, lines, header, rows)
        # One event per body whose matches or records left in the file (a cross-council job's
        # other record is another body's), so each body's auditors see it.
        per_body: dict[str, int] = {}
        for bodies in matches.order_by().values_list("owning_body__code", "left_body", "right_body"):
            for body in {b for b in bodies if b}:
                per_body[body] = per_body.get(body, 0) + 1
        per_body = per_body or {str(filters.get("body", "")): 0}
        # A search is a name: the trail keeps its keyed hash (as for subject access), never its words.
        audited = {k: v for k, v in filters.items() if k != "search"} | (
            {"search_hmac": audit.keyed_digest(str(filters["search"]))} if "search" in filters else {})
        audit.record_many(actor, "export", [
            (body, {"format": fmt, "rows": n, "filters": audited}, "export", "") for body, n in sorted(per_body.items())
        ])
    return count


def _write_csv(out: IO[bytes], lines: list[str], header: list[str], rows: Iterator[list[Any]]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    for line in lines:
        writer.writerow([neutralise(line)])
    writer.writerow([])
    writer.writerow([neutralise(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
        count += 1
    text.flush()
    text.detach()  # leave ``out`` open for the caller
    return count


SHOWN_MONEY = re.compile(r"(-?)£(\d{1,3}(?:,\d{3})*)\.(\d{2})")  # as a record shows it (shown_money)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


FIRST_SPREADSHEET_DATE = date(1900, 3, 1)  # Excel's dates before it are wrong (its 1900 leap year) or negative
EXACT_DIGITS = 15  # a spreadsheet's number keeps 15 significant digits: pence beyond them would be lost


def _record_cell(value: str) -> float | date | None:
    """A record's value as the number or date it shows ("£1,234.56", "2026-06-22"), or None
    for text (as is an amount too long to keep to the penny, or a date a spreadsheet cannot
    show, such as a placeholder 0001-01-01)."""
    if m := SHOWN_MONEY.fullmatch(value):
        digits = m[2].replace(",", "") + m[3]
        return float(f"{m[1]}{digits[:-2]}.{digits[-2:]}") if len(digits.lstrip("0")) <= EXACT_DIGITS else None
    if ISO_DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        return day if day >= FIRST_SPREADSHEET_DATE else None
    return None


def _write_xlsx(out: IO[bytes], lines: list[str], header: list[str], rows: Iterator[list[Any]]) -> int:
    import xlsxwriter

    book = xlsxwriter.Workbook(out, {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "constant_memory": True, "in_memory": False,
    })
    sheet = book.add_worksheet("Inconsistencies")
    marking = settings.PROTECTIVE_MARKING.replace("&", "&&")
    sheet.set_header(f"&C{marking}")
    sheet.set_footer(f"&C{marking}")
    bold = book.add_format({"bold": True})
    for r, line in enumerate(lines):
        sheet.write_string(r, 0, neutralise(line), bold)
    start = len(lines) + 1
    for c, name in enumerate(header):
        sheet.write_string(start, c, neutralise(name), bold)
    numeric = [c for c, name in enumerate(header) if name in NUMERIC]
    money, day = book.add_format({"num_format": "£#,##0.00"}), book.add_format({"num_format": "yyyy-mm-dd"})
    count = 0
    for count, row in enumerate(rows, start=1):
        r = start + count
        for c, value in enumerate(row):
            if c in numeric and value not in (None, ""):
                sheet.write_number(r, c, float(value))
            elif c == 0:
                sheet.write_number(r, c, value)
            elif c >= len(FIXED_COLUMNS) and isinstance(value, str) and (cell := _record_cell(value)) is not None:
                # A record's money and dates as numbers and dates, to sum, sort and filter.
                if isinstance(cell, date):
                    sheet.write_datetime(r, c, datetime.combine(cell, time.min), day)
                else:
                    sheet.write_number(r, c, cell, money)
            else:
                sheet.write_string(r, c, neutralise(value))
    book.close()
    return count
