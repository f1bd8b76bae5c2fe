"""Life as data, part one: deaths, council and school employment, pensions.

Every table row is something a body holds about a person, with its true dates. What each
body's extract then contains (current records and those ended recently) and how services
stop after a death is decided in ``stop_at_death`` and ``extract_windows``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from matching.synth import schools as sch
from matching.synth.addresses import BOROUGH_NAMES, BOROUGHS
from matching.synth.table import NAT, Table, add_years, days, uniform_dates
from matching.synth.world import World

# (title, teacher, lowest and highest full-time salary in pounds, standard hours, chance of part-time,
#  part-time hours low-high, weight)
SCHOOL_JOBS = (
    ("Class Teacher", True, 33_000, 50_000, 32.5, 0.2, (16, 26), 30),
    ("Head of Department", True, 48_000, 62_000, 32.5, 0.05, (26, 30), 5),
    ("Headteacher", True, 70_000, 110_000, 32.5, 0.0, (30, 30), 1),
    ("Teaching Assistant", False, 24_000, 28_000, 32.5, 0.6, (20, 30), 22),
    ("Learning Support Assistant", False, 24_000, 27_000, 32.5, 0.5, (20, 30), 10),
    ("Midday Supervisor", False, 23_500, 24_500, 37.0, 1.0, (5, 10), 10),
    ("School Business Manager", False, 40_000, 55_000, 37.0, 0.1, (30, 30), 2),
    ("Site Manager", False, 28_000, 34_000, 37.0, 0.1, (20, 30), 3),
    ("Cleaner", False, 23_500, 24_000, 37.0, 1.0, (10, 20), 6),
    ("Cook", False, 24_000, 27_000, 37.0, 0.7, (20, 30), 3),
    ("Office Manager", False, 30_000, 36_000, 37.0, 0.3, (22, 30), 3),
)
COUNCIL_JOBS = (
    ("Social Worker", False, 40_000, 52_000, 37.0, 0.15, (22, 30), 8),
    ("Senior Social Worker", False, 50_000, 60_000, 37.0, 0.1, (22, 30), 3),
    ("Care Worker", False, 24_000, 28_000, 37.0, 0.5, (16, 30), 8),
    ("Refuse Collector", False, 25_000, 29_000, 37.0, 0.0, (37, 37), 5),
    ("Customer Services Adviser", False, 26_000, 30_000, 37.0, 0.35, (18, 30), 6),
    ("Revenues Officer", False, 30_000, 36_000, 37.0, 0.2, (22, 30), 4),
    ("Benefits Assessor", False, 30_000, 37_000, 37.0, 0.2, (22, 30), 4),
    ("Housing Officer", False, 34_000, 42_000, 37.0, 0.15, (22, 30), 4),
    ("Planning Officer", False, 38_000, 48_000, 37.0, 0.15, (22, 30), 3),
    ("Environmental Health Officer", False, 40_000, 48_000, 37.0, 0.1, (22, 30), 2),
    ("Librarian", False, 29_000, 35_000, 37.0, 0.4, (18, 30), 2),
    ("Library Assistant", False, 24_000, 27_000, 37.0, 0.6, (10, 25), 3),
    ("Civil Enforcement Officer", False, 27_000, 31_000, 37.0, 0.1, (22, 30), 3),
    ("Highways Engineer", False, 42_000, 56_000, 37.0, 0.05, (30, 30), 2),
    ("Finance Officer", False, 32_000, 40_000, 37.0, 0.2, (22, 30), 4),
    ("Occupational Therapist", False, 40_000, 48_000, 37.0, 0.3, (22, 30), 2),
    ("Team Manager", False, 55_000, 70_000, 37.0, 0.05, (30, 30), 3),
    ("Gardener", False, 25_000, 28_000, 37.0, 0.1, (20, 30), 2),
    ("Business Support Officer", False, 26_000, 30_000, 37.0, 0.3, (18, 30), 5),
    ("Director", False, 110_000, 150_000, 37.0, 0.0, (37, 37), 0.3),
)


def deaths(w: World) -> None:
    """Deaths in the two years before the exercise date: a Gompertz hazard by age."""
    p = w.people
    age = p["age"]
    hazard = np.exp(-10.3 + 0.092 * age)
    die = w.rng.random(len(p)) < 1 - np.exp(-2 * hazard)
    dod = uniform_dates(w.rng, w.ref - days(730), w.ref - days(8), len(p))
    dod = np.maximum(dod, p["dob"] + days(1))
    p["dod"] = np.where(die, dod, NAT).astype("datetime64[D]")
    register_deaths(w, np.flatnonzero(die))


REGISTRATION_DISTRICTS = ("Kingston upon Thames", "Richmond upon Thames", "Windsor and Maidenhead")


def register_deaths(w: World, who: np.ndarray) -> np.ndarray:
    """Death records (DWP / GRO) for people whose ``dod`` is set; returns their row_ids."""
    p = w.people
    n = len(who)
    dod = p["dod"][who]
    registered = np.minimum(dod + days(w.rng.integers(1, 12, n)), w.ref - days(1))
    in_hospital = w.rng.random(n) < 0.15  # registered where they died, not where they lived
    district = np.asarray([REGISTRATION_DISTRICTS[(b + 1) % 3] if h else REGISTRATION_DISTRICTS[b]
                           for b, h in zip(p["borough"][who], in_hospital, strict=True)], dtype=object)
    return w.add_rows("deceased_persons", Table({
        "person": who, "body": np.full(n, 3), "addr": p["property"][who], "date_of_death": dod,
        "date_registered": registered.astype("datetime64[D]"), "registration_district": district,
    }, n=n))


def _job_rows(w: World, who: np.ndarray, body: np.ndarray, at_school: np.ndarray, title_of: str | None = None) -> Table:
    """Posts for ``who``: title, pay and hours by the body's job tables (or the one titled ``title_of``)."""
    rng = w.rng
    n = len(who)
    p = w.people
    title = np.empty(n, dtype=object)
    teacher = np.zeros(n, dtype=bool)
    fte = np.zeros(n, dtype=np.int64)
    hours = np.zeros(n)
    standard = np.zeros(n)
    employer = np.empty(n, dtype=object)
    for i in range(n):
        table = SCHOOL_JOBS if at_school[i] else COUNCIL_JOBS
        weights = np.array([j[7] for j in table], dtype=float)
        if title_of is not None:
            weights = np.array([1.0 if j[0] == title_of else 0.0 for j in table])
        j = table[int(np.searchsorted(np.cumsum(weights / weights.sum()), rng.random()))]
        title[i], teacher[i] = j[0], j[1]
        fte[i] = int(rng.integers(j[2], j[3] + 1)) * 100
        standard[i] = j[4]
        part = rng.random() < j[5]
        hours[i] = float(rng.integers(j[6][0], j[6][1] + 1)) if part else j[4]
        if at_school[i]:
            phase = sch.SECONDARY if rng.random() < 0.35 else sch.PRIMARY
            employer[i] = sch.pick(rng, sch.schools_of(int(body[i]), phase), 1)[0].name
        else:
            employer[i] = BOROUGH_NAMES[BOROUGHS[int(body[i])]]
    age18 = add_years(p["dob"][who], 18)
    tenure = np.round(rng.exponential(6.0, n) * 365).astype(np.int64)
    start = np.maximum(w.ref - days(tenure + 1), age18)
    return Table({
        "person": who, "body": body, "addr": p["property"][who], "employer": employer, "job_title": title,
        "teacher": teacher, "fte_salary": fte, "hours_per_week": hours, "standard_hours": standard,
        "date_started": start.astype("datetime64[D]"), "date_left": np.full(n, NAT),
        "declared_in_claims": np.zeros(n, dtype=bool),
    }, n=n)


