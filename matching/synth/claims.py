"""Life as data, part two: housing benefit and council tax reduction claims, and students.

A household's claim is made by its head, with the partner on the claim. Housing benefit
(held by DWP here) is for renters; council tax reduction (held by the council) also for
owners on low incomes, mostly pensioners. Both rest on one assessment of the household's
earnings, so what is declared on one is declared on the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matching.synth.population import HEAD, OWNER, PARTNER, PRIVATE_RENT, SOCIAL_RENT
from matching.synth.table import NAT, Table, add_years, date, days, uniform_dates
from matching.synth.world import DWP, SLC, World

UNIVERSITIES = (
    ("Kingston University", "KT1 2EE", "Kingston upon Thames"), ("St Mary's University, Twickenham", "TW1 4SX", "Twickenham"),
    ("Royal Holloway, University of London", "TW20 0EX", "Egham"), ("University of Surrey", "GU2 7XH", "Guildford"),
    ("University of Reading", "RG6 6AH", "Reading"), ("University College London", "WC1E 6BT", "London"),
    ("King's College London", "WC2R 2LS", "London"), ("University of Bristol", "BS8 1TH", "Bristol"),
    ("University of Leeds", "LS2 9JT", "Leeds"), ("University of Manchester", "M13 9PL", "Manchester"),
    ("Brunel University London", "UB8 3PH", "Uxbridge"), ("University of Exeter", "EX4 4QJ", "Exeter"),
    ("The Open University", "MK7 6AA", "Milton Keynes"),
)
COURSES = ("BSc Computer Science", "BA History", "LLB Law", "BSc Nursing (Adult)", "BA Business Management",
           "BEng Mechanical Engineering", "BSc Psychology", "BA English Literature", "BSc Economics",
           "BA Primary Education", "BSc Biomedical Science", "BA Graphic Design", "MA Social Work", "PGCE Secondary")
TERM_STREETS = ("Hyde Park Road", "Cathays Terrace", "Mauldeth Road", "Clarendon Road", "Gloucester Road",
                "Pennsylvania Road", "Cowley Road", "Mill Road", "Penrhyn Road", "Headingley Lane")


def heads(w: World) -> np.ndarray:
    """Index of each household's head in ``people``."""
    p = w.people
    hh_of = p["household"]
    out = np.full(len(w.households), -1, dtype=np.int64)
    is_head = np.flatnonzero(p["role"] == HEAD)
    out[hh_of[is_head]] = is_head
    return out


def partners(w: World) -> np.ndarray:
    p = w.people
    out = np.full(len(w.households), -1, dtype=np.int64)
    idx = np.flatnonzero(p["role"] == PARTNER)
    out[p["household"][idx]] = idx
    return out


def claims(w: World) -> None:
    rng = w.rng
    hh = w.households
    p = w.people
    nh = len(hh)
    head = heads(w)
    partner = partners(w)
    tenure = hh["tenure"]
    age = p["age"][head]
    pension_age = age >= 66
    hb_p = np.select([tenure == SOCIAL_RENT, tenure == PRIVATE_RENT], [0.55, 0.18], 0.0)
    hb_p = np.where(hh["type"] == 3, np.minimum(hb_p * 1.4, 0.9), hb_p)  # lone parents
    hb = rng.random(nh) < hb_p
    ctr_p = np.where(hb, 0.92, np.where(tenure == OWNER, np.where(pension_age, 0.08, 0.015), 0.04))
    ctr = rng.random(nh) < ctr_p
    claim = np.flatnonzero(hb | ctr)
    start_floor = np.maximum(hh["move_in"][claim], w.ref - days(12 * 365))
    back = np.round(rng.exponential(4 * 365, len(claim))).astype(np.int64)
    start = np.maximum(w.ref - days(back + 14), start_floor).astype("datetime64[D]")
    start = np.minimum(start, w.ref - days(14))
    ended = rng.random(len(claim)) < 0.12
    end_low = np.maximum(start + days(28), w.ref - days(365))
    end = np.where(ended & (end_low < w.ref - days(1)), uniform_dates(rng, end_low, w.ref - days(1)), NAT)
    working = ~pension_age[claim]
    earns = working & (rng.random(len(claim)) < 0.3)
    declared = np.where(earns, rng.integers(80, 450, len(claim)) * 100, 0)
    pp = partner[claim]
    p_earns = (pp >= 0) & working & (rng.random(len(claim)) < 0.4)
    p_declared = np.where(p_earns, rng.integers(80, 450, len(claim)) * 100, 0)
    passported = (declared == 0) & (p_declared == 0) & (rng.random(len(claim)) < 0.45)
    base = Table({
        "person": head[claim], "partner": pp, "body": hh["borough"][claim], "addr": hh["property"][claim],
        "claim_start_date": start, "claim_end_date": end.astype("datetime64[D]"),
        "declared_earnings_weekly": declared.astype(np.int64), "partner_declared_earnings_weekly": p_declared.astype(np.int64),
        "passported": passported, "lag": np.zeros(len(claim), dtype=bool), "undeclared": np.zeros(len(claim), dtype=bool),
        "household": claim,
    }, n=len(claim))
    on_hb = hb[claim]
    hb_rows = base.take(on_hb)
    hb_rows["body"] = np.full(len(hb_rows), DWP)
    hb_rows["weekly_amount"] = rng.integers(6_000, 35_000, len(hb_rows)).astype(np.int64)
    w.add_rows("housing_benefit", hb_rows)
    ctr_rows = base.take(ctr[claim])
    ctr_rows["weekly_amount"] = rng.integers(800, 4_500, len(ctr_rows)).astype(np.int64)
    w.add_rows("council_tax_reduction", ctr_rows)


