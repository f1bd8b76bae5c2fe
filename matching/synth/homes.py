"""Life as data, part three: what councils hold about homes and who lives in them.

Built from the households as they are on the exercise date (after deaths and after the
planted changes), so a council tax account names the people alive and liable, a single
person discount reflects who lived there when it began, and the electoral register lists
who registered at each address and when.
"""

from __future__ import annotations

import numpy as np

from matching.synth.addresses import BOROUGH_NAMES, BOROUGHS, DWELLING_BLOCK, DWELLING_CONVERTED
from matching.synth.claims import heads, partners
from matching.synth.population import (
    ADULT_CHILD,
    GROWN_UP,
    LODGER,
    LONE_PARENT,
    PARTNER,
    PRIVATE_RENT,
    SHARER,
    SINGLE,
    SOCIAL_RENT,
)
from matching.synth.table import NAT, Table, add_years, days, uniform_dates
from matching.synth.world import World

LANDLORDS = ("Royal Borough of Kingston upon Thames", "Richmond Housing Partnership", "Housing Solutions")
TENANCY_TYPES = (("SECURE", "INTRODUCTORY", "FLEXIBLE"), ("ASSURED", "STARTER", "FIXED TERM"), ("ASSURED", "STARTER", "AFFORDABLE RENT"))
DISTRICT_PREFIX = ("K", "R", "W")
PERMIT_ZONES = (("A", "B", "C", "CPZ D", "K1", "K3", "NM2", "S4"), ("CPZ A1", "CPZ B", "CPZ C", "T1", "T2", "K", "E"),
                ("W1", "W2", "M1", "Zone 4"))


