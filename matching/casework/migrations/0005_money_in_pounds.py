"""Money in a match's records as reviewers read it: "£5,272.45", not 527245.

Run bundles made since 30 November 2026 give a record's money fields in pounds. Matches
published before hold pence; this rewrites them the same way, and their records'
fingerprint with them, so that the next publish of the same data does not take the new
form for a changed record and reopen every closed match of a job with money in its records.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import migrations

PENCE = re.compile(r"-?\d{1,18}")


def as_pounds(pence: int) -> str:
    whole, part = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}£{whole:,}.{part:02d}"


def money_fields(kind: str, cache: dict[str, frozenset[str]]) -> frozenset[str]:
    if kind not in cache:
        from matching.errors import UserError
        from matching.specs import load_spec

        try:
            spec = load_spec(kind)
        except UserError:  # a kind no longer specified: its records are left as they are
            cache[kind] = frozenset()
        else:
            cache[kind] = frozenset(f.name for f in spec.fields if f.type == "money_pence" and not f.matching_only)
    return cache[kind]


def to_pounds(record: dict[str, Any], fields: frozenset[str]) -> bool:
    changed = False
    for name in fields & record.keys():
        value = record[name]
        if isinstance(value, int) or (isinstance(value, str) and PENCE.fullmatch(value)):
            record[name] = as_pounds(int(value))
            changed = True
    return changed


def forwards(apps: Any, schema_editor: Any) -> None:
    from matching.casework.publish import records_fingerprint

    Match = apps.get_model("casework", "Match")
    cache: dict[str, frozenset[str]] = {}
    changed = []
    for m in Match.objects.only("pk", "left_kind", "right_kind", "left_record", "right_record").iterator(chunk_size=2000):
        left, right = m.left_record or {}, m.right_record or {}
        a = to_pounds(left, money_fields(m.left_kind, cache))
        b = to_pounds(right, money_fields(m.right_kind, cache))
        if a or b:
            m.left_record, m.right_record = left, right
            m.records_fingerprint = records_fingerprint(left, right)
            changed.append(m)
        if len(changed) >= 2000:
            Match.objects.bulk_update(changed, ["left_record", "right_record", "records_fingerprint"])
            changed = []
    if changed:
        Match.objects.bulk_update(changed, ["left_record", "right_record", "records_fingerprint"])


class Migration(migrations.Migration):

    dependencies = [
        ("casework", "0004_password_change_required"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
