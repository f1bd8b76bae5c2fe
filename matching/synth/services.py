"""Life as data, part four: blue badges and concessionary travel passes.

A badge lasts three years and a pass five. When a holder dies the council is normally told
(Tell Us Once) and cancels it with effect from the date of death; a badge or pass planted
with a lag stays issued, or is cancelled months later.
"""

from __future__ import annotations

import numpy as np

from matching.synth.table import NAT, Table, add_years, days, uniform_dates
from matching.synth.world import World


def _issued(w: World, who: np.ndarray, years: int, expired_share: float) -> Table:
    rng = w.rng
    p = w.people
    n = len(who)
    current = uniform_dates(rng, add_years(np.full(n, w.ref), -years) + days(1), w.ref - days(1))
    lapsed = uniform_dates(rng, add_years(np.full(n, w.ref), -years - 1), add_years(np.full(n, w.ref), -years))
    issue = np.where(rng.random(n) < expired_share, lapsed, current).astype("datetime64[D]")
    dod = p["dod"][who]
    dead = ~np.isnat(dod)
    # Nothing is issued to someone already dead: such a badge was issued before the death.
    before = dod - days(rng.integers(30, years * 365, n))
    issue = np.where(dead & (issue >= dod), before, issue).astype("datetime64[D]")
    return Table({
        "person": who, "body": p["borough"][who], "addr": p["property"][who], "issue_date": issue,
        "expiry_date": add_years(issue, years), "status": np.full(n, "ISSUED", dtype=object),
        "cancelled_date": np.full(n, NAT), "lag": np.zeros(n, dtype=bool),
    }, n=n)


def blue_badges(w: World) -> None:
    age = w.people["age"]
    prob = np.select([age < 16, age < 65, age < 75, age < 85], [0.005, 0.015, 0.07, 0.15], 0.3)
    who = np.flatnonzero(w.rng.random(len(age)) < prob)
    t = _issued(w, who, 3, 0.12)
    t["badge_type"] = np.full(len(t), "INDIVIDUAL", dtype=object)
    w.add_rows("blue_badges", t)


def concessionary_passes(w: World) -> None:
    age = w.people["age"]
    prob = np.select([age < 16, age < 66], [0.0, 0.02], 0.75)
    who = np.flatnonzero(w.rng.random(len(age)) < prob)
    w.add_rows("concessionary_travel", _issued(w, who, 5, 0.06))


def settle(w: World) -> None:
    """Statuses on the exercise date: expired, cancelled at death (or not, when planted so),
    and only what the extract holds: valid now, or ended in the last twelve months."""
    dod_all = w.people["dod"]
    for kind in ("blue_badges", "concessionary_travel"):
        t = w.tables.get(kind)
        if t is None or not len(t):
            continue
        dod = dod_all[t["person"]]
        normal = ~np.isnat(dod) & ~t["lag"] & (dod < t["expiry_date"]) & (t["issue_date"] <= dod)
        t["status"] = np.where(t["expiry_date"] <= w.ref, "EXPIRED", t["status"]).astype(object)
        t["status"] = np.where(normal, "CANCELLED", t["status"]).astype(object)
        t["cancelled_date"] = np.where(normal, dod, t["cancelled_date"]).astype("datetime64[D]")
        ended = np.where(np.isnat(t["cancelled_date"]), t["expiry_date"], t["cancelled_date"])
        keep = ended >= w.ref - days(365)
        w.tables[kind] = t.take(keep)