def _members(w: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """People ordered by household, and each household's start and end in that order."""
    h = w.people["household"]
    order = np.argsort(h, kind="stable")
    nh = len(w.households)
    lo = np.searchsorted(h[order], np.arange(nh), side="left")
    hi = np.searchsorted(h[order], np.arange(nh), side="right")
    return order, lo, hi


def residents(w: World) -> np.ndarray:
    """People living at their household's home on the exercise date (alive, joined by then)."""
    p = w.people
    return np.isnat(p["dod"]) & (np.isnat(p["joined"]) | (p["joined"] <= w.ref))


def council_tax(w: World) -> None:
    rng = w.rng
    p = w.people
    hh = w.households
    order, lo, hi = _members(w)
    here = residents(w)
    adult_now = here & (w.age_years() >= 18)
    bday18 = add_years(p["dob"], 18)
    rows: list[tuple] = []
    head = heads(w)
    partner = partners(w)
    single_since = _single_since(w, head, partner)
    for h in range(len(hh)):
        members = order[lo[h]:hi[h]]
        adults = members[adult_now[members]]
        if not len(adults):
            continue
        lead = head[h] if adult_now[head[h]] else adults[0]
        joint = -1
        others = adults[(adults != lead) & np.isnat(p["joined"][adults])]  # a newcomer is not yet liable
        if len(others) and (p["role"][others[0]] == PARTNER or p["role"][lead] == PARTNER) and rng.random() < 0.5:
            joint = int(others[0])
        elif len(others) and p["role"][others[0]] == SHARER and rng.random() < 0.3:
            joint = int(others[0])
        liable_from = hh["move_in"][h]
        if lead != head[h] and not np.isnat(p["dod"][head[h]]):
            liable_from = max(liable_from, p["dod"][head[h]] + np.timedelta64(1, "D"))
        discount, ds, de = "NONE", NAT, NAT
        s = single_since[h]
        planted = not np.isnat(hh["spd_since"][h])
        if not np.isnat(s) and (planted or rng.random() < 0.92):
            present = members[(np.isnat(p["dod"][members]) | (p["dod"][members] > s))
                              & (np.isnat(p["joined"][members]) | (p["joined"][members] <= s))
                              & (bday18[members] <= s)]
            if len(present) == 1 and present[0] == lead:
                discount, ds = "SPD", s
                later = members[(bday18[members] > s) & (bday18[members] <= w.ref) & here[members]]
                if planted:
                    de = hh["spd_end"][h]
                elif len(later) and rng.random() < 0.5:  # told the council when the child turned 18
                    de = bday18[later].min() - np.timedelta64(1, "D")
        rows.append((h, lead, joint, liable_from, discount, ds, de))
    if not rows:
        return
    hidx = np.array([r[0] for r in rows])
    lead = np.array([r[1] for r in rows])
    t = Table({
        "household": hidx, "person": lead, "joint": np.array([r[2] for r in rows]), "body": hh["borough"][hidx],
        "addr": hh["property"][hidx], "liable_from_date": np.array([r[3] for r in rows], dtype="datetime64[D]"),
        "liable_to_date": np.full(len(rows), NAT), "discount_type": np.array([r[4] for r in rows], dtype=object),
        "discount_start_date": np.array([r[5] for r in rows], dtype="datetime64[D]"),
        "discount_end_date": np.array([r[6] for r in rows], dtype="datetime64[D]"),
    })
    t["band"] = bands(w, t["addr"])
    w.add_rows("council_tax", t)


def _single_since(w: World, head: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """When the household came to have one adult, if it has (NaT otherwise)."""
    rng = w.rng
    hh = w.households
    p = w.people
    nh = len(hh)
    move_in = hh["move_in"]
    out = np.full(nh, NAT)
    later = uniform_dates(rng, move_in, np.maximum(move_in, w.ref - days(30)))
    single = (hh["type"] == SINGLE) & ~hh["lodger"]
    out[single] = np.where(rng.random(nh) < 0.7, move_in, later)[single]
    lone = hh["type"] == LONE_PARENT
    out[lone] = np.where(rng.random(nh) < 0.5, move_in, later)[lone]
    has_partner = partner >= 0
    p_dod = np.where(has_partner, p["dod"][np.maximum(partner, 0)], NAT)
    h_dod = p["dod"][head]
    widowed = has_partner & (~np.isnat(p_dod) & np.isnat(h_dod) | np.isnat(p_dod) & ~np.isnat(h_dod))
    out[widowed] = np.where(np.isnat(p_dod), h_dod, p_dod)[widowed] + np.timedelta64(1, "D")
    planted = ~np.isnat(hh["spd_since"])
    out[planted] = hh["spd_since"][planted]
    return out.astype("datetime64[D]")


def bands(w: World, addr: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Council tax bands for homes: dearer for houses and in the dearer boroughs."""
    a = w.addresses
    dwelling = a["dwelling"][addr]
    borough = a["borough"][addr]
    base = np.where(dwelling == DWELLING_BLOCK, 1.5, np.where(dwelling == DWELLING_CONVERTED, 2.0, 3.6))
    base = base + np.where(borough == 1, 0.8, np.where(borough == 2, 0.4, 0.0))
    band = np.clip(np.round((rng or w.rng).normal(base, 1.0)), 0, 7).astype(np.int64)
    return np.array(list("ABCDEFGH"), dtype=object)[band]


def electoral_register(w: World) -> None:
    rng = w.rng
    p = w.people
    hh = w.households
    here = residents(w)
    age = w.age_years()
    eligible = np.where(p["origin"] == 0, 0.97, 0.8)
    chance = np.where(age >= 18, 0.88, 0.55) * eligible
    chance = np.where(np.isnat(p["joined"]), chance, 1.0)  # planted arrivals register
    who = np.flatnonzero(here & (age >= 16) & (rng.random(len(p)) < chance))
    arrived = np.where(np.isnat(p["joined"][who]), hh["move_in"][p["household"][who]], p["joined"][who])
    sixteen = add_years(p["dob"][who], 16)
    registered = np.maximum(arrived, sixteen) + days(rng.integers(3, 120, len(who)))
    registered = np.minimum(registered, w.ref - days(1)).astype("datetime64[D]")
    eu = np.isin(p["origin"][who], (3, 4)) & (rng.random(len(who)) < 0.6)
    w.add_rows("electoral_register", Table({
        "person": who, "body": p["borough"][who], "addr": p["property"][who], "registered_date": registered,
        "attainer": age[who] < 18, "markers": np.where(eu, "G", "").astype(object),
    }))


def tenancies(w: World) -> None:
    """One record per person on each social tenancy: tenants and other household members."""
    rng = w.rng
    p = w.people
    hh = w.households
    order, lo, hi = _members(w)
    here = residents(w)
    adult = w.age_years() >= 18
    head = heads(w)
    rows: list[tuple] = []
    tenancy = 0
    for h in np.flatnonzero(hh["tenure"] == SOCIAL_RENT):
        members = order[lo[h]:hi[h]]
        alive = members[here[members]]
        start = hh["move_in"][h]
        adults = alive[adult[alive]]
        if not len(adults):
            dead = members[~np.isnat(p["dod"][members]) & adult[members]]
            if len(dead):
                last = p["dod"][dead].max()
                rows.append((tenancy, int(dead[0]), h, True, start, last))
                tenancy += 1
            continue
        lead = head[h] if here[head[h]] and adult[head[h]] else adults[0]
        for m in alive:
            is_tenant = m == lead or (p["role"][m] == PARTNER and rng.random() < 0.6)
            rows.append((tenancy, int(m), h, bool(is_tenant), start, NAT))
        tenancy += 1
    if not rows:
        return
    t = Table({
        "tenancy": np.array([r[0] for r in rows]), "person": np.array([r[1] for r in rows]),
        "household": np.array([r[2] for r in rows]), "tenant": np.array([r[3] for r in rows]),
        "tenancy_start_date": np.array([r[4] for r in rows], dtype="datetime64[D]"),
        "tenancy_end_date": np.array([r[5] for r in rows], dtype="datetime64[D]"),
    })
    t["addr"] = hh["property"][t["household"]]
    t["body"] = hh["borough"][t["household"]]
    t["tenancy_type"] = _tenancy_type(w, t)
    t["landlord"] = np.asarray([LANDLORDS[b] for b in t["body"]], dtype=object)
    w.add_rows("housing_tenants", t)
    keep = np.isnat(t["tenancy_end_date"]) | (t["tenancy_end_date"] >= w.ref - days(365))
    w.tables["housing_tenants"] = w.tables["housing_tenants"].take(keep)


def _tenancy_type(w: World, t: Table) -> np.ndarray:
    rng = w.rng
    young = (w.ref - t["tenancy_start_date"]).astype(np.int64) < 365
    pick = np.where(young, 1, np.where(rng.random(len(t)) < 0.85, 0, 2))
    return np.asarray([TENANCY_TYPES[b][k] for b, k in zip(t["body"], pick, strict=True)], dtype=object)


def waiting_list(w: World) -> None:
    rng = w.rng
    p = w.people
    hh = w.households
    head = heads(w)
    partner = partners(w)
    order, lo, hi = _members(w)
    here = residents(w)
    nh = len(hh)
    r = rng.random(nh)
    apply = np.select([hh["tenure"] == PRIVATE_RENT, hh["tenure"] == SOCIAL_RENT], [r < 0.07, r < 0.04], False)
    rows = []
    for h in np.flatnonzero(apply):
        lead = head[h]
        if not here[lead]:
            continue
        joint = partner[h] if partner[h] >= 0 and here[partner[h]] else -1
        tenure = "private rented" if hh["tenure"][h] == PRIVATE_RENT else "social tenant"
        rows.append((lead, joint, h, tenure, int(here[order[lo[h]:hi[h]]].sum())))
    grown = np.flatnonzero((hh["type"] == GROWN_UP) & (rng.random(nh) < 0.05))
    for h in grown:
        kids = [m for m in order[lo[h]:hi[h]] if p["role"][m] == ADULT_CHILD and here[m]]
        if kids:
            rows.append((kids[0], -1, h, "living with family", 1))
    if not rows:
        return
    lead = np.array([r[0] for r in rows])
    n = len(rows)
    size = np.array([r[4] for r in rows])
    date = uniform_dates(rng, w.ref - days(6 * 365), w.ref - days(7), n)
    date = np.maximum(date, add_years(p["dob"][lead], 18))
    band = np.asarray([("Band A", "Band B", "Band C", "Band D")[i] for i in rng.choice(4, n, p=[0.05, 0.2, 0.45, 0.3])], dtype=object)
    band = np.where(p["borough"][lead] == 2, np.char.replace(band.astype(str), "Band ", "").astype(object), band)
    w.add_rows("housing_waiting_list", Table({
        "person": lead, "joint": np.array([r[1] for r in rows]), "body": p["borough"][lead], "addr": p["property"][lead],
        "application_date": date.astype("datetime64[D]"), "band": band,
        "application_status": np.where(rng.random(n) < 0.88, "ACTIVE", np.where(rng.random(n) < 0.5, "SUSPENDED", "DEFERRED")).astype(object),
        "household_size": size, "bedroom_need": np.clip((size + 1) // 2, 1, 4),
        "current_tenure": np.array([r[3] for r in rows], dtype=object),
    }))


def right_to_buy(w: World) -> None:
    rng = w.rng
    t = w.tables.get("housing_tenants")
    if t is None or not len(t):
        return
    lead = t.take(t["tenant"] & np.isnat(t["tenancy_end_date"]) & (t["body"] < 2)
                  & (t["tenancy_start_date"] <= w.ref - days(3 * 365)))
    _, first = np.unique(lead["tenancy"], return_index=True)
    lead = lead.take(first)
    pick = lead.take(rng.random(len(lead)) < 0.06)
    n = len(pick)
    if not n:
        return
    date = uniform_dates(rng, w.ref - days(730), w.ref - days(7), n)
    status = rng.choice(np.array(["RECEIVED", "ADMITTED", "OFFER ISSUED", "COMPLETED", "WITHDRAWN"], dtype=object), n,
                        p=[0.25, 0.25, 0.25, 0.1, 0.15])
    valuation = rng.integers(250, 650, n) * 100_000
    cap = np.where(date >= np.datetime64("2024-11-21"), 1_600_000, 13_640_000)
    discount = np.minimum(valuation * rng.uniform(0.35, 0.7, n), cap).astype(np.int64) // 100 * 100
    completion = np.where(status == "COMPLETED", np.minimum(date + days(rng.integers(90, 300, n)), w.ref - days(1)), NAT)
    w.add_rows("right_to_buy", Table({
        "person": pick["person"], "body": pick["body"], "addr": pick["addr"], "tenancy": pick["tenancy"],
        "tenancy_start_date": pick["tenancy_start_date"], "application_date": date.astype("datetime64[D]"),
        "application_status": status, "valuation_amount": valuation.astype(np.int64), "discount_amount": discount,
        "completion_date": completion.astype("datetime64[D]"),
    }))


def parking_permits(w: World) -> None:
    rng = w.rng
    p = w.people
    hh = w.households
    a = w.addresses
    head = heads(w)
    partner = partners(w)
    here = residents(w)
    street = a["street_id"][hh["property"]]
    borough = hh["borough"]
    in_cpz = ((street * 2_654_435_761) % 100) < np.where(borough == 2, 15, 30)
    has = in_cpz & (rng.random(len(hh)) < 0.55) & here[head]
    rows = []
    for h in np.flatnonzero(has):
        zones = PERMIT_ZONES[borough[h]]
        zone = zones[int(street[h]) % len(zones)]
        rows.append((head[h], zone))
        if partner[h] >= 0 and here[partner[h]] and rng.random() < 0.3:
            rows.append((partner[h], zone))
    if not rows:
        return
    who = np.array([r[0] for r in rows])
    n = len(rows)
    issue = uniform_dates(rng, w.ref - days(540), w.ref - days(1), n)
    months = np.where(rng.random(n) < 0.8, 12, 6)
    expiry = (issue.astype("datetime64[M]") + months.astype("timedelta64[M]")).astype("datetime64[D]") + (
        issue - issue.astype("datetime64[M]").astype("datetime64[D]")) - days(1)
    keep = expiry >= w.ref - days(180)
    status = np.where(expiry < w.ref, "EXPIRED", "ACTIVE").astype(object)
    t = Table({
        "person": who, "body": p["borough"][who], "addr": p["property"][who],
        "vehicle_registration": _registrations(rng, n), "permit_zone": np.array([r[1] for r in rows], dtype=object),
        "permit_type": np.where(rng.random(n) < 0.93, "RESIDENT", "CARER").astype(object),
        "issue_date": issue, "expiry_date": expiry.astype("datetime64[D]"), "status": status,
        "cancelled_date": np.full(n, NAT),
    }).take(keep)
    w.add_rows("resident_parking_permits", t)


def _registrations(rng: np.random.Generator, n: int) -> np.ndarray:
    letters = np.array(list("ABCDEFGHJKLMNOPRSTUVWXYZ"))
    ages = np.array([f"{y:02d}" for y in (*range(51, 75), *range(1, 26))])
    out = []
    for _ in range(n):
        a = "".join(rng.choice(letters, 2))
        b = "".join(rng.choice(letters, 3))
        out.append(f"{a}{ages[int(rng.integers(len(ages)))]} {b}")
    return np.asarray(out, dtype=object)


__all__ = ["BOROUGH_NAMES", "BOROUGHS", "LODGER", "bands", "council_tax", "electoral_register", "parking_permits",
           "right_to_buy", "tenancies", "waiting_list"]
