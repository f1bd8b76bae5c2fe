"""Households and the people in them, as at the exercise date.

Every home is owner-occupied, privately rented or a social (council) tenancy; most are
occupied by one household: a single adult, a couple, a family with children, a lone
parent, a couple with grown-up children at home, or sharers, some with a lodger. People
get a sex, an age that fits their place in the household, names by origin and birth era
(wives usually take the husband's surname and keep a maiden name), a title, a date of
birth, a National Insurance number from 16, an email address, a phone number and a bank
account. A few families have twins; a few fathers gave a son their own name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.synth import names as nm
from matching.synth.addresses import BOROUGHS, DWELLING_BLOCK, DWELLING_CONVERTED, build_properties
from matching.synth.table import Table, add_years, days, year_of

# Household types.
SINGLE, COUPLE, FAMILY, LONE_PARENT, GROWN_UP, SHARERS = range(6)
HOUSEHOLD_TYPES = ("single", "couple", "family", "lone parent", "grown-up children", "sharers")
TYPE_BY_TENURE = np.array([
    [0.27, 0.34, 0.21, 0.05, 0.09, 0.04],  # owner
    [0.33, 0.22, 0.16, 0.09, 0.03, 0.17],  # private rent
    [0.42, 0.12, 0.12, 0.22, 0.07, 0.05],  # social rent
])
OWNER, PRIVATE_RENT, SOCIAL_RENT = 0, 1, 2
TENURES = ("owner", "private rent", "social rent")

# Roles of people in a household.
HEAD, PARTNER, CHILD, ADULT_CHILD, SHARER, LODGER = range(6)

ORIGIN_BY_BOROUGH = np.array([
    [0.70, 0.10, 0.08, 0.05, 0.04, 0.03],  # Kingston (New Malden's Korean community)
    [0.80, 0.07, 0.03, 0.04, 0.04, 0.02],  # Richmond
    [0.80, 0.10, 0.02, 0.04, 0.02, 0.02],  # Windsor and Maidenhead
])
EMAIL_DOMAINS = np.array(["gmail.com", "hotmail.co.uk", "yahoo.co.uk", "outlook.com", "btinternet.com",
                          "icloud.com", "live.co.uk", "aol.com", "sky.com", "googlemail.com"], dtype=object)
EMAIL_DOMAIN_W = np.array([34, 18, 9, 10, 7, 7, 5, 3, 4, 3], dtype=float)
# Sort codes of the big banks' branches (first four digits) as a bank would issue them.
SORT_CODE_PREFIXES = np.array(["2015", "2032", "2045", "4012", "4021", "4047", "3094", "3098", "6007", "6083",
                               "0700", "0901", "0400", "2098", "1666", "8300", "7712", "1100"])


@dataclass
class Population:
    properties: Table
    households: Table
    people: Table


def _choice(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    cum = np.cumsum(p / p.sum())
    return np.searchsorted(cum, rng.random(n), side="right").clip(0, len(p) - 1)


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a matrix of probabilities."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    return (rng.random((len(probs), 1)) > cum).sum(axis=1).clip(0, probs.shape[1] - 1)


def _ages(rng: np.random.Generator, mix: list[tuple[float, ...]], n: int) -> np.ndarray:
    """Ages from a mixture of clipped normals: (weight, mean, sd, low, high)."""
    w = np.array([m[0] for m in mix])
    comp = _choice(rng, w, n)
    mean = np.array([m[1] for m in mix])[comp]
    sd = np.array([m[2] for m in mix])[comp]
    lo = np.array([m[3] for m in mix])[comp]
    hi = np.array([m[4] for m in mix])[comp]
    return np.clip(np.round(rng.normal(mean, sd)), lo, hi).astype(np.int64)


def build(rng: np.random.Generator, n_people: int, ref: np.datetime64, seq: dict[str, list[int]]) -> Population:
    """A population of exactly ``n_people`` living in new homes; ``seq`` holds running counters."""
    props = build_properties(rng, int(n_people / 2.2) + 40, seq["uprn"])
    props = _with_tenure(rng, props)
    households = _households(rng, props, n_people)
    people = _people(rng, props, households, n_people, ref, seq)
    return Population(props, households, people)


def _with_tenure(rng: np.random.Generator, props: Table) -> Table:
    dw = props["dwelling"]
    social = np.where(dw == DWELLING_BLOCK, 0.24, np.where(dw == DWELLING_CONVERTED, 0.08, 0.05))
    private = np.where(dw == DWELLING_BLOCK, 0.33, np.where(dw == DWELLING_CONVERTED, 0.45, 0.14))
    r = rng.random(len(props))
    props["tenure"] = np.where(r < social, SOCIAL_RENT, np.where(r < social + private, PRIVATE_RENT, OWNER))
    props["occupied"] = rng.random(len(props)) >= 0.04
    return props


def _households(rng: np.random.Generator, props: Table, n_people: int) -> Table:
    homes = rng.permutation(np.flatnonzero(props["occupied"]))
    tenure = props["tenure"][homes]
    htype = _choice_rows(rng, TYPE_BY_TENURE[tenure])
    n = len(homes)
    kids = np.zeros(n, dtype=np.int64)
    with_kids = (htype == FAMILY) | (htype == LONE_PARENT)
    kids[with_kids] = 1 + _choice(rng, np.array([0.42, 0.40, 0.13, 0.05]), int(with_kids.sum()))
    adult_kids = np.where(htype == GROWN_UP, 1 + (rng.random(n) < 0.3), 0)
    teens = np.where((htype == GROWN_UP) & (rng.random(n) < 0.35), 1, 0)
    sharers = np.where(htype == SHARERS, rng.integers(2, 5, n), 0)
    lodger = ((htype == SINGLE) | (htype == COUPLE)) & (rng.random(n) < 0.03)
    partner = (htype == COUPLE) | (htype == FAMILY) | (htype == GROWN_UP)
    size = np.where(htype == SHARERS, sharers, 1 + partner + kids + adult_kids + teens + lodger)
    total = np.cumsum(size)
    if total[-1] < n_people:
        raise RuntimeError("not enough homes for the population; raise the dwelling estimate")
    keep = int(np.searchsorted(total, n_people)) + 1
    hh = Table({
        "property": homes[:keep], "type": htype[:keep], "partner": partner[:keep], "kids": kids[:keep],
        "adult_kids": adult_kids[:keep], "teens": teens[:keep], "sharers": sharers[:keep], "lodger": lodger[:keep],
        "size": size[:keep],
    })
    hh["borough"] = props["borough"][hh["property"]]
    hh["tenure"] = props["tenure"][hh["property"]]
    hh["origin"] = _choice_rows(rng, ORIGIN_BY_BOROUGH[hh["borough"]])
    # Years at this address: owners stay longest, private renters move most.
    mean_years = np.array([11.0, 3.0, 8.0])[hh["tenure"]]
    hh["years_here"] = rng.exponential(mean_years)
    # Set by planting: a single person discount's start, and its end when it ended early.
    hh["spd_since"] = np.full(len(hh), np.datetime64("NaT"), dtype="datetime64[D]")
    hh["spd_end"] = np.full(len(hh), np.datetime64("NaT"), dtype="datetime64[D]")
    return hh


def _people(rng: np.random.Generator, props: Table, hh: Table, n_people: int, ref: np.datetime64,
            seq: dict[str, list[int]]) -> Table:
    nh = len(hh)
    htype = hh["type"]
    # Head of household's age and sex by household type.
    head_age = np.zeros(nh, dtype=np.int64)
    mixes: dict[int, list[tuple[float, ...]]] = {
        SINGLE: [(0.38, 30, 6, 18, 45), (0.27, 53, 7, 40, 66), (0.35, 78, 8, 65, 99)],
        COUPLE: [(0.3, 31, 5, 20, 42), (0.35, 54, 7, 40, 66), (0.35, 74, 7, 64, 95)],
        FAMILY: [(1.0, 40, 7, 22, 60)],
        LONE_PARENT: [(1.0, 38, 8, 19, 58)],
        GROWN_UP: [(1.0, 55, 6, 42, 72)],
        SHARERS: [(1.0, 27, 5, 19, 45)],
    }
    for t, mix in mixes.items():
        m = htype == t
        head_age[m] = _ages(rng, mix, int(m.sum()))
    head_sex = np.where(rng.random(nh) < 0.5, "M", "F").astype(object)
    head_sex[(htype == SINGLE) & (head_age >= 70) & (rng.random(nh) < 0.4)] = "F"
    head_sex[htype == LONE_PARENT] = np.where(rng.random(int((htype == LONE_PARENT).sum())) < 0.88, "F", "M")
    married = hh["partner"] & (rng.random(nh) < 0.68)

    parts: list[dict[str, np.ndarray]] = []

    def add(hidx: np.ndarray, role: int, age: np.ndarray, sex: np.ndarray, rank: np.ndarray | None = None) -> None:
        parts.append({"household": hidx, "role": np.full(len(hidx), role), "age": age, "sex": sex,
                      "rank": rank if rank is not None else np.zeros(len(hidx), dtype=np.int64)})

    all_h = np.arange(nh)
    shar = hh["sharers"]
    # Sharers: the first sharer is the "head" (the one who signed the lease).
    add(all_h, HEAD, head_age, head_sex)
    p_idx = np.flatnonzero(hh["partner"])
    p_age = np.maximum(head_age[p_idx] + np.round(rng.normal(-1.5, 3.5, len(p_idx))).astype(np.int64), 18)
    same_sex = rng.random(len(p_idx)) < 0.04
    p_sex = np.where(same_sex, head_sex[p_idx], np.where(head_sex[p_idx] == "M", "F", "M")).astype(object)
    add(p_idx, PARTNER, p_age, p_sex)
    # Dependent children: ages fit the mother's (or the head's) age.
    k_h = np.repeat(all_h, hh["kids"])
    k_rank = _rank_within(k_h)
    parent_age = head_age[k_h]
    # A lone parent's children include some aged 18 or 19 still at home (the "rising 18s").
    oldest = np.where(htype[k_h] == LONE_PARENT, 19, 17)
    k_age = np.floor(rng.random(len(k_h)) * (np.minimum(oldest, parent_age - 18) + 1)).astype(np.int64)
    add(k_h, CHILD, k_age, np.where(rng.random(len(k_h)) < 0.51, "M", "F").astype(object), k_rank)
    a_h = np.repeat(all_h, hh["adult_kids"])
    top = np.minimum(34, head_age[a_h] - 18)
    a_age = 18 + np.floor(rng.random(len(a_h)) * (np.maximum(top - 18, 0) + 1)).astype(np.int64)
    add(a_h, ADULT_CHILD, a_age, np.where(rng.random(len(a_h)) < 0.55, "M", "F").astype(object), _rank_within(a_h))
    t_h = np.repeat(all_h, hh["teens"])
    add(t_h, CHILD, rng.integers(11, 18, len(t_h)), np.where(rng.random(len(t_h)) < 0.5, "M", "F").astype(object),
        _rank_within(t_h) + 10)
    s_h = np.repeat(all_h, np.maximum(shar - 1, 0))
    add(s_h, SHARER, _ages(rng, [(1.0, 27, 5, 19, 45)], len(s_h)),
        np.where(rng.random(len(s_h)) < 0.5, "M", "F").astype(object))
    l_h = np.flatnonzero(hh["lodger"])
    add(l_h, LODGER, _ages(rng, [(1.0, 35, 11, 19, 70)], len(l_h)),
        np.where(rng.random(len(l_h)) < 0.55, "M", "F").astype(object))

    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((cols["rank"], cols["role"], cols["household"]))
    cols = {k: v[order] for k, v in cols.items()}
    cols = {k: v[:n_people] for k, v in cols.items()}  # the last household may be cut short
    p = Table(cols)
    n = len(p)
    h = p["household"]
    role = p["role"]
    p["property"] = hh["property"][h]
    p["borough"] = hh["borough"][h]

    # Twins: a second child born the same day as the first.
    same_h_next = np.r_[h[1:] == h[:-1], False]
    twin = (role == CHILD) & np.r_[False, same_h_next[:-1]] & (np.r_[-1, role[:-1]] == CHILD) & (rng.random(n) < 0.03)
    adult_twin = (role == ADULT_CHILD) & (np.r_[-1, role[:-1]] == ADULT_CHILD) & np.r_[False, same_h_next[:-1]] & (
        rng.random(n) < 0.08)
    twin_of = np.full(n, -1, dtype=np.int64)
    tw = np.flatnonzero(twin | adult_twin)
    twin_of[tw] = tw - 1
    p["age"][tw] = p["age"][tw - 1]

    dob = (ref - days(p["age"] * 365 + rng.integers(0, 365, n)) - days(rng.integers(0, 2, n))).astype("datetime64[D]")
    # Keep the stated age exact: dob between ref - (age+1) years + 1 day and ref - age years.
    latest = add_years(np.full(n, ref), -p["age"])
    earliest = add_years(np.full(n, ref), -(p["age"] + 1)) + days(1)
    dob = np.clip(dob, earliest, latest).astype("datetime64[D]")
    dob[tw] = dob[tw - 1]
    p["dob"] = dob
    p["twin_of"] = twin_of
    p["joined"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")  # moved in after the household

    # Origin: the household's, except sharers, lodgers and some partners.
    origin = hh["origin"][h].copy()
    own = (role == SHARER) | (role == LODGER) | ((role == PARTNER) & (rng.random(n) < 0.15))
    origin[own] = _choice_rows(rng, ORIGIN_BY_BOROUGH[p["borough"][own]])
    p["origin"] = origin
    birth_year = year_of(dob)
    p["forenames"] = nm.sample_forenames(rng, origin, p["sex"], birth_year)
    mid = rng.random(n)
    has_middle = (mid < 0.55) & (origin != 2)
    middle = np.full(n, "", dtype=object)
    middle[has_middle] = nm.sample_forenames(rng, origin[has_middle], p["sex"][has_middle], birth_year[has_middle])
    second = has_middle & (mid < 0.08)
    middle[second] = middle[second] + " " + nm.sample_forenames(rng, origin[second], p["sex"][second], birth_year[second])
    middle[middle == p["forenames"]] = ""
    p["middle_names"] = middle
    # A few fathers gave their eldest son their own names.
    head_of = _first_index(h)
    father_named = (role == ADULT_CHILD) & (p["sex"] == "M") & (p["sex"][head_of[h]] == "M") & (rng.random(n) < 0.3)
    father_named &= twin_of < 0
    p["forenames"][father_named] = p["forenames"][head_of[h][father_named]]
    p["middle_names"][father_named] = p["middle_names"][head_of[h][father_named]]
    p["named_after"] = np.where(father_named, head_of[h], -1)

    _surnames(rng, p, hh, married, head_of, props["street_id"])
    age_now = p["age"]
    p["married"] = married[h] & ((role == HEAD) | (role == PARTNER))
    p["title"] = nm.title_for(p["sex"], age_now, p["married"], rng)

    head18 = add_years(p["dob"][head_of[np.arange(len(hh))]], 18)
    move_in = (ref - days(np.round(hh["years_here"] * 365).astype(np.int64) + 14)).astype("datetime64[D]")
    hh["move_in"] = np.maximum(move_in, head18).astype("datetime64[D]")
    first_person = seq["person"][0]
    seq["person"][0] += n
    p["person_seq"] = first_person + np.arange(n, dtype=np.int64)
    p["ni_number"] = ni_numbers(rng, p["person_seq"])
    p["ni_number"][age_now < 16] = ""
    _contacts(rng, p)
    return p


def _rank_within(group: np.ndarray) -> np.ndarray:
    """0, 1, 2... within runs of equal values of a sorted array."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
    first = np.repeat(start, np.diff(np.r_[start, len(group)]))
    return np.arange(len(group)) - first


