"""Planting, part two: scenarios about homes, suppliers and payments (after those records exist),
and hard negatives that arise naturally (a claim that ended on the date of death).
"""

from __future__ import annotations

import numpy as np

from matching.synth.addresses import DWELLING_BLOCK, DWELLING_CONVERTED, PREMISES
from matching.synth.business import add_creditors, individual_creditor
from matching.synth.homes import bands
from matching.synth.plant import Planter, make_namesake
from matching.synth.table import NAT, Table, add_years, days, uniform_dates
from matching.synth.world import World


def _rows_of(t: Table, col: str, value: int) -> np.ndarray:
    return np.flatnonzero(t[col] == value)


def resolve_discounts(pl: Planter) -> None:
    """Name the records of the single person discount scenarios planted earlier."""
    w = pl.w
    ct = w.tables["council_tax"]
    er = w.tables["electoral_register"]
    learners = w.tables["post16_learners"]
    for job, h, person, learner_row, planted in pl.spd:
        acc = _rows_of(ct, "household", h)
        if not len(acc) or ct["discount_type"][acc[0]] != "SPD":
            continue
        acc_row = int(ct["row_id"][acc[0]])
        if job == "spd-to-electoral-register":
            el = _rows_of(er, "person", person)
            if not len(el):
                continue
            right_kind, right_row = "electoral_register", int(er["row_id"][el[0]])
        else:
            if not len(_rows_of(learners, "row_id", learner_row)):
                continue
            right_kind, right_row = "post16_learners", learner_row
        if planted:
            w.plant(job, "council_tax", acc_row, right_kind, right_row)
        else:
            why = ("the discount ended before the other adult arrived" if job == "spd-to-electoral-register"
                   else "the discount ended before the learner turned 18")
            w.hard_negative(job, "council_tax", acc_row, right_kind, right_row, why)
    # Natural: a learner at a discounted home who is still 17.
    bday18 = add_years(w.people["dob"], 18)
    spd = np.flatnonzero(ct["discount_type"] == "SPD")
    by_addr = {int(a): int(r) for a, r in zip(ct["addr"][spd], ct["row_id"][spd], strict=True)}
    made = 0
    for i in range(len(learners)):
        if made >= pl.k("spd-to-post16", hard=True) // 2:
            break
        account = by_addr.get(int(learners["addr"][i]))
        if account is not None and bday18[learners["person"][i]] > w.ref:
            w.hard_negative("spd-to-post16", "council_tax", account, "post16_learners", learners["row_id"][i],
                            "the learner at the discounted home is still 17")
            made += 1