def employment(w: World) -> None:
    """About 7% of adults of working age work for one of the councils or their schools."""
    rng = w.rng
    p = w.people
    age = p["age"]
    n = len(p)
    prob = np.select([age < 18, age < 22, age < 61, age < 68, age < 75], [0.0, 0.04, 0.07, 0.04, 0.005], 0.0)
    who = np.flatnonzero((rng.random(n) < prob) & (np.isnat(p["dod"]) | (p["dod"] >= w.tax_year_start)))
    body = np.where(rng.random(len(who)) < 0.65, p["borough"][who], rng.integers(0, 3, len(who)))
    at_school = rng.random(len(who)) < 0.55
    rows = _job_rows(w, who, body, at_school)
    leaver = rng.random(len(who)) < 0.08
    left = uniform_dates(rng, w.tax_year_start, w.ref - days(1), len(who))
    rows["date_left"] = np.where(leaver & (left > rows["date_started"]), left, NAT).astype("datetime64[D]")
    w.add_rows("payroll", rows)


def add_jobs(w: World, who: ArrayLike, body: ArrayLike, start: ArrayLike, end: ArrayLike,
             at_school: np.ndarray | None = None, hours: np.ndarray | None = None,
             fte: np.ndarray | None = None, title_of: str | None = None) -> np.ndarray:
    """Posts planted for ``who`` with given dates (and optionally hours, pay, title); returns row_ids."""
    who = np.asarray(who, dtype=np.int64)
    at_school = at_school if at_school is not None else w.rng.random(len(who)) < 0.5
    rows = _job_rows(w, who, np.asarray(body, dtype=np.int64), at_school, title_of)
    rows["date_started"] = np.asarray(start, dtype="datetime64[D]")
    rows["date_left"] = np.asarray(end, dtype="datetime64[D]")
    if hours is not None:
        rows["hours_per_week"] = hours.astype(float)
    if fte is not None:
        rows["fte_salary"] = fte.astype(np.int64)
    return w.add_rows("payroll", rows)