def declare_council_earnings(w: World) -> None:
    """A claimant (or partner) with a council post during the claim has declared its pay,
    unless the claim was planted as undeclared."""
    from matching.synth.life import annual_pay

    jobs = w.tables["payroll"]
    weekly = annual_pay(jobs) // 52
    by_person: dict[int, list[int]] = {}
    for i, person in enumerate(jobs["person"]):
        by_person.setdefault(int(person), []).append(i)
    for kind in ("housing_benefit", "council_tax_reduction"):
        t = w.tables[kind]
        end = np.where(np.isnat(t["claim_end_date"]), w.ref, t["claim_end_date"])
        for i in range(len(t)):
            for col, who in (("declared_earnings_weekly", t["person"][i]), ("partner_declared_earnings_weekly", t["partner"][i])):
                if col == "declared_earnings_weekly" and t["undeclared"][i]:
                    continue
                for j in by_person.get(int(who), []):
                    left = jobs["date_left"][j]
                    job_end = w.ref if np.isnat(left) else left
                    if jobs["date_started"][j] <= end[i] and job_end >= t["claim_start_date"][i]:
                        t[col][i] = max(int(t[col][i]), int(weekly[j]))


def students(w: World) -> None:
    """Students the Student Loans Company has assessed: most 18-22 and full-time."""
    rng = w.rng
    p = w.people
    n = len(p)
    age = p["age"]
    prob = np.select([age < 18, age <= 22, age <= 24, age <= 55], [0.0, 0.38, 0.10, 0.012], 0.0)
    who = np.flatnonzero((rng.random(n) < prob) & np.isnat(p["dod"]))
    young = age[who] <= 24
    mode_ft = young | (rng.random(len(who)) < 0.5)
    rows = student_rows(w, who, mode_ft)
    w.add_rows("student_loans", rows)


def student_rows(w: World, who: np.ndarray, full_time: np.ndarray, start: np.ndarray | None = None) -> Table:
    rng = w.rng
    p = w.people
    n = len(who)
    age = p["age"][who]
    year_of_course = np.clip(age - 18, 0, 3) if start is None else np.zeros(n, dtype=np.int64)
    if start is None:
        begin_year = 2026 - np.where(rng.random(n) < 0.85, year_of_course, np.minimum(year_of_course + 1, 3))
        start = np.asarray([date(f"{y}-09-21") for y in begin_year], dtype="datetime64[D]")
        start = start + days(rng.integers(0, 10, n))
    length = np.where(rng.random(n) < 0.75, 3, 4) + np.where(full_time, 0, 2)
    end = add_years(start, length) - days(100 + rng.integers(0, 20, n))
    uni = rng.integers(0, len(UNIVERSITIES) - 1, n)
    uni = np.where(~full_time & (rng.random(n) < 0.6), len(UNIVERSITIES) - 1, uni)
    away = full_time & (uni > 1) & (rng.random(n) < 0.7)
    term_address = np.full(n, "", dtype=object)
    term_postcode = np.full(n, "", dtype=object)
    for i in np.flatnonzero(away):
        name, pc, town = UNIVERSITIES[uni[i]]
        term_address[i] = f"{int(rng.integers(1, 200))} {TERM_STREETS[int(rng.integers(len(TERM_STREETS)))]}, {town}"
        term_postcode[i] = pc[:-2] + "".join(rng.choice(list("ABDEFGHJLNPQRSTUWXYZ"), 2))
    in_year = np.where(end >= date("2026-09-01"), "2026/27", "2025/26")
    return Table({
        "person": who, "body": np.full(n, SLC), "addr": p["property"][who],
        "institution": np.asarray([UNIVERSITIES[u][0] for u in uni], dtype=object),
        "course": np.asarray([COURSES[c] for c in rng.integers(0, len(COURSES), n)], dtype=object),
        "mode": np.where(full_time, "FT", "PT").astype(object), "academic_year": in_year.astype(object),
        "course_start_date": start.astype("datetime64[D]"), "course_end_date": end.astype("datetime64[D]"),
        "term_address": term_address, "term_postcode": term_postcode, "lag": np.zeros(n, dtype=bool),
    }, n=n)


def add_claim(w: World, kind: str, household: int, start: Any) -> int:
    """A claim for ``household`` made by its head (planted); returns its row_id."""
    p = w.people
    head = int(heads(w)[household])
    partner = int(partners(w)[household])
    weekly = int(w.rng.integers(6_000, 35_000)) if kind == "housing_benefit" else int(w.rng.integers(800, 4_500))
    row = Table({
        "person": [head], "partner": [partner], "body": [DWP if kind == "housing_benefit" else int(p["borough"][head])],
        "addr": [int(w.households["property"][household])], "claim_start_date": np.array([start], dtype="datetime64[D]"),
        "claim_end_date": np.array([NAT]), "declared_earnings_weekly": [0], "partner_declared_earnings_weekly": [0],
        "passported": [False], "lag": [False], "undeclared": [False], "household": [household], "weekly_amount": [weekly],
    })
    return int(w.add_rows(kind, row)[0])
