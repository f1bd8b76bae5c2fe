"""Life as data, part five: pupils, post-16 learners, school admissions and free school meals.

Most children go to school in their own borough, a tenth next door. Admissions cover the
Reception and Year 7 intakes of September 2025 and 2026; a family that moved home after
the child started applied from its previous address. Free school meals follow the
household's benefit claim.
"""

from __future__ import annotations

import numpy as np

from matching.synth import schools as sch
from matching.synth.claims import heads, partners
from matching.synth.homes import residents
from matching.synth.names import nickname_for
from matching.synth.population import CHILD, HEAD, PARTNER
from matching.synth.table import NAT, Table, add_years, date, days, uniform_dates
from matching.synth.world import World


def _school_borough(w: World, home: np.ndarray) -> np.ndarray:
    away = w.rng.random(len(home)) < 0.1
    return np.where(away, (home + w.rng.integers(1, 3, len(home))) % 3, home)


def parent_of(w: World, child: np.ndarray) -> np.ndarray:
    """The first parent/carer contact: the mother where there is one, else the head."""
    p = w.people
    h = p["household"][child]
    head = heads(w)[h]
    partner = partners(w)[h]
    mother = np.where((partner >= 0) & (p["sex"][np.maximum(partner, 0)] == "F") & (p["sex"][head] == "M"), partner, head)
    alive = np.isnat(p["dod"][np.maximum(mother, 0)])
    return np.where(alive, mother, np.where(partner >= 0, np.where(mother == head, partner, head), head))


def pupils(w: World) -> None:
    rng = w.rng
    p = w.people
    here = residents(w)
    age_aug = sch.school_year_age(p["dob"], 2026)
    sixth = (age_aug >= 16) & (age_aug <= 17) & (rng.random(len(p)) < 0.3)
    who = np.flatnonzero(here & (p["role"] == CHILD) & (((age_aug >= 4) & (age_aug <= 15)) | sixth))
    n = len(who)
    borough = _school_borough(w, p["borough"][who])
    phase = np.where(age_aug[who] <= 10, sch.PRIMARY, sch.SECONDARY)
    chosen = [sch.pick(rng, sch.schools_of(int(b), int(ph)), 1)[0] for b, ph in zip(borough, phase, strict=True)]
    t = sch.as_table(chosen)
    entry = np.where(phase == sch.PRIMARY, sch.entry_dates(p["dob"][who], 4), sch.entry_dates(p["dob"][who], 11))
    moved = w.households["move_in"][p["household"][who]]
    entry = np.where(moved > entry, moved + days(rng.integers(5, 60, n)), entry)
    entry = np.minimum(entry, w.ref - days(1)).astype("datetime64[D]")
    first_year = sch.entry_dates(p["dob"][who], 4).astype("datetime64[Y]").astype(np.int64) + 1970
    preferred = np.full(n, "", dtype=object)
    for i in np.flatnonzero(rng.random(n) < 0.06):
        preferred[i] = nickname_for(p["forenames"][who[i]], rng) or ""
    w.add_rows("pupils", Table({
        "person": who, "body": borough, "addr": p["property"][who], "parent": parent_of(w, who),
        "upn": sch.upns(rng, p["person_seq"][who], first_year, np.asarray(sch.LA_CODES)[p["borough"][who]]),
        "uln": np.where(age_aug[who] >= 14, sch.ulns(p["person_seq"][who]), ""),
        "year_group": sch.year_group(age_aug[who]), "entry_date": entry, "leaving_date": np.full(n, NAT),
        "preferred_forename": preferred, "fsm_eligible": np.zeros(n, dtype=bool),
        "school": t["school"], "school_urn": t["school_urn"], "school_laestab": t["school_laestab"],
    }))


def post16(w: World) -> None:
    rng = w.rng
    p = w.people
    here = residents(w)
    age = w.age_years()
    at_uni = np.zeros(len(p), dtype=bool)
    if "student_loans" in w.tables:
        at_uni[w.tables["student_loans"]["person"]] = True
    prob = np.select([age < 16, age <= 17, age == 18, age == 19], [0.0, 0.85, 0.45, 0.15], 0.0)
    who = np.flatnonzero(here & ~at_uni & (rng.random(len(p)) < prob))
    w.add_rows("post16_learners", learner_rows(w, who))


def learner_rows(w: World, who: np.ndarray) -> Table:
    rng = w.rng
    p = w.people
    n = len(who)
    age_aug = sch.school_year_age(p["dob"][who], 2026)
    borough = p["borough"][who]
    providers = [sch.pick(rng, sch.schools_of(int(b), sch.COLLEGE), 1)[0] for b in borough]
    started = np.where(age_aug <= 16, 2026, np.where(age_aug == 17, 2025, 2024))
    start = np.asarray([sch.term_start(int(y)) for y in started], dtype="datetime64[D]")
    end = np.asarray([date(f"{int(y) + 2}-06-30") for y in started], dtype="datetime64[D]")
    finished = end < w.ref
    apprentice = rng.random(n) < 0.08
    courses = np.array(["A Levels", "BTEC Extended Diploma", "T Level", "Level 3 Diploma", "GCSE English and Maths",
                        "Apprenticeship Standard Level 3"], dtype=object)
    course = np.where(apprentice, courses[-1], courses[rng.integers(0, 5, n)])
    return Table({
        "person": who, "body": borough, "addr": p["property"][who],
        "uln": sch.ulns(p["person_seq"][who]),
        "provider": np.asarray([s.name for s in providers], dtype=object),
        "provider_ukprn": np.asarray([f"1000{int(s.urn) % 10000:04d}" for s in providers], dtype=object),
        "course": course, "mode": np.where(apprentice | (rng.random(n) < 0.05), "PT", "FT").astype(object),
        "apprentice": apprentice, "course_start_date": start, "course_end_date": end,
        "actual_end_date": np.where(finished, end, NAT).astype("datetime64[D]"), "lag": np.zeros(n, dtype=bool),
    }, n=n)


