"""Planting, part one: inconsistencies and hard negatives about people's own records.

Each job gets ``rate x people / 1,000`` planted scenarios (``Rates.planted``) and as many
look-alike pairs that must not be flagged (``Rates.hard_negatives``). A planted scenario
changes the world so the job's rule holds on the true values (a claimant dies and the
claim runs on; an employee is given an undeclared post); the truth itself is computed
afterwards from the records by the rules in ``truth.py``, so natural cases count too.
A person is used by at most one scenario, so scenarios do not disturb each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matching.synth import schools as sch
from matching.synth.claims import add_claim, student_rows
from matching.synth.config import Rates
from matching.synth.life import add_jobs, register_deaths
from matching.synth.population import LONE_PARENT, PARTNER, SINGLE, new_people, rebuild_email
from matching.synth.table import NAT, add_years, days, uniform_dates
from matching.synth.world import World


@dataclass
class Planter:
    w: World
    rates: Rates
    n: int
    seq: dict[str, list[int]]
    used: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # Scenarios resolved once the homes are built: (job, household, person, learner row or -1, planted?)
    spd: list[tuple[str, int, int, int, bool]] = field(default_factory=list)

    def k(self, job: str, hard: bool = False) -> int:
        rate = (self.rates.hard_negatives if hard else self.rates.planted).get(job, 0.0)
        return int(round(rate * self.n / 1000))

    def choose(self, candidates: np.ndarray, k: int) -> np.ndarray:
        candidates = np.asarray(candidates)
        if k <= 0 or not len(candidates):
            return candidates[:0]
        return self.w.rng.choice(candidates, min(k, len(candidates)), replace=False)

    def _grow(self) -> None:
        n = len(self.w.people)
        if len(self.used) < n:
            self.used = np.concatenate([self.used, np.zeros(n - len(self.used), dtype=bool)])

    def free(self, people: np.ndarray) -> np.ndarray:
        """Which of ``people`` no scenario has used yet."""
        self._grow()
        people = np.asarray(people, dtype=np.int64)
        return ~self.used[np.maximum(people, 0)] & (people >= 0)

    def use(self, *people: Any) -> None:
        self._grow()
        self.used[np.asarray([int(x) for x in people], dtype=np.int64)] = True

    def alive(self, people: np.ndarray) -> np.ndarray:
        return np.isnat(self.w.people["dod"][people])

    def age(self, people: np.ndarray) -> np.ndarray:
        return self.w.people["age"][people]


def _window(w: World) -> np.datetime64:
    """The earliest planted date of death: inside the deceased persons extract (two years), and
    recent enough that a service stopped late still ended within the twelve months extracts hold."""
    return w.ref - np.timedelta64(330, "D")


def kill(pl: Planter, person: int, dod: np.datetime64) -> int:
    """``person`` dies on ``dod``; returns the row_id of the death record."""
    pl.w.people["dod"][person] = dod
    return int(register_deaths(pl.w, np.array([person]))[0])


def make_namesake(pl: Planter, a: int, pool: np.ndarray) -> int:
    """Give someone from ``pool`` (same sex, nearest age, another household) the name and date of
    birth of ``a``; returns them, or -1."""
    p = pl.w.people
    pool = np.asarray(pool)
    ok = pool[(p["sex"][pool] == p["sex"][a]) & (p["household"][pool] != p["household"][a]) & pl.free(pool)
              & (p["age"][pool] >= 18)]
    if not len(ok):
        return -1
    gap = np.abs(p["age"][ok] - p["age"][a])
    b = int(ok[np.argmin(gap + pl.w.rng.random(len(ok)))])
    if gap.min() > 8:
        return -1
    for col in ("forenames", "middle_names", "surname", "dob"):
        p[col][b] = p[col][a]
    p["former_surname"][b] = ""
    p["age"][b] = p["age"][a]
    rebuild_email(pl.w.rng, p, np.array([b]))
    pl.use(a, b)
    return b


def _other_claim_rows(w: World, kind: str, household: int) -> tuple[str, np.ndarray]:
    other = "council_tax_reduction" if kind == "housing_benefit" else "housing_benefit"
    t = w.tables[other]
    return other, np.flatnonzero(t["household"] == household)


def _live_claims(pl: Planter, kind: str, low: int = 20, high: int = 62, since_days: int = 60) -> np.ndarray:
    w = pl.w
    t = w.tables[kind]
    who = t["person"]
    return np.flatnonzero(np.isnat(t["claim_end_date"]) & pl.alive(who) & (pl.age(who) >= low) & (pl.age(who) <= high)
                          & (t["claim_start_date"] <= w.ref - days(since_days)) & pl.free(who))


def _council(w: World, n: int) -> np.ndarray:
    return w.rng.integers(0, 3, n)


def claims_to_payroll(pl: Planter, job: str, kind: str) -> None:
    w = pl.w
    t = w.tables[kind]
    employed = np.isin(t["person"], w.tables["payroll"]["person"])
    for i in pl.choose(_live_claims(pl, kind)[~employed[_live_claims(pl, kind)]], pl.k(job)):
        person = int(t["person"][i])
        start = uniform_dates(w.rng, max(t["claim_start_date"][i] - days(700), add_years(w.people["dob"][person], 18)),
                              w.ref - days(30), 1)
        jobs = add_jobs(w, [person], _council(w, 1), start, np.array([NAT]))
        for k_name, rows in ((kind, np.array([i])), _other_claim_rows(w, kind, int(t["household"][i]))):
            tab = w.tables[k_name]
            tab["undeclared"][rows] = True
            tab["declared_earnings_weekly"][rows] = 0
        w.plant(job, kind, t["row_id"][i], "payroll", jobs[0])
        pl.use(person)
    hard = pl.k(job, hard=True)
    # Employed during the claim, and the earnings were declared.
    for i in pl.choose(_live_claims(pl, kind), (hard + 1) // 2):
        person = int(t["person"][i])
        start = uniform_dates(w.rng, t["claim_start_date"][i], w.ref - days(30), 1)
        jobs = add_jobs(w, [person], _council(w, 1), start, np.array([NAT]))
        w.hard_negative(job, kind, t["row_id"][i], "payroll", jobs[0], "employed during the claim, and the earnings were declared")
        pl.use(person)
    # Namesakes: an employee and a claimant with the same name and date of birth.
    jobs_t = w.tables["payroll"]
    employees = np.flatnonzero(np.isnat(jobs_t["date_left"]) & pl.alive(jobs_t["person"]) & pl.free(jobs_t["person"]))
    claims = _live_claims(pl, kind)
    claims = claims[~np.isin(t["person"][claims], jobs_t["person"])]
    for j in pl.choose(employees, hard // 4 + 1):
        a = int(jobs_t["person"][j])
        b = make_namesake(pl, a, t["person"][claims])
        if b >= 0:
            i = claims[np.flatnonzero(t["person"][claims] == b)[0]]
            w.hard_negative(job, kind, t["row_id"][i], "payroll", jobs_t["row_id"][j],
                            "namesakes: same name and date of birth, different people")
    # A father and son with the same name at one address: the son works, the father claims.
    p = w.people
    sons = np.flatnonzero((p["named_after"] >= 0) & np.isnat(p["dod"]))
    made = 0
    for s in sons:
        f = int(p["named_after"][s])
        if made >= hard // 4 + 1 or not pl.free(np.array([s, f])).all() or not np.isnat(p["dod"][f]):
            continue
        h = int(p["household"][f])
        if kind == "housing_benefit" and w.households["tenure"][h] == 0:
            continue
        rows = np.flatnonzero((t["person"] == f) & np.isnat(t["claim_end_date"]))
        claim_row = int(t["row_id"][rows[0]]) if len(rows) else add_claim(w, kind, h, w.ref - days(int(w.rng.integers(200, 2000))))
        jobs = add_jobs(w, [s], _council(w, 1), uniform_dates(w.rng, w.ref - days(900), w.ref - days(30), 1), np.array([NAT]))
        w.hard_negative(job, kind, claim_row, "payroll", jobs[0],
                        "father and son with the same name at one address: the son is the employee")
        pl.use(s, f)
        made += 1


def payroll_to_payroll(pl: Planter) -> None:
    w = pl.w
    job = "payroll-to-payroll"
    t = w.tables["payroll"]
    live = np.flatnonzero(np.isnat(t["date_left"]) & pl.alive(t["person"]) & (pl.age(t["person"]) >= 22)
                          & (pl.age(t["person"]) <= 60) & pl.free(t["person"]))
    for i in pl.choose(live, pl.k(job)):
        person = int(t["person"][i])
        body = (int(t["body"][i]) + int(w.rng.integers(1, 3))) % 3
        start = uniform_dates(w.rng, max(t["date_started"][i], w.ref - days(3 * 365)), w.ref - days(30), 1)
        second = add_jobs(w, [person], [body], start, np.array([NAT]))
        w.plant(job, "payroll", t["row_id"][i], "payroll", second[0])
        pl.use(person)
    hard = pl.k(job, hard=True)
    # Moved from one council to another: no overlap.
    t = w.tables["payroll"]
    settled = np.flatnonzero(np.isnat(t["date_left"]) & (t["date_started"] <= w.tax_year_start - days(30))
                             & pl.alive(t["person"]) & pl.free(t["person"]))
    for i in pl.choose(settled, (hard + 2) // 3):
        person = int(t["person"][i])
        left = uniform_dates(w.rng, w.tax_year_start + days(10), w.ref - days(60), 1)[0]
        current = w.tables["payroll"]  # add_jobs replaces the table: write to the current one
        current["date_left"][w.row_index("payroll", np.array([t["row_id"][i]]))] = left
        body = (int(t["body"][i]) + int(w.rng.integers(1, 3))) % 3
        start = np.minimum(left + np.timedelta64(int(w.rng.integers(1, 30)), "D"), w.ref - np.timedelta64(1, "D"))
        second = add_jobs(w, [person], [body], np.array([start]), np.array([NAT]))
        w.hard_negative(job, "payroll", t["row_id"][i], "payroll", second[0],
                        "left one council before starting at the other: the posts do not overlap")
        pl.use(person)
    # Twins working for two councils.
    p = w.people
    twins = np.flatnonzero((p["twin_of"] >= 0) & (p["age"] >= 18) & np.isnat(p["dod"]))
    made = 0
    for twin in twins:
        a = int(p["twin_of"][twin])
        if made >= (hard + 2) // 3 or not pl.free(np.array([a, twin])).all() or not np.isnat(p["dod"][a]):
            continue
        start = uniform_dates(w.rng, w.ref - days(1500), w.ref - days(30), 2)
        body = int(w.rng.integers(0, 3))
        ids = add_jobs(w, [a, int(twin)], [body, (body + 1) % 3], start, np.array([NAT, NAT]))
        w.hard_negative(job, "payroll", ids[0], "payroll", ids[1], "twins: same surname, date of birth and address, different people")
        pl.use(a, int(twin))
        made += 1
    # Namesakes employed by two councils.
    t = w.tables["payroll"]
    others = np.flatnonzero((p["age"] >= 22) & (p["age"] <= 60) & np.isnat(p["dod"]))
    others = others[~np.isin(others, t["person"])]
    live = np.flatnonzero(np.isnat(t["date_left"]) & pl.alive(t["person"]) & pl.free(t["person"]))
    for i in pl.choose(live, hard - 2 * ((hard + 2) // 3) + 1):
        a = int(t["person"][i])
        b = make_namesake(pl, a, others)
        if b >= 0:
            other_body = (int(t["body"][i]) + 1) % 3
            second = add_jobs(w, [b], [other_body], uniform_dates(w.rng, w.ref - days(900), w.ref - days(30), 1), np.array([NAT]))
            w.hard_negative(job, "payroll", t["row_id"][i], "payroll", second[0],
                            "namesakes: same name and date of birth, different people")


def claims_to_students(pl: Planter, job: str, kind: str) -> None:
    w = pl.w
    t = w.tables[kind]
    students = w.tables["student_loans"]
    cand = _live_claims(pl, kind, 19, 45)
    cand = cand[~np.isin(t["person"][cand], students["person"])]
    for i in pl.choose(cand, pl.k(job)):
        person = int(t["person"][i])
        year = int(w.rng.choice([2024, 2025, 2026]))
        row = student_rows(w, np.array([person]), np.array([True]), np.array([sch.term_start(year)]))
        ids = w.add_rows("student_loans", row)
        w.plant(job, kind, t["row_id"][i], "student_loans", ids[0])
        pl.use(person)
    hard = pl.k(job, hard=True)
    # A part-time student claiming: the rule is about full-time students.
    cand = _live_claims(pl, kind, 19, 55)
    cand = cand[~np.isin(t["person"][cand], students["person"])]
    for i in pl.choose(cand, (hard + 1) // 2):
        person = int(t["person"][i])
        row = student_rows(w, np.array([person]), np.array([False]), np.array([sch.term_start(2025)]))
        ids = w.add_rows("student_loans", row)
        w.hard_negative(job, kind, t["row_id"][i], "student_loans", ids[0], "a part-time student: the rule is about full-time study")
        pl.use(person)
    # A student in the claimant's household who is not the claimant.
    p = w.people
    made = 0
    # A grown-up child, a sharer or a lodger (not the partner, who is on the claim).
    young = np.flatnonzero((p["age"] >= 18) & (p["age"] <= 30) & np.isnat(p["dod"]) & (p["role"] != PARTNER))
    by_household: dict[int, list[int]] = {}
    for x in young:
        by_household.setdefault(int(p["household"][x]), []).append(int(x))
    for i in _live_claims(pl, kind, 18, 110):
        if made >= hard // 2 + 1:
            break
        h = int(t["household"][i])
        kids = np.array([x for x in by_household.get(h, []) if x != t["person"][i]], dtype=np.int64)
        kids = kids[pl.free(kids)]
        if not len(kids):
            continue
        kid = int(kids[0])
        have = np.flatnonzero(w.tables["student_loans"]["person"] == kid)
        if len(have):
            sid = w.tables["student_loans"]["row_id"][have[0]]
        else:
            sid = w.add_rows("student_loans", student_rows(w, np.array([kid]), np.array([True])))[0]
        w.hard_negative(job, kind, t["row_id"][i], "student_loans", sid, "a student who lives with the claimant but is not claiming")
        pl.use(kid, int(t["person"][i]))
        made += 1


def fsm_to_payroll(pl: Planter) -> None:
    w = pl.w
    job = "fsm-to-payroll"
    t = w.tables["free_school_meals"]
    jobs = w.tables["payroll"]
    cand = np.flatnonzero(np.isnat(t["eligibility_end_date"]) & pl.alive(t["person"]) & (pl.age(t["person"]) <= 62)
                          & pl.free(t["person"]) & ~np.isin(t["person"], jobs["person"]))
    _, first = np.unique(t["person"][cand], return_index=True)
    cand = cand[first]
    chosen = pl.choose(cand, pl.k(job) + pl.k(job, hard=True))
    n_true = min(pl.k(job), len(chosen))
    for n, i in enumerate(chosen):
        person = int(t["person"][i])
        start = uniform_dates(w.rng, max(t["eligibility_start_date"][i] - days(400), add_years(w.people["dob"][person], 18)),
                              w.ref - days(30), 1)
        if n < n_true:  # a full-time post: pay well above the threshold
            ids = add_jobs(w, [person], _council(w, 1), start, np.array([NAT]), at_school=np.array([False]))
            w.tables["payroll"]["hours_per_week"][w.row_index("payroll", ids)] = w.tables["payroll"]["standard_hours"][w.row_index("payroll", ids)]
            w.plant(job, "free_school_meals", t["row_id"][i], "payroll", ids[0])
        else:  # a few hours a week at lunchtimes: below the threshold
            ids = add_jobs(w, [person], _council(w, 1), start, np.array([NAT]), at_school=np.array([True]),
                           hours=np.array([float(w.rng.integers(5, 8))]), title_of="Midday Supervisor")
            w.hard_negative(job, "free_school_meals", t["row_id"][i], "payroll", ids[0],
                            "employed, but earning below the free school meals threshold")
        pl.use(person)


def single_person_discounts(pl: Planter) -> None:
    """Households whose single person discount outlives a second adult's arrival (or not)."""
    w = pl.w
    p = w.people
    hh = w.households
    head = np.full(len(hh), -1, dtype=np.int64)
    head[p["household"][p["role"] == 0]] = np.flatnonzero(p["role"] == 0)
    # Another adult moves in.
    job = "spd-to-electoral-register"
    cand = np.flatnonzero((hh["type"] == SINGLE) & ~hh["lodger"] & (hh["move_in"] <= w.ref - days(500)) & (head >= 0))
    cand = cand[pl.alive(head[cand]) & (pl.age(head[cand]) >= 25) & (pl.age(head[cand]) <= 80) & pl.free(head[cand])]
    k, hard = pl.k(job), pl.k(job, hard=True)
    chosen = pl.choose(cand, k + hard)
    joined = np.full(len(chosen), NAT)
    for n, h in enumerate(chosen):
        since = uniform_dates(w.rng, hh["move_in"][h], w.ref - days(400), 1)[0]
        joined[n] = uniform_dates(w.rng, max(since + np.timedelta64(60, "D"), w.ref - np.timedelta64(3 * 365, "D")),
                                  w.ref - days(60), 1)[0]
        hh["spd_since"][h] = since
        if n >= k:  # a hard negative: the discount ended before the newcomer arrived
            hh["spd_end"][h] = max(joined[n] - np.timedelta64(int(w.rng.integers(1, 60)), "D"), since + np.timedelta64(1, "D"))
    if len(chosen):
        lead = head[chosen]
        sex = np.where(p["sex"][lead] == "M", "F", "M").astype(object)
        age = np.maximum(20, p["age"][lead] + w.rng.integers(-4, 5, len(chosen)))
        newcomers = new_people(w.rng, p, w.ref, pl.seq, household=chosen, property=hh["property"][chosen],
                               borough=hh["borough"][chosen], role=PARTNER, sex=sex, age=age,
                               origin=hh["origin"][chosen], joined=joined)
        first = len(p)
        w.people = p = type(p).concat([p, newcomers])
        for n, h in enumerate(chosen):
            pl.use(int(lead[n]), first + n)
            pl.spd.append((job, int(h), first + n, -1, n < k))
    # A child turns 18 while the discount runs.
    job = "spd-to-post16"
    k, hard = pl.k(job), pl.k(job, hard=True)
    bday18 = add_years(p["dob"], 18)
    students = np.isin(np.arange(len(p)), w.tables["student_loans"]["person"])
    kids = np.flatnonzero((p["role"] == 2) & np.isnat(p["dod"]) & (bday18 <= w.ref - days(10)) & (p["age"] <= 19) & ~students)
    kids = kids[(hh["type"][p["household"][kids]] == LONE_PARENT) & pl.free(kids)]
    made = 0
    children_of: dict[int, list[int]] = {}
    for c in np.flatnonzero(p["role"] == 2):
        children_of.setdefault(int(p["household"][c]), []).append(int(c))
    for c in w.rng.permutation(kids):
        if made >= k + hard:
            break
        h = int(p["household"][c])
        lead = int(head[h])
        first18 = bday18[children_of[h]].min()
        if lead < 0 or not np.isnat(p["dod"][lead]) or not pl.free(np.array([lead, c])).all() or \
                hh["move_in"][h] > first18 - np.timedelta64(60, "D") or not np.isnat(hh["spd_since"][h]):
            continue
        hh["spd_since"][h] = uniform_dates(w.rng, hh["move_in"][h], first18 - days(30), 1)[0]
        planted = made < k
        if not planted:
            hh["spd_end"][h] = bday18[c] - np.timedelta64(1, "D")
        learners = w.tables["post16_learners"]
        have = np.flatnonzero(learners["person"] == c)
        if len(have):
            row = int(learners["row_id"][have[0]])
        else:
            from matching.synth.children import learner_rows

            row = int(w.add_rows("post16_learners", learner_rows(w, np.array([c])))[0])
        pl.use(lead, int(c))
        pl.spd.append((job, h, int(c), row, planted))
        made += 1