def annual_pay(t: Table) -> np.ndarray:
    """True annual gross pay in pence: the full-time salary pro rata to hours."""
    return np.round(t["fte_salary"] * t["hours_per_week"] / t["standard_hours"]).astype(np.int64)


def pensions(w: World) -> None:
    """Local government pensioners, and widows' and widowers' pensions after a member's death."""
    rng = w.rng
    p = w.people
    n = len(p)
    age = p["age"]
    prob = np.select([age < 58, age < 65, age >= 65], [0.0, 0.04, 0.10], 0.0)
    who = np.flatnonzero(rng.random(n) < prob)
    retire_age = rng.integers(58, 67, len(who))
    start = add_years(p["dob"][who], retire_age) + days(rng.integers(0, 200, len(who)))
    start = np.minimum(start, w.ref - days(30))
    if len(who):
        start = np.where(np.isnat(p["dod"][who]), start, np.minimum(start, p["dod"][who] - days(30)))
    body = np.where(rng.random(len(who)) < 0.7, p["borough"][who], rng.integers(0, 3, len(who)))
    amount = np.round(np.exp(rng.normal(np.log(6_500), 0.6, len(who)))).astype(np.int64) * 100
    employer = _former_employers(w, body)
    rows = Table({
        "person": who, "body": body, "addr": p["property"][who], "pension_start_date": start.astype("datetime64[D]"),
        "pension_end_date": np.full(len(who), NAT), "annual_amount": amount, "widow": np.zeros(len(who), dtype=bool),
        "employer": employer, "member": np.full(len(who), -1, dtype=np.int64), "lag": np.zeros(len(who), dtype=bool),
    }, n=len(who))
    w.add_rows("pensions", rows)
    _widows(w)


