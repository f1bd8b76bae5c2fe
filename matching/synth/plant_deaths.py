"""Planting, deaths: services that run on after their holder died, and look-alikes that do not.

A planted death falls in the last eleven months (inside the deceased persons extract), and
the claim, pension, badge or pass runs on: still open, or stopped months late.
"""

from __future__ import annotations

import numpy as np

from matching.synth.plant import (
    Planter,
    _live_claims,
    _other_claim_rows,
    _window,
    kill,
    make_namesake,
)
from matching.synth.table import days, uniform_dates


def claims_to_deceased(pl: Planter, job: str, kind: str) -> None:
    w = pl.w
    t = w.tables[kind]
    for i in pl.choose(_live_claims(pl, kind, 18, 110, 150), pl.k(job)):
        person = int(t["person"][i])
        dod = uniform_dates(w.rng, max(t["claim_start_date"][i] + days(60), _window(w)), w.ref - days(20), 1)[0]
        death = kill(pl, person, dod)
        t["lag"][i] = True
        if w.rng.random() < 0.3:  # stopped, but months after the death
            t["claim_end_date"][i] = min(dod + np.timedelta64(int(w.rng.integers(30, 200)), "D"), w.ref - np.timedelta64(1, "D"))
        other, rows = _other_claim_rows(w, kind, int(t["household"][i]))
        w.tables[other]["lag"][rows] = True
        w.plant(job, kind, t["row_id"][i], "deceased_persons", death)
        pl.use(person)
    hard = pl.k(job, hard=True)
    # The claim ended before the death.
    for i in pl.choose(_live_claims(pl, kind, 18, 110, 400), (hard + 1) // 2):
        person = int(t["person"][i])
        end = uniform_dates(w.rng, max(t["claim_start_date"][i] + days(60), w.ref - days(330)), w.ref - days(60), 1)[0]
        t["claim_end_date"][i] = end
        death = kill(pl, person, min(end + np.timedelta64(int(w.rng.integers(5, 45)), "D"), w.ref - np.timedelta64(8, "D")))
        w.hard_negative(job, kind, t["row_id"][i], "deceased_persons", death, "the claim ended before the date of death")
        pl.use(person)
    # A namesake died.
    _namesake_deaths(pl, job, kind, _live_claims(pl, kind, 18, 110), hard // 2)


def _namesake_deaths(pl: Planter, job: str, kind: str, rows: np.ndarray, k: int) -> None:
    w = pl.w
    t = w.tables[kind]
    d = w.tables["deceased_persons"]
    for i in pl.choose(rows, k):
        a = int(t["person"][i])
        b = make_namesake(pl, a, d["person"])
        if b >= 0:
            death = d["row_id"][np.flatnonzero(d["person"] == b)[0]]
            w.hard_negative(job, kind, t["row_id"][i], "deceased_persons", death,
                            "a namesake died: same name and date of birth, a different person")


def pensions_to_deceased(pl: Planter) -> None:
    w = pl.w
    job = "pensions-to-deceased"
    t = w.tables["pensions"]
    cand = np.flatnonzero(~t["widow"] & pl.alive(t["person"]) & (t["pension_start_date"] <= w.ref - days(150))
                          & pl.free(t["person"]))
    for i in pl.choose(cand, pl.k(job)):
        person = int(t["person"][i])
        dod = uniform_dates(w.rng, max(t["pension_start_date"][i] + days(30), _window(w)), w.ref - days(20), 1)[0]
        death = kill(pl, person, dod)
        t["lag"][i] = True
        if w.rng.random() < 0.4:
            t["pension_end_date"][i] = min(dod + np.timedelta64(int(w.rng.integers(30, 150)), "D"), w.ref - np.timedelta64(1, "D"))
        w.plant(job, "pensions", t["row_id"][i], "deceased_persons", death)
        pl.use(person)
    cand = np.flatnonzero(pl.alive(t["person"]) & pl.free(t["person"]))
    _namesake_deaths(pl, job, "pensions", cand, pl.k(job, hard=True) // 2 + 1)


def services_to_deceased(pl: Planter, job: str, kind: str) -> None:
    w = pl.w
    t = w.tables[kind]
    cand = np.flatnonzero((t["expiry_date"] > w.ref + days(30)) & (t["issue_date"] <= w.ref - days(90))
                          & pl.alive(t["person"]) & pl.free(t["person"]))
    for i in pl.choose(cand, pl.k(job)):
        person = int(t["person"][i])
        dod = uniform_dates(w.rng, max(t["issue_date"][i] + days(30), _window(w)), w.ref - days(20), 1)[0]
        death = kill(pl, person, dod)
        t["lag"][i] = True
        if w.rng.random() < 0.3:  # cancelled, but months after the death
            t["status"][i] = "CANCELLED"
            t["cancelled_date"][i] = min(dod + np.timedelta64(int(w.rng.integers(30, 200)), "D"), w.ref - np.timedelta64(1, "D"))
        w.plant(job, kind, t["row_id"][i], "deceased_persons", death)
        pl.use(person)
    hard = pl.k(job, hard=True)
    expired = np.flatnonzero((t["expiry_date"] >= w.ref - days(330)) & (t["expiry_date"] <= w.ref - days(60))
                             & pl.alive(t["person"]) & pl.free(t["person"]))
    for i in pl.choose(expired, (hard + 1) // 2):
        person = int(t["person"][i])
        dod = min(t["expiry_date"][i] + np.timedelta64(int(w.rng.integers(5, 45)), "D"), w.ref - np.timedelta64(8, "D"))
        death = kill(pl, person, dod)
        w.hard_negative(job, kind, t["row_id"][i], "deceased_persons", death, "it had expired before the date of death")
        pl.use(person)
    valid = np.flatnonzero((t["expiry_date"] > w.ref) & pl.alive(t["person"]) & pl.free(t["person"]))
    _namesake_deaths(pl, job, kind, valid, hard // 2)