def tenancies(pl: Planter) -> None:
    w = pl.w
    job = "tenants-to-tenants"
    t = w.tables["housing_tenants"]
    current = np.isnat(t["tenancy_end_date"])
    tenants = np.flatnonzero(t["tenant"] & current & pl.alive(t["person"]) & pl.free(t["person"]))
    # Current tenancies by body, to take over (sublet) one in another body.
    by_body: dict[int, list[int]] = {}
    members: dict[int, list[int]] = {}
    for i in np.flatnonzero(current):
        members.setdefault(int(t["tenancy"][i]), []).append(int(t["person"][i]))
        if len(members[int(t["tenancy"][i])]) == 1:
            by_body.setdefault(int(t["body"][i]), []).append(int(t["tenancy"][i]))
    for b in by_body:
        by_body[b] = [by_body[b][j] for j in w.rng.permutation(len(by_body[b]))]
    taken: list[int] = []
    for i in pl.choose(tenants, pl.k(job)):
        person = int(t["person"][i])
        if not pl.free(np.array([person]))[0]:
            continue
        body = int(t["body"][i])
        options = [x for b in sorted(by_body) if b != body for x in by_body[b][:3]]
        options = [x for x in options if x not in taken and pl.free(np.array(members[x])).all()]
        if not options:
            break
        target = options[int(w.rng.integers(len(options)))]
        by_body[next(b for b in by_body if target in by_body[b])].remove(target)
        taken.append(target)
        rows = np.flatnonzero(t["tenancy"] == target)
        sublet = Table({k: t[k][[rows[0]]] for k in t.names if k != "row_id"}, n=1)
        sublet["person"] = np.array([person])
        sublet["tenant"] = np.array([True])
        sublet["tenancy_start_date"] = uniform_dates(w.rng, w.ref - days(6 * 365), w.ref - days(60), 1)
        ids = w.add_rows("housing_tenants", sublet)
        w.plant(job, "housing_tenants", t["row_id"][i], "housing_tenants", ids[0])
        pl.use(person, *members[target])
    # The occupiers of a sublet home are unknown to the landlord: their records go.
    t = w.tables["housing_tenants"]
    gone = np.isin(t["tenancy"], taken) & ~np.isin(t["row_id"], [x[4] for x in w.planted_pairs if x[0] == job])
    w.tables["housing_tenants"] = t.take(~gone)
    hard = pl.k(job, hard=True)
    next_tenancy = int(t["tenancy"].max()) + 1 if len(t) else 0
    # Moved from one council home to another: the first tenancy has ended.
    t = w.tables["housing_tenants"]
    a = w.addresses
    recent = np.flatnonzero(t["tenant"] & np.isnat(t["tenancy_end_date"]) & pl.alive(t["person"]) & pl.free(t["person"])
                            & (t["tenancy_start_date"] >= w.ref - days(330)) & (t["tenancy_start_date"] <= w.ref - days(30)))
    empty = np.flatnonzero(~a["occupied"][: w.n_homes]) if "occupied" in a else np.zeros(0, dtype=np.int64)
    for i in pl.choose(recent, (hard + 1) // 2):
        same = empty[a["borough"][empty] == t["body"][i]]
        if not len(same):
            continue
        old = Table({k: t[k][[i]] for k in t.names if k != "row_id"}, n=1)
        old["tenancy"] = np.array([next_tenancy])
        next_tenancy += 1
        old["addr"] = np.array([same[int(w.rng.integers(len(same)))]])
        old["household"] = np.array([-1])
        start = t["tenancy_start_date"][i]
        old["tenancy_start_date"] = uniform_dates(w.rng, start - days(8 * 365), start - days(400), 1)
        old["tenancy_end_date"] = np.array([start - np.timedelta64(1, "D")])
        ids = w.add_rows("housing_tenants", old)
        w.hard_negative(job, "housing_tenants", ids[0], "housing_tenants", t["row_id"][i],
                        "moved from one council home to another: the first tenancy ended the day before the second began")
        pl.use(int(t["person"][i]))
    # Namesakes holding tenancies with two landlords.
    t = w.tables["housing_tenants"]
    live = np.flatnonzero(t["tenant"] & np.isnat(t["tenancy_end_date"]) & pl.alive(t["person"]))
    for i in pl.choose(live[pl.free(t["person"][live])], hard // 2):
        pool = live[t["body"][live] != t["body"][i]]
        b = make_namesake(pl, int(t["person"][i]), t["person"][pool])
        if b >= 0:
            j = pool[np.flatnonzero(t["person"][pool] == b)[0]]
            w.hard_negative(job, "housing_tenants", t["row_id"][i], "housing_tenants", t["row_id"][j],
                            "namesakes: same name and date of birth, different people")


# One in four addresses of convenience for council tax is a let near the school: the parent
# takes on a tenancy there (and its council tax) months before applying, and keeps the family
# home and its account. The parent is then liable at both addresses, so a link to the let is as
# strong as the link to the home: the case a set-aside of namesakes must not swallow.
LET_SHARE = 0.25


def admissions(pl: Planter) -> None:
    """Addresses of convenience: the application gives another occupied home in the school's
    borough (a relative's or a friend's), or, for a quarter of the council tax cases, a let the
    parent holds as well as the family home (``LET_SHARE``)."""
    w = pl.w
    # Lets draw from their own stream, so every other case is planted as it was without them
    # (the files still differ: council tax's extra rows move the later draws of its noise).
    lets = w.rng.spawn(1)[0]
    empty = homes_of(w, occupied=False)
    adm = w.tables["school_admissions"]
    ct = w.tables["council_tax"]
    er = w.tables["electoral_register"]
    liable_at: dict[int, tuple[int, np.datetime64, int]] = {}
    for i in range(len(ct)):
        for who in (ct["person"][i], ct["joint"][i]):
            if who >= 0:
                liable_at[int(who)] = (int(ct["addr"][i]), ct["liable_from_date"][i], int(ct["row_id"][i]))
    registered = {int(er["person"][i]): (int(er["addr"][i]), er["registered_date"][i], int(er["row_id"][i])) for i in range(len(er))}
    occupied = homes_of(w, occupied=True)
    for job, need_liable in (("admissions-to-council-tax", True), ("admissions-to-electoral-register", False)):
        cand = []
        for i in range(len(adm)):
            parent = int(adm["person"][i])
            if not pl.free(np.array([parent]))[0] or not np.isnat(w.people["dod"][parent]):
                continue
            home = int(w.people["property"][parent])
            ct_ok = parent in liable_at and liable_at[parent][0] == home and liable_at[parent][1] <= adm["admission_date"][i]
            er_ok = parent in registered and registered[parent][0] == home and registered[parent][1] <= adm["admission_date"][i]
            if adm["addr"][i] == home and ((need_liable and ct_ok) or (not need_liable and er_ok and not ct_ok)):
                cand.append(i)
        for i in pl.choose(np.array(cand, dtype=np.int64), pl.k(job)):
            parent = int(adm["person"][i])
            same = occupied[(w.addresses["borough"][occupied] == adm["body"][i]) & (occupied != adm["addr"][i])]
            if not len(same):
                continue
            adm["addr"][i] = same[int(w.rng.integers(len(same)))]
            if need_liable and lets.random() < LET_SHARE:
                let = empty[w.addresses["borough"][empty] == adm["body"][i]]
                if len(let):
                    adm["addr"][i] = let[int(lets.integers(len(let)))]
                    _let(w, lets, parent, int(adm["addr"][i]), adm["application_date"][i], adm["admission_date"][i])
            w.plant(job, "school_admissions", adm["row_id"][i], "council_tax" if need_liable else "electoral_register",
                    liable_at[parent][2] if need_liable else registered[parent][2])
            pl.use(parent)
    # Natural: the family moved home after the admission date.
    for job, table in (("admissions-to-council-tax", liable_at), ("admissions-to-electoral-register", registered)):
        kind = "council_tax" if table is liable_at else "electoral_register"
        made = 0
        for i in range(len(adm)):
            if made >= pl.k(job, hard=True):
                break
            parent = int(adm["person"][i])
            if parent in table and table[parent][0] != adm["addr"][i] and table[parent][1] > adm["admission_date"][i]:
                w.hard_negative(job, "school_admissions", adm["row_id"][i], kind, table[parent][2],
                                "the family moved home after the admission date")
                made += 1


def homes_of(w: World, occupied: bool) -> np.ndarray:
    """Homes (not business premises), occupied or empty on the exercise date."""
    homes = np.flatnonzero(w.addresses["dwelling"][: w.n_homes] != PREMISES)
    if "occupied" not in w.addresses:
        return homes if occupied else homes[:0]
    return homes[w.addresses["occupied"][homes] == occupied]


def _let(w: World, rng: np.random.Generator, parent: int, addr: int, applied: np.datetime64, admitted: np.datetime64) -> None:
    """A council tax account for ``parent`` alone at the empty home ``addr``, from one to eight
    months before the application; half are still held, the others end one to eight months
    after the admission date (still held if that is after the exercise date)."""
    start = applied - days(int(rng.integers(30, 241)))
    end = admitted + days(int(rng.integers(30, 241))) if rng.random() < 0.5 else NAT
    if not np.isnat(end) and end >= w.ref:
        end = NAT
    w.add_rows("council_tax", Table({
        "household": np.array([-1]), "person": np.array([parent]), "joint": np.array([-1]),
        "body": np.array([w.addresses["borough"][addr]]), "addr": np.array([addr]),
        "liable_from_date": np.array([start], dtype="datetime64[D]"), "liable_to_date": np.array([end], dtype="datetime64[D]"),
        "discount_type": np.array(["NONE"], dtype=object), "discount_start_date": np.array([NAT], dtype="datetime64[D]"),
        "discount_end_date": np.array([NAT], dtype="datetime64[D]"), "band": bands(w, np.array([addr]), rng),
    }))


def creditors(pl: Planter) -> None:
    """Employees whose bank account or home is a supplier's, and look-alikes that are not."""
    w = pl.w
    job = "payroll-to-creditors"
    jobs = w.tables["payroll"]
    live = np.flatnonzero(np.isnat(jobs["date_left"]) & pl.alive(jobs["person"]) & pl.free(jobs["person"]))
    premises = np.flatnonzero(w.addresses["dwelling"] == PREMISES)
    for i in pl.choose(live, pl.k(job)):
        person = int(jobs["person"][i])
        r = w.rng.random()
        spec = individual_creditor(w, person, [int(jobs["body"][i])], same_bank=r >= 0.4, at_home=r < 0.7)
        if spec["addr"] < 0:
            spec["addr"] = int(premises[int(w.rng.integers(len(premises)))])
        ids = add_creditors(w, [spec])
        w.plant(job, "payroll", jobs["row_id"][i], "trade_creditors", ids[0])
        pl.use(person)
    hard = pl.k(job, hard=True)
    a = w.addresses
    home = w.people["property"][jobs["person"]]
    in_flats = np.isin(a["dwelling"][home], (DWELLING_BLOCK, DWELLING_CONVERTED))
    flats = np.flatnonzero(np.isnat(jobs["date_left"]) & in_flats & pl.alive(jobs["person"]) & pl.free(jobs["person"]))
    for i in pl.choose(flats, (hard + 1) // 2):
        mine = int(home[i])
        neighbours = np.flatnonzero((a["building_id"][: w.n_homes] == a["building_id"][mine])
                                    & (a["street_id"][: w.n_homes] == a["street_id"][mine]) & (np.arange(w.n_homes) != mine))
        if not len(neighbours):
            continue
        flat = int(neighbours[int(w.rng.integers(len(neighbours)))])
        residents = np.flatnonzero((w.people["property"] == flat) & (w.people["age"] >= 22) & np.isnat(w.people["dod"]))
        if len(residents):
            spec = individual_creditor(w, int(residents[0]), [int(jobs["body"][i])], same_bank=False)
        else:
            spec = {"name": f"{a['street'][flat].split()[0]} Lettings Ltd", "addr": flat, "owner": -1,
                    "bodies": [int(jobs["body"][i])], "vat": False, "company": True}
        ids = add_creditors(w, [spec])
        w.hard_negative(job, "payroll", jobs["row_id"][i], "trade_creditors", ids[0],
                        "a supplier at another flat in the same building, with other bank details")
        pl.use(int(jobs["person"][i]))
    for i in pl.choose(live[pl.free(jobs["person"][live])], hard // 2):
        person = int(jobs["person"][i])
        p = w.people
        spec = {"name": f"{p['surname'][person]} {('Building', 'Plumbing', 'Cleaning')[int(w.rng.integers(3))]} Services",
                "addr": int(premises[int(w.rng.integers(len(premises)))]), "owner": -1,
                "bodies": [int(jobs["body"][i])], "vat": True, "company": True}
        ids = add_creditors(w, [spec])
        w.hard_negative(job, "payroll", jobs["row_id"][i], "trade_creditors", ids[0],
                        "a supplier with the employee's surname, at another address with other bank details")
        pl.use(person)


def invoice_variant(number: str, rng: np.random.Generator) -> str:
    """The same invoice number keyed differently: separators or leading zeros lost, case changed."""
    r = rng.random()
    if r < 0.35 and any(c in number for c in "-/"):
        return number.replace("-", "").replace("/", "")
    if r < 0.7:
        digits = "".join(c for c in number if c.isdigit())
        return digits.lstrip("0") or digits
    return number.lower() + (" " if rng.random() < 0.5 else "")


def payments(pl: Planter) -> None:
    w = pl.w
    job = "duplicate-payments"
    t = w.tables["trade_creditor_payments"]
    cand = np.flatnonzero(t["payment_date"] <= w.ref - days(10))
    for i in pl.choose(cand, pl.k(job)):
        dup = Table({k: t[k][[i]] for k in t.names if k != "row_id"}, n=1)
        if w.rng.random() < 0.4:
            dup["invoice_number"] = np.array([invoice_variant(str(t["invoice_number"][i]), w.rng)], dtype=object)
        dup["payment_date"] = np.array([min(t["payment_date"][i] + np.timedelta64(int(w.rng.integers(1, 60)), "D"),
                                            w.ref - np.timedelta64(1, "D"))])
        ids = w.add_rows("trade_creditor_payments", dup)
        w.plant(job, "trade_creditor_payments", t["row_id"][i], "trade_creditor_payments", ids[0])
    hard = pl.k(job, hard=True)
    t = w.tables["trade_creditor_payments"]
    creditors = w.tables["trade_creditors"]
    fixed = set(creditors["row_id"][creditors["fixed_amount"] > 0].tolist())
    made = 0
    for c in sorted(fixed):
        rows = np.flatnonzero(t["creditor_row"] == c)
        if len(rows) >= 2 and made < (hard + 1) // 2:
            w.hard_negative(job, "trade_creditor_payments", t["row_id"][rows[0]], "trade_creditor_payments", t["row_id"][rows[1]],
                            "the same supplier and amount, but different invoices (a regular monthly charge)")
            made += 1
    for _ in range(hard // 2):
        i, j = w.rng.integers(0, len(t), 2)
        if t["body"][i] != t["body"][j] or t["creditor_row"][i] == t["creditor_row"][j]:
            continue
        t["invoice_number"][j] = t["invoice_number"][i]
        w.hard_negative(job, "trade_creditor_payments", t["row_id"][i], "trade_creditor_payments", t["row_id"][j],
                        "the same invoice number from two different suppliers")


def natural_hard_negatives(pl: Planter) -> None:
    """Look-alike pairs the simulation makes anyway, recorded up to each job's rate."""
    w = pl.w
    dec = w.tables["deceased_persons"]
    death_of = {int(p): int(r) for p, r in zip(dec["person"], dec["row_id"], strict=True)}
    for job, kind, end_col, why in (
        ("hb-to-deceased", "housing_benefit", "claim_end_date", "the claim ended on the date of death"),
        ("ctr-to-deceased", "council_tax_reduction", "claim_end_date", "the claim ended on the date of death"),
        ("pensions-to-deceased", "pensions", "pension_end_date", "the pension stopped on the date of death"),
        ("blue-badges-to-deceased", "blue_badges", "cancelled_date", "the badge was cancelled on the date of death"),
        ("concessionary-travel-to-deceased", "concessionary_travel", "cancelled_date", "the pass was cancelled on the date of death"),
    ):
        t = w.tables[kind]
        made = 0
        for i in range(len(t)):
            if made >= pl.k(job, hard=True) // 2 + 1:
                break
            person = int(t["person"][i])
            if person in death_of and t[end_col][i] == w.people["dod"][person] and not t["lag"][i]:
                w.hard_negative(job, kind, t["row_id"][i], "deceased_persons", death_of[person], why)
                made += 1
    # A widow's pension: the member died; the widow, at the same address, did not.
    t = w.tables["pensions"]
    for i in np.flatnonzero(t["widow"] & (t["member"] >= 0))[: pl.k("pensions-to-deceased", hard=True) // 2 + 1]:
        member = int(t["member"][i])
        if member in death_of:
            w.hard_negative("pensions-to-deceased", "pensions", t["row_id"][i], "deceased_persons", death_of[member],
                            "a widow's pension: the member died, the widow is alive")


__all__ = ["NAT", "admissions", "creditors", "natural_hard_negatives", "payments", "resolve_discounts", "tenancies"]