def admissions(w: World) -> None:
    rng = w.rng
    p = w.people
    here = residents(w)
    rows: list[tuple[np.ndarray, int, int]] = []
    for year in (2025, 2026):
        age_aug = sch.school_year_age(p["dob"], year)
        for age, phase in ((4, sch.PRIMARY), (11, sch.SECONDARY)):
            kids = np.flatnonzero(here & (p["role"] == CHILD) & (age_aug == age))
            if len(kids):
                rows.append((kids, year, phase))
    if not rows:
        return
    kids = np.concatenate([r[0] for r in rows])
    years = np.concatenate([np.full(len(r[0]), r[1]) for r in rows])
    phases = np.concatenate([np.full(len(r[0]), r[2]) for r in rows])
    n = len(kids)
    borough = _school_borough(w, p["borough"][kids])
    chosen = [sch.pick(rng, sch.schools_of(int(b), int(ph)), 1)[0] for b, ph in zip(borough, phases, strict=True)]
    t = sch.as_table(chosen)
    admission = np.asarray([sch.term_start(int(y)) for y in years], dtype="datetime64[D]")
    deadline = np.where(phases == sch.PRIMARY, np.asarray([date(f"{y}-01-15") for y in years]),
                        np.asarray([date(f"{y - 1}-10-31") for y in years]))
    application = uniform_dates(rng, deadline - days(75), deadline)
    parent = parent_of(w, kids)
    home = p["property"][kids]
    moved = w.households["move_in"][p["household"][kids]] > admission
    addr = home.copy()
    homes = np.flatnonzero(w.addresses["dwelling"][: w.n_homes] < 3)
    same_borough = w.addresses["borough"][homes]
    for i in np.flatnonzero(moved):  # they applied from their previous home
        options = homes[same_borough == w.addresses["borough"][home[i]]]
        addr[i] = options[int(rng.integers(len(options)))]
    relationship = np.where(p["sex"][parent] == "F", "Mother", "Father").astype(object)
    relationship[rng.random(n) < 0.05] = "Parent"
    upn_known = phases == sch.SECONDARY
    w.add_rows("school_admissions", Table({
        "person": parent, "child": kids, "body": borough, "addr": addr, "relationship": relationship,
        "application_date": application.astype("datetime64[D]"), "admission_date": admission,
        "upn_known": upn_known, "school": t["school"], "school_urn": t["school_urn"],
    }))


def free_school_meals(w: World) -> None:
    """Pupils in households on a current benefit claim, and a few others (universal credit)."""
    rng = w.rng
    p = w.people
    pup = w.tables.get("pupils")
    if pup is None or not len(pup):
        return
    claim_start = np.full(len(w.households), NAT)
    for kind in ("council_tax_reduction", "housing_benefit"):
        c = w.tables.get(kind)
        if c is None:
            continue
        live = np.isnat(c["claim_end_date"])
        claim_start[c["household"][live]] = c["claim_start_date"][live]
    h = p["household"][pup["person"]]
    on_claim = ~np.isnat(claim_start[h])
    tenure = w.households["tenure"][h]
    eligible = np.where(on_claim, rng.random(len(pup)) < 0.85, (tenure > 0) & (rng.random(len(pup)) < 0.05))
    idx = np.flatnonzero(eligible)
    n = len(idx)
    start = np.maximum(np.where(on_claim[idx], claim_start[h[idx]], w.ref - days(rng.integers(30, 900, n))),
                       pup["entry_date"][idx]).astype("datetime64[D]")
    start = np.minimum(start, w.ref - days(1))
    ended = rng.random(n) < 0.06
    end = np.where(ended, uniform_dates(rng, np.maximum(start + days(30), w.ref - days(300)), w.ref - days(1)), NAT)
    end = np.where(end > start, end, NAT).astype("datetime64[D]")
    pup["fsm_eligible"][idx] = np.isnat(end)
    parent = pup["parent"][idx]
    w.add_rows("free_school_meals", Table({
        "person": parent, "child": pup["person"][idx], "body": pup["body"][idx], "addr": p["property"][parent],
        "eligibility_start_date": start, "eligibility_end_date": end,
        "last_checked_date": uniform_dates(rng, np.maximum(start, w.ref - days(150)), w.ref - days(1)),
        "nass": rng.random(n) < 0.01, "pupil_row": pup["row_id"][idx], "lag": np.zeros(n, dtype=bool),
        "school": pup["school"][idx], "school_urn": pup["school_urn"][idx],
    }))


__all__ = ["HEAD", "PARTNER", "add_years", "admissions", "free_school_meals", "post16", "pupils"]