def _first_index(group: np.ndarray) -> np.ndarray:
    """For each group value in a sorted array, the index of its first row (indexed by value)."""
    out = np.full(int(group.max()) + 1 if len(group) else 0, -1, dtype=np.int64)
    start = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
    out[group[start]] = start
    return out


def _surnames(rng: np.random.Generator, p: Table, hh: Table, married: np.ndarray, head_of: np.ndarray,
              street: np.ndarray) -> None:
    n = len(p)
    h = p["household"]
    role = p["role"]
    own = nm.sample_surnames(rng, p["origin"])  # each person's birth surname
    head_idx = head_of[h]
    # Relatives often live on the same street: some heads share a neighbour's family name.
    by_property = {int(prop): i for i, prop in enumerate(hh["property"])}
    for hidx in np.flatnonzero(rng.random(len(hh)) < 0.06):
        prop = int(hh["property"][hidx])
        for other in (prop - 1, prop + 1, prop - 2, prop + 2):
            j = by_property.get(other)
            if j is not None and street[other] == street[prop]:
                own[head_of[hidx]] = own[head_of[j]]
                break
    partner_idx = np.full(len(hh), -1, dtype=np.int64)
    pi = np.flatnonzero(role == PARTNER)
    partner_idx[h[pi]] = pi
    # The family surname: the husband's (or the head's) birth surname.
    fam = own[head_idx].copy()
    hp = partner_idx[h]
    wife_is_head = (hp >= 0) & (p["sex"][head_idx] == "F") & (p["sex"][np.maximum(hp, 0)] == "M") & married[h]
    fam[wife_is_head] = own[hp[wife_is_head]]
    surname = own.copy()
    former = np.full(n, "", dtype=object)
    in_family = (role == HEAD) | (role == PARTNER) | (role == CHILD) | (role == ADULT_CHILD)
    is_spouse = ((role == HEAD) | (role == PARTNER)) & married[h]
    takes = is_spouse & (p["sex"] == "F") & (rng.random(n) < 0.9) & (own != fam)
    surname[takes] = fam[takes]
    former[takes] = own[takes]
    husband = is_spouse & (p["sex"] == "M")
    surname[husband] = fam[husband]
    children = (role == CHILD) | (role == ADULT_CHILD)
    # Children take the family surname; a lone mother's children often their father's.
    lone = hh["type"][h] == LONE_PARENT
    fathers = nm.sample_surnames(rng, p["origin"])
    child_surname = np.where(lone & (rng.random(n) < 0.4), fathers, np.where(married[h], fam, surname[head_idx]))
    surname[children & in_family] = child_surname[children & in_family]
    p["surname"] = surname
    p["former_surname"] = former


