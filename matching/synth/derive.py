"""Each dataset kind from the life tables: one function per kind giving the true values of
the spec's fields (before noise), plus record keys in each body's own numbering.

Identity fields come from the person a record is about; the address from the property it
names (``addr``); other people in the record (a partner, a joint applicant, a parent or a
child) from their own rows. Values are typed: names and codes as text, dates as
``datetime64[D]`` (NaT blank), money as pence (-1 blank), flags as 0/1 (-1 blank).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from matching.synth.addresses import BOROUGHS
from matching.synth.life import annual_pay
from matching.synth.table import NAT, Table, add_years
from matching.synth.world import BODIES, World

# Record key formats per body (kingston, richmond, windsor-maidenhead, dwp, slc).
KEY_FORMATS: dict[str, tuple[str, ...]] = {
    "payroll": ("E{:06d}", "{:07d}", "WM-{:06d}"),
    "pensions": ("P{:07d}", "RPF{:06d}", "BPF/{:06d}"),
    "council_tax": ("5{:08d}", "CT{:08d}", "{:08d}"),
    "council_tax_reduction": ("CTR{:07d}", "{:08d}", "RB-CTR-{:06d}"),
    "housing_benefit": ("", "", "", "HB{:08d}"),
    "deceased_persons": ("", "", "", "DR{:09d}"),
    "student_loans": ("", "", "", "", "{:011d}"),
    "housing_tenants": ("TP{:07d}", "RHP-P{:06d}", "HS{:07d}"),
    "housing_waiting_list": ("HR{:06d}", "WL{:07d}", "HN/{:06d}"),
    "right_to_buy": ("RTB{:05d}", "RTB/{:05d}", "RTA{:05d}"),
    "blue_badges": ("KT{:09d}", "RT{:09d}", "WM{:09d}"),
    "concessionary_travel": ("633597{:012d}", "633597{:012d}", "633598{:012d}"),
    "resident_parking_permits": ("K{:07d}", "RP{:07d}", "P{:08d}"),
    "post16_learners": ("L{:07d}", "{:08d}", "PL{:06d}"),
    "school_admissions": ("ADM{:06d}", "{:07d}", "WMA/{:06d}"),
    "free_school_meals": ("FSM{:06d}", "F{:07d}", "FSM-{:06d}"),
    "trade_creditors": ("{:06d}", "CR{:06d}", "S{:06d}"),
    "trade_creditor_payments": ("PAY{:08d}", "{:010d}", "AP{:08d}"),
    "person": ("CUS{:07d}", "PKC{:07d}", "C{:07d}"),
}
KEY_START = 10_001


def _next_keys(seq: dict[str, list[int]], kind: str, body: int, n: int) -> np.ndarray:
    counter = seq.setdefault(f"key:{kind}:{body}", [KEY_START + 7919 * body])
    start = counter[0]
    counter[0] += n
    fmt = KEY_FORMATS[kind][body]
    return np.asarray([fmt.format(start + i) for i in range(n)], dtype=object)


def _upns(w: World, person: np.ndarray) -> np.ndarray:
    return np.asarray([w.upn_by_person.get(int(x), "") for x in person], dtype=object)


def _person_cols(w: World, person: np.ndarray, prefix: str = "") -> dict[str, np.ndarray]:
    p = w.people
    ok = person >= 0
    idx = np.maximum(person, 0)
    out = {}
    for col in ("title", "forenames", "middle_names", "surname", "ni_number", "email", "phone", "sort_code",
                "account_number", "former_surname"):
        out[prefix + col] = np.where(ok, p[col][idx], "").astype(object)
    out[prefix + "dob"] = np.where(ok, p["dob"][idx], NAT).astype("datetime64[D]")
    return out


def _base(w: World, t: Table) -> Table:
    """Identity of the record's subject, and its address; the meta columns start with '_'."""
    out = Table(n=len(t))
    for k, v in _person_cols(w, t["person"]).items():
        out[k] = v
    out["_person"] = t["person"]
    out["_addr"] = t["addr"]
    out["_body"] = t["body"]
    out["_row_id"] = t["row_id"]
    return out


