"""Template filters of the review app: money, labels and masked values."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from matching.casework.audit import action_label, summary
from matching.casework.shown_money import as_pounds

register = template.Library()

# Words of field names as a reader writes them: initialisms in capitals, "dob" in full.
LABELS = {
    "dob": "date of birth",
    "ni": "NI",
    "uprn": "UPRN",
    "upn": "UPN",
    "uln": "ULN",
    "urn": "URN",
    "spd": "SPD",
    "hb": "HB",
    "ctr": "CTR",
    "vat": "VAT",
    "fsm": "FSM",
    "nass": "NASS",
    "po": "PO",
    "id": "ID",
}


@register.filter
def pounds(pence: Any) -> str:
    """12345 → "£123.45"; None → "£0.00"."""
    return as_pounds(int(pence or 0))


@register.filter
def humanise(name: Any) -> str:
    """A field or dataset name in words: "ni_number" → "NI number", "housing_benefit" → "Housing benefit"."""
    text = str(name or "")
    words = [LABELS.get(w, w) for w in text.split("_") if w]
    phrase = " ".join(words)
    return phrase[:1].upper() + phrase[1:]


register.filter("action_label", action_label)  # an audit event's action as the audit page names it


@register.filter
def audit_summary(event: Any) -> str:
    """An audit event's detail in a line (``audit.summary``)."""
    return summary(event.action, event.detail)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@register.filter
def record_value(value: Any) -> str:
    """A record's value as the reviewer sees it: masked matching-only values marked as such."""
    if value is None or value == "":
        return mark_safe('<span class="govuk-hint govuk-!-margin-0">Not held</span>')
    text = str(value)
    if isinstance(value, bool) or text in ("true", "false"):
        return "Yes" if text in ("True", "true") else "No"
    if _ISO_DATE.fullmatch(text):  # the records hold dates as ISO text: shown as the app shows dates
        try:
            return dt.date.fromisoformat(text).strftime("%-d %B %Y")
        except ValueError:
            pass
    if "•" in text:
        return format_html(
            '<span class="app-masked">{}</span><span class="govuk-visually-hidden"> masked: used for matching only</span>',
            text,
        )
    return format_html("{}", text)


@register.simple_tag(takes_context=True)
def query_with(context: Any, **changes: Any) -> str:
    """The current query string with some parameters replaced (for sort links and pagination),
    never with a search (whose words travel only in a form posted)."""
    params = context["request"].GET.copy()
    params.pop("search", None)
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