def ni_numbers(rng: np.random.Generator, person_seq: np.ndarray) -> np.ndarray:
    """Valid-format NI numbers, unique per person: a fixed permutation of the sequence number."""
    first = [c for c in "ABCEGHJKLMNOPRSTWXYZ"]
    second = [c for c in "ABCEGHJKLMNPRSTWXYZ"]
    prefixes = [a + b for a in first for b in second if a + b not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")]
    space = len(prefixes) * 1_000_000
    mult = 7_919_393  # coprime with the space, so the map is one-to-one
    code = (person_seq.astype(np.int64) * mult + 12_345_679) % space
    pre = np.asarray(prefixes, dtype=object)[code // 1_000_000]
    digits = code % 1_000_000
    suffix = np.array(list("ABCD"), dtype=object)[rng.integers(0, 4, len(person_seq))]
    return np.array([f"{a}{d:06d}{s}" for a, d, s in zip(pre, digits, suffix, strict=True)], dtype=object)


def _contacts(rng: np.random.Generator, p: Table) -> None:
    n = len(p)
    adult = p["age"] >= 16
    fn = [_ascii(f).lower() for f in p["forenames"]]
    sn = [_ascii(s).lower() for s in p["surname"]]
    domain = EMAIL_DOMAINS[_choice(rng, EMAIL_DOMAIN_W, n)]
    style = rng.integers(0, 5, n)
    num = rng.integers(1, 99, n)
    yy = year_of(p["dob"]) % 100
    emails = []
    for i in range(n):
        f, s = fn[i], sn[i]
        st = style[i]
        local = (f"{f}.{s}" if st == 0 else f"{f[:1]}{s}" if st == 1 else f"{f}{s}{num[i]}" if st == 2
                 else f"{f}.{s}{yy[i]:02d}" if st == 3 else f"{s}.{f}")
        emails.append(f"{local}@{domain[i]}")
    email = np.asarray(emails, dtype=object)
    email[~adult | (rng.random(n) < 0.25)] = ""
    p["email"] = email
    mobile = np.array([f"07{d:09d}" for d in rng.integers(100_000_000, 999_999_999, n)], dtype=object)
    landline_area = np.where(p["borough"] == 2, np.where(rng.random(n) < 0.5, "01753", "01628"), "0208")
    landline = np.array([f"{a}{d:06d}" if a != "0208" else f"0208{d:07d}" for a, d in
                         zip(landline_area, rng.integers(100_000, 999_999, n), strict=True)], dtype=object)
    phone = np.where(rng.random(n) < 0.8, mobile, landline).astype(object)
    phone[~adult | (rng.random(n) < 0.12)] = ""
    p["phone"] = phone
    sort = SORT_CODE_PREFIXES[rng.integers(0, len(SORT_CODE_PREFIXES), n)]
    p["sort_code"] = np.array([f"{s}{d:02d}" for s, d in zip(sort, rng.integers(0, 100, n), strict=True)], dtype=object)
    p["account_number"] = np.array([f"{d:08d}" for d in rng.integers(0, 100_000_000, n)], dtype=object)
    # Many couples share a joint account.
    partner = np.flatnonzero((p["role"] == PARTNER) & (rng.random(n) < 0.4))
    head = _first_index(p["household"])[p["household"][partner]]
    p["sort_code"][partner] = p["sort_code"][head]
    p["account_number"][partner] = p["account_number"][head]
    p["sort_code"][p["age"] < 16] = ""
    p["account_number"][p["age"] < 16] = ""


def _ascii(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalnum() and c.isascii())


def borough_of(index: np.ndarray) -> np.ndarray:
    return np.asarray(BOROUGHS, dtype=object)[index]


def new_people(rng: np.random.Generator, like: Table, ref: np.datetime64, seq: dict[str, list[int]], *,
               household: np.ndarray, property: np.ndarray, borough: np.ndarray, role: int, sex: np.ndarray,
               age: np.ndarray, origin: np.ndarray, joined: np.ndarray) -> Table:
    """People added to existing households (a partner moving in), with every column ``like`` has."""
    n = len(household)
    latest = add_years(np.full(n, ref), -age)
    dob = (latest - days(rng.integers(0, 360, n))).astype("datetime64[D]")
    t = Table(n=n)
    t["household"] = household
    t["role"] = np.full(n, role)
    t["age"] = age
    t["sex"] = sex
    t["rank"] = np.zeros(n, dtype=np.int64)
    t["property"] = property
    t["borough"] = borough
    t["dob"] = dob
    t["twin_of"] = np.full(n, -1, dtype=np.int64)
    t["joined"] = joined.astype("datetime64[D]")
    t["origin"] = origin
    t["forenames"] = nm.sample_forenames(rng, origin, sex, year_of(dob))
    t["middle_names"] = np.where(rng.random(n) < 0.5, nm.sample_forenames(rng, origin, sex, year_of(dob)), "").astype(object)
    t["named_after"] = np.full(n, -1, dtype=np.int64)
    t["surname"] = nm.sample_surnames(rng, origin)
    t["former_surname"] = np.full(n, "", dtype=object)
    t["married"] = np.zeros(n, dtype=bool)
    t["title"] = nm.title_for(sex, age, t["married"], rng)
    t["person_seq"] = seq["person"][0] + np.arange(n, dtype=np.int64)
    seq["person"][0] += n
    t["ni_number"] = ni_numbers(rng, t["person_seq"])
    _contacts(rng, t)
    for name in like.names:
        if name not in t:
            col = like[name]
            t[name] = np.full(n, np.datetime64("NaT"), dtype=col.dtype) if np.issubdtype(col.dtype, np.datetime64) else (
                np.full(n, "", dtype=object) if col.dtype == object else np.zeros(n, dtype=col.dtype))
    return Table({k: t[k] for k in like.names}, n=n)


def unique_emails(people: Table) -> None:
    """One mailbox per address. The name-based styles give namesakes the same address
    ('apatel@gmail.com' for every A Patel), but a provider refuses an address already taken:
    its later holders (in the order of the people table) get the next free number after the
    local part, as 'apatel2@gmail.com'. No random draws, so the rest of the exercise is unchanged."""
    email = people["email"]
    taken: set[str] = set()
    later: list[int] = []
    for i, address in enumerate(email):
        if address:
            if address in taken:
                later.append(i)
            else:
                taken.add(address)
    for i in later:
        local, domain = str(email[i]).split("@", 1)
        n = 2
        while f"{local}{n}@{domain}" in taken:
            n += 1
        email[i] = f"{local}{n}@{domain}"
        taken.add(email[i])


def rebuild_email(rng: np.random.Generator, people: Table, idx: np.ndarray) -> None:
    """A new email address (same provider) for people whose names were changed."""
    for i in idx:
        old = people["email"][i]
        if old:
            f, s = _ascii(people["forenames"][i]).lower(), _ascii(people["surname"][i]).lower()
            people["email"][i] = f"{f}.{s}{int(rng.integers(1, 99))}@{old.split('@')[1]}"