def _flag(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def payroll(w: World, t: Table) -> Table:
    out = _base(w, t)
    for col in ("employer", "job_title", "date_started", "date_left", "hours_per_week"):
        out[col] = t[col]
    out["teacher"] = _flag(t["teacher"])
    worked_from = np.maximum(t["date_started"], w.tax_year_start)
    worked_to = np.where(np.isnat(t["date_left"]), w.ref, t["date_left"])
    worked = np.maximum((worked_to - worked_from).astype(np.int64) + 1, 0)
    out["gross_pay_to_date"] = np.round(annual_pay(t) * worked / 365).astype(np.int64)
    return out


def pensions(w: World, t: Table) -> Table:
    out = _base(w, t)
    for col in ("pension_start_date", "pension_end_date", "annual_amount", "employer"):
        out[col] = t[col]
    out["widow"] = _flag(t["widow"])
    return out


def _claim(w: World, t: Table) -> Table:
    out = _base(w, t)
    partner = _person_cols(w, t["partner"], "partner_")
    for col in ("forenames", "surname", "dob", "ni_number"):
        out["partner_" + col] = partner["partner_" + col]
    for col in ("claim_start_date", "claim_end_date", "weekly_amount", "declared_earnings_weekly",
                "partner_declared_earnings_weekly"):
        out[col] = t[col]
    out["passported"] = _flag(t["passported"])
    return out


def housing_benefit(w: World, t: Table) -> Table:
    return _claim(w, t)


def council_tax_reduction(w: World, t: Table) -> Table:
    out = _claim(w, t)
    out["account_ref"] = np.asarray([w.ct_ref_by_addr.get(int(a), "") for a in t["addr"]], dtype=object)
    return out


def council_tax(w: World, t: Table) -> Table:
    out = _base(w, t)
    joint = _person_cols(w, t["joint"], "joint_liable_")
    out["joint_liable_forenames"] = joint["joint_liable_forenames"]
    out["joint_liable_surname"] = joint["joint_liable_surname"]
    out["_joint"] = t["joint"]  # the account's other liable person: the truth holds them too
    for col in ("band", "liable_from_date", "liable_to_date", "discount_type", "discount_start_date", "discount_end_date"):
        out[col] = t[col]
    out["property_ref"] = property_refs(w, t["addr"])
    return out


def property_refs(w: World, addr: np.ndarray) -> np.ndarray:
    uprn = w.addresses["uprn"][addr]
    return np.asarray([f"{('KPR', 'RP', 'P')[int(u // 10**9) % 3]}{int(u) % 10**7:07d}" for u in uprn], dtype=object)


def deceased_persons(w: World, t: Table) -> Table:
    out = _base(w, t)
    out["maiden_surname"] = np.where(w.people["sex"][t["person"]] == "F", w.people["former_surname"][t["person"]], "").astype(object)
    for col in ("date_of_death", "date_registered", "registration_district"):
        out[col] = t[col]
    return out


def electoral_register(w: World, t: Table) -> Table:
    out = _base(w, t)
    a = w.addresses
    street = a["street_id"][t["addr"]]
    district = np.asarray([f"{('K', 'R', 'W')[b]}{'ABCDEFGH'[int(s) % 8]}{int(s) % 5 + 1}"
                           for b, s in zip(t["body"], street, strict=True)], dtype=object)
    out["polling_district"] = district
    out["registered_date"] = t["registered_date"]
    out["markers"] = t["markers"]
    out["attainment_date"] = np.where(t["attainer"], add_years(out["dob"], 18), NAT).astype("datetime64[D]")
    out["dob"] = np.where(t["attainer"], out["dob"], NAT).astype("datetime64[D]")  # held for attainers only
    return out


def housing_tenants(w: World, t: Table) -> Table:
    out = _base(w, t)
    out["tenant"] = _flag(t["tenant"])
    out["property_ref"] = property_refs(w, t["addr"])
    for col in ("landlord", "tenancy_type", "tenancy_start_date", "tenancy_end_date"):
        out[col] = t[col]
    out["_tenancy"] = t["tenancy"]
    return out


def housing_waiting_list(w: World, t: Table) -> Table:
    out = _base(w, t)
    joint = _person_cols(w, t["joint"], "joint_applicant_")
    for col in ("forenames", "surname", "dob", "ni_number"):
        out["joint_applicant_" + col] = joint["joint_applicant_" + col]
    for col in ("application_date", "band", "application_status", "household_size", "bedroom_need", "current_tenure"):
        out[col] = t[col]
    return out


def right_to_buy(w: World, t: Table) -> Table:
    out = _base(w, t)
    from matching.synth.claims import partners

    partner = partners(w)[w.people["household"][t["person"]]]
    partner = np.where(partner == t["person"], -1, partner)
    joint = _person_cols(w, partner, "joint_applicant_")
    for col in ("forenames", "surname", "dob", "ni_number"):
        out["joint_applicant_" + col] = joint["joint_applicant_" + col]
    for col in ("application_date", "tenancy_start_date", "application_status", "valuation_amount", "discount_amount",
                "completion_date"):
        out[col] = t[col]
    out["_tenancy"] = t["tenancy"]
    return out


def blue_badges(w: World, t: Table) -> Table:
    out = _base(w, t)
    for col in ("badge_type", "issue_date", "expiry_date", "status", "cancelled_date"):
        out[col] = t[col]
    return out


def concessionary_travel(w: World, t: Table) -> Table:
    out = _base(w, t)
    for col in ("issue_date", "expiry_date", "status", "cancelled_date"):
        out[col] = t[col]
    return out


def resident_parking_permits(w: World, t: Table) -> Table:
    out = _base(w, t)
    for col in ("vehicle_registration", "permit_zone", "permit_type", "issue_date", "expiry_date", "status", "cancelled_date"):
        out[col] = t[col]
    return out


def student_loans(w: World, t: Table) -> Table:
    out = _base(w, t)
    for col in ("term_address", "term_postcode", "institution", "course", "academic_year", "mode", "course_start_date",
                "course_end_date"):
        out[col] = t[col]
    return out


def pupils(w: World, t: Table) -> Table:
    out = _base(w, t)
    out["title"] = np.full(len(t), "", dtype=object)
    parent = _person_cols(w, t["parent"], "parent_")
    out["parent_forenames"] = parent["parent_forenames"]
    out["parent_surname"] = parent["parent_surname"]
    for col in ("upn", "uln", "preferred_forename", "school", "school_urn", "school_laestab", "year_group", "entry_date",
                "leaving_date"):
        out[col] = t[col]
    out["preferred_surname"] = np.full(len(t), "", dtype=object)
    out["fsm_eligible"] = _flag(t["fsm_eligible"])
    out["_key"] = t["upn"]
    return out


def post16_learners(w: World, t: Table) -> Table:
    out = _base(w, t)
    out["title"] = np.full(len(t), "", dtype=object)
    out["upn"] = _upns(w, t["person"])
    for col in ("uln", "provider", "provider_ukprn", "course", "mode", "course_start_date", "course_end_date",
                "actual_end_date"):
        out[col] = t[col]
    out["apprentice"] = _flag(t["apprentice"])
    return out


def _with_child(w: World, out: Table, child: np.ndarray) -> None:
    kid = _person_cols(w, child, "pupil_")
    out["pupil_forename"] = kid["pupil_forenames"]
    out["pupil_surname"] = kid["pupil_surname"]
    out["pupil_dob"] = kid["pupil_dob"]
    out["_child"] = child


def school_admissions(w: World, t: Table) -> Table:
    out = _base(w, t)
    _with_child(w, out, t["child"])
    up = _upns(w, t["child"])
    out["upn"] = np.where(t["upn_known"], up, "").astype(object)
    for col in ("relationship", "school", "school_urn", "application_date", "admission_date"):
        out[col] = t[col]
    return out


def free_school_meals(w: World, t: Table) -> Table:
    out = _base(w, t)
    _with_child(w, out, t["child"])
    out["upn"] = _upns(w, t["child"])
    nass = np.asarray([f"NASS/{int(s) % 100:02d}/{int(s) % 99991:05d}" for s in w.people["person_seq"][t["person"]]], dtype=object)
    out["nass_number"] = np.where(t["nass"], nass, "").astype(object)
    out["ni_number"] = np.where(t["nass"], "", out["ni_number"]).astype(object)
    for col in ("school", "school_urn", "eligibility_start_date", "eligibility_end_date", "last_checked_date"):
        out[col] = t[col]
    return out


def trade_creditors(w: World, t: Table) -> Table:
    out = Table(n=len(t))
    out["creditor_name"] = t["creditor_name"]
    contact = _person_cols(w, t["contact"])
    out["contact_name"] = np.asarray([f"{f} {s}".strip() for f, s in zip(contact["forenames"], contact["surname"], strict=True)],
                                     dtype=object)
    for col in ("sort_code", "account_number", "vat_number", "company_number", "created_date", "bank_details_changed_date"):
        out[col] = t[col]
    email = np.asarray([f"accounts@{''.join(c for c in n.lower() if c.isalnum())[:18]}.co.uk" for n in t["creditor_name"]], dtype=object)
    out["email"] = np.where(w.rng.random(len(t)) < 0.6, email, "").astype(object)
    out["phone"] = np.asarray([f"0{int(x)}" for x in w.rng.integers(1_200_000_000, 2_099_999_999, len(t))], dtype=object)
    out["_person"] = t["owner"]
    out["_addr"] = t["addr"]
    out["_body"] = t["body"]
    out["_row_id"] = t["row_id"]
    return out


def trade_creditor_payments(w: World, t: Table) -> Table:
    out = Table(n=len(t))
    c = w.tables["trade_creditors"]
    pos = w.row_index("trade_creditors", t["creditor_row"])
    out["_creditor_row"] = t["creditor_row"]
    keys = w.record_keys.get("trade_creditors", {})
    out["creditor_ref"] = np.asarray([keys.get(int(r), "") for r in t["creditor_row"]], dtype=object)
    out["creditor_name"] = c["creditor_name"][pos]
    for col in ("invoice_number", "invoice_date", "payment_date", "invoice_amount", "vat_amount", "purchase_order_number"):
        out[col] = t[col]
    out["_person"] = np.full(len(t), -1, dtype=np.int64)
    out["_addr"] = np.full(len(t), -1, dtype=np.int64)
    out["_body"] = t["body"]
    out["_row_id"] = t["row_id"]
    return out


def person(w: World, t: Table) -> Table:
    return _base(w, t)


DERIVE: dict[str, Callable[[World, Table], Table]] = {
    "payroll": payroll, "pensions": pensions, "housing_benefit": housing_benefit,
    "council_tax_reduction": council_tax_reduction, "council_tax": council_tax, "deceased_persons": deceased_persons,
    "electoral_register": electoral_register, "housing_tenants": housing_tenants,
    "housing_waiting_list": housing_waiting_list, "right_to_buy": right_to_buy, "blue_badges": blue_badges,
    "concessionary_travel": concessionary_travel, "resident_parking_permits": resident_parking_permits,
    "student_loans": student_loans, "pupils": pupils, "post16_learners": post16_learners,
    "school_admissions": school_admissions, "free_school_meals": free_school_meals, "trade_creditors": trade_creditors,
    "trade_creditor_payments": trade_creditor_payments, "person": person,
}


def assign_keys(w: World, kind: str, rec: Table, record_key: str, seq: dict[str, list[int]]) -> None:
    """Record keys in each body's numbering, in a shuffled order (keys do not follow people)."""
    rec["_key"] = rec["_key"] if "_key" in rec else np.full(len(rec), "", dtype=object)
    if kind == "electoral_register":
        rec["_key"] = _elector_numbers(rec, seq)
    elif kind != "pupils":
        for b in range(len(BODIES)):
            idx = np.flatnonzero(rec["_body"] == b)
            if len(idx):
                order = w.rng.permutation(idx)
                rec["_key"][order] = _next_keys(seq, kind, b, len(order))
    if kind in ("housing_tenants", "right_to_buy"):
        rec["tenancy_ref"] = tenancy_refs(w, rec["_tenancy"], rec["_body"])
    rec[record_key] = rec["_key"]


def tenancy_refs(w: World, tenancy: np.ndarray, body: np.ndarray) -> np.ndarray:
    fmt = ("RA{:07d}", "RHP{:07d}", "HST{:06d}")
    base = w.chunk_index * 1_000_000
    return np.asarray([fmt[b].format(base + int(t) + 100_001) for t, b in zip(tenancy, body, strict=True)], dtype=object)


def _elector_numbers(rec: Table, seq: dict[str, list[int]]) -> np.ndarray:
    out = np.empty(len(rec), dtype=object)
    order = np.lexsort((rec["_row_id"], rec["polling_district"]))
    for i in order:
        d = rec["polling_district"][i]
        c = seq.setdefault(f"elector:{d}", [1])
        out[i] = f"{d}-{c[0]}/0"
        c[0] += 1
    return out


__all__ = ["BOROUGHS", "DERIVE", "assign_keys"]