def _former_employers(w: World, body: np.ndarray) -> np.ndarray:
    out = np.empty(len(body), dtype=object)
    for i, b in enumerate(body):
        if w.rng.random() < 0.6:
            out[i] = BOROUGH_NAMES[BOROUGHS[int(b)]]
        else:
            out[i] = sch.pick(w.rng, sch.schools_of(int(b), sch.PRIMARY), 1)[0].name
    return out


def _widows(w: World) -> None:
    """A member who died leaves a spouse's pension (70% of married members)."""
    p = w.people
    t = w.tables["pensions"]
    dead = ~np.isnat(p["dod"][t["person"]]) & p["married"][t["person"]]
    rows = []
    for i in np.flatnonzero(dead):
        member = int(t["person"][i])
        spouse = _spouse(w, member)
        if spouse < 0 or not np.isnat(p["dod"][spouse]) or w.rng.random() > 0.7:
            continue
        rows.append((spouse, int(t["body"][i]), p["dod"][member] + np.timedelta64(1, "D"), t["annual_amount"][i] // 2,
                     t["employer"][i], member))
    if rows:
        who = np.array([r[0] for r in rows])
        w.add_rows("pensions", Table({
            "person": who, "body": np.array([r[1] for r in rows]), "addr": p["property"][who],
            "pension_start_date": np.array([r[2] for r in rows], dtype="datetime64[D]"),
            "pension_end_date": np.full(len(rows), NAT), "annual_amount": np.array([r[3] for r in rows]),
            "widow": np.ones(len(rows), dtype=bool), "employer": np.array([r[4] for r in rows], dtype=object),
            "member": np.array([r[5] for r in rows]),
        }))


def _spouse(w: World, person: int) -> int:
    """The other half of a couple (head and partner of one household), or -1."""
    from matching.synth.population import HEAD, PARTNER

    p = w.people
    if p["role"][person] not in (HEAD, PARTNER):
        return -1
    same = np.flatnonzero((p["household"] == p["household"][person]) & np.isin(p["role"], (HEAD, PARTNER)))
    others = same[same != person]
    return int(others[0]) if len(others) else -1


# Extract windows: (start column, end column, keep rows that ended on or after this many days
# before the exercise date; None: only the tax year to date).
EXTRACTS = {
    "payroll": ("date_started", "date_left", None),
    "pensions": ("pension_start_date", "pension_end_date", 365),
    "housing_benefit": ("claim_start_date", "claim_end_date", 365),
    "council_tax_reduction": ("claim_start_date", "claim_end_date", 365),
    "student_loans": ("course_start_date", "course_end_date", 365),
    "post16_learners": ("course_start_date", "actual_end_date", 365),
    "free_school_meals": ("eligibility_start_date", "eligibility_end_date", 365),
}


def stop_at_death(w: World) -> None:
    """Services stop on the date of death, except rows planted with a lag (``lag`` true)."""
    dod = w.people["dod"]
    for kind, (start, end, _) in EXTRACTS.items():
        t = w.tables.get(kind)
        if t is None or not len(t):
            continue
        has = t["person"] >= 0
        d = np.where(has, dod[np.maximum(t["person"], 0)], NAT)
        lag = t["lag"] if "lag" in t else np.zeros(len(t), dtype=bool)
        dead = ~np.isnat(d) & ~lag
        keep = ~(dead & (t[start] > d))
        new_end = np.where(dead & (np.isnat(t[end]) | (t[end] > d)), d, t[end]).astype("datetime64[D]")
        t[end] = new_end
        w.tables[kind] = t.take(keep)


def extract_windows(w: World) -> None:
    """Keep what each body's extract holds: current records and those ended recently."""
    for kind, (_, end, window) in EXTRACTS.items():
        t = w.tables.get(kind)
        if t is None or not len(t):
            continue
        since = w.tax_year_start if window is None else w.ref - days(window)
        keep = np.isnat(t[end]) | (t[end] >= since)
        w.tables[kind] = t.take(keep)
