"""Money in a match's records as reviewers read it: "£5,272.45", not 527245
(matching/casework/shown_money.py).

Matches published before 30 November 2026 hold pence; this rewrites them the same way, and
their records' fingerprint with them, so that the next publish of the same data does not
take the new form for a changed record and reopen every closed match of a job with money
in its records.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    from matching.casework.publish import records_fingerprint
    from matching.casework.shown_money import MoneyFields

    Match = apps.get_model("casework", "Match")
    money = MoneyFields()
    changed = []
    for m in Match.objects.only("pk", "left_kind", "right_kind", "left_record", "right_record").iterator(chunk_size=2000):
        left, right = m.left_record or {}, m.right_record or {}
        a = money.to_pounds(m.left_kind, left)
        b = money.to_pounds(m.right_kind, right)
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
