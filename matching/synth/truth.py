"""The truth: every pair of records for which a job's rule holds on the true values.

Each rule is SQL over the simulated records before any noise, joined on who each record
is really about (``person``) or where (``addr``, the true property). The README of every
exercise prints these rules in words; keep the two in step.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from matching.synth.config import FSM_EARNINGS_THRESHOLD_PENCE, JOB_KINDS
from matching.synth.life import annual_pay
from matching.synth.table import add_years
from matching.synth.world import World

# Each rule selects (l.row_id, r.row_id) from its two tables, l and r; :ref is the exercise date.
# A rule with UNION is two join conditions whose pairs are added together (each an equi-join,
# which DuckDB runs as a hash join; an OR across two keys would compare every pair).
RULES: dict[str, str] = {
    "hb-to-payroll": """l.person = r.person
        AND r.date_started <= coalesce(l.claim_end_date, :ref) AND coalesce(r.date_left, :ref) >= l.claim_start_date
        AND coalesce(l.declared_earnings_weekly, 0) = 0""",
    "hb-to-deceased": """l.person = r.person AND l.claim_start_date <= r.date_of_death
        AND (l.claim_end_date IS NULL OR l.claim_end_date > r.date_of_death)""",
    "pensions-to-deceased": """l.person = r.person AND l.pension_start_date <= r.date_of_death
        AND (l.pension_end_date IS NULL OR l.pension_end_date > r.date_of_death)""",
    # Still valid after the death, however it came to be: issued (or renewed) after it too.
    "blue-badges-to-deceased": """l.person = r.person
        AND coalesce(l.cancelled_date, l.expiry_date) > r.date_of_death""",
    "spd-to-electoral-register": """l.discount_type = 'SPD' AND l.addr = r.addr AND r.person <> l.person AND r.person <> l.joint
        AND greatest(r.registered_date, r.bday18, l.discount_start_date) <= coalesce(l.discount_end_date, :ref)""",
    "spd-to-post16": """l.discount_type = 'SPD' AND l.addr = r.addr AND r.person <> l.person AND r.person <> l.joint
        AND r.bday18 BETWEEN l.discount_start_date AND coalesce(l.discount_end_date, :ref)""",
    "payroll-to-payroll": """l.person = r.person AND l.body < r.body
        AND l.date_started <= coalesce(r.date_left, :ref) AND r.date_started <= coalesce(l.date_left, :ref)""",
    "payroll-to-creditors": """l.body = r.body AND l.sort_code = r.sort_code AND l.account_number = r.account_number
        UNION l.body = r.body AND r.addr >= 0 AND l.addr = r.addr""",
    "tenants-to-tenants": """l.person = r.person AND l.tenancy_key < r.tenancy_key AND l.tenant AND r.tenant
        AND l.tenancy_end_date IS NULL AND r.tenancy_end_date IS NULL""",
    "hb-to-student-loans": """l.person = r.person AND r.mode = 'FT'
        AND r.course_start_date <= coalesce(l.claim_end_date, :ref) AND coalesce(r.course_end_date, :ref) >= l.claim_start_date""",
    "admissions-to-council-tax": """r.person = l.person AND r.addr <> l.addr
        AND r.liable_from_date <= l.admission_date AND (r.liable_to_date IS NULL OR r.liable_to_date >= l.admission_date)
        UNION r.joint = l.person AND r.addr <> l.addr
        AND r.liable_from_date <= l.admission_date AND (r.liable_to_date IS NULL OR r.liable_to_date >= l.admission_date)""",
    "admissions-to-electoral-register": """r.person = l.person AND r.addr <> l.addr AND r.registered_date <= l.admission_date""",
    "fsm-to-payroll": f"""l.person = r.person AND r.annual_pay > {FSM_EARNINGS_THRESHOLD_PENCE}
        AND r.date_started <= coalesce(l.eligibility_end_date, :ref) AND coalesce(r.date_left, :ref) >= l.eligibility_start_date""",
    "duplicate-payments": """l.invoice = r.invoice AND l.body = r.body AND l.row_id < r.row_id""",
}
RULES["ctr-to-payroll"] = RULES["hb-to-payroll"]
RULES["ctr-to-deceased"] = RULES["hb-to-deceased"]
RULES["concessionary-travel-to-deceased"] = RULES["blue-badges-to-deceased"]
RULES["ctr-to-student-loans"] = RULES["hb-to-student-loans"]


def _arrow(w: World, kind: str) -> pa.Table:
    """A life table's rule columns as Arrow (NaT becomes null), with derived columns the rules use."""
    t = w.tables[kind]
    p = w.people
    cols: dict[str, pa.Array] = {}
    for name, col in t.items():
        if np.issubdtype(col.dtype, np.datetime64):
            cols[name] = pa.array(col.astype("datetime64[D]"), type=pa.date32(), mask=np.isnat(col))
        elif col.dtype == object:
            cols[name] = pa.array([str(v) for v in col], type=pa.string())
        else:
            cols[name] = pa.array(col)
    person = np.maximum(t["person"], 0)
    if kind in ("electoral_register", "post16_learners"):
        cols["bday18"] = pa.array(add_years(p["dob"][person], 18), type=pa.date32())
    if kind == "payroll":
        cols["annual_pay"] = pa.array(annual_pay(t))
        cols["sort_code"] = pa.array([str(v) for v in p["sort_code"][person]])
        cols["account_number"] = pa.array([str(v) for v in p["account_number"][person]])
        cols["addr"] = pa.array(p["property"][person])
    if kind == "housing_tenants":
        cols["tenancy_key"] = pa.array(t["tenancy"] * 10 + t["body"])
    if "joint" not in cols and kind == "council_tax":
        cols["joint"] = pa.array(np.full(len(t), -1))
    return pa.table(cols)


def compute(w: World, jobs: tuple[str, ...] | None = None) -> list[tuple[str, str, int, str, int]]:
    """(job, left kind, left row_id, right kind, right row_id) for every pair the rules flag."""
    out: list[tuple[str, str, int, str, int]] = []
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        registered: set[str] = set()
        for job in jobs or tuple(JOB_KINDS):
            left, right = JOB_KINDS[job]
            for kind in (left, right):
                if kind not in registered and kind in w.tables and len(w.tables[kind]):
                    con.register(kind, _arrow(w, kind))
                    registered.add(kind)
            if left not in registered or right not in registered:
                continue
            parts = RULES[job].replace(":ref", f"DATE '{w.ref}'").split("\n        UNION ")
            sql = " UNION ".join(f"SELECT l.row_id, r.row_id FROM {left} l JOIN {right} r ON {part}" for part in parts)
            rows = con.execute(f"SELECT * FROM ({sql}) ORDER BY 1, 2").fetchall()
            out.extend((job, left, int(a), right, int(b)) for a, b in rows)
    finally:
        con.close()
    return out
