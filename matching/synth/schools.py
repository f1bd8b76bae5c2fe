"""Schools and colleges of each borough, and the children's records: pupils, post-16 learners,
school admissions and free school meals.

The register of schools is fixed (the same in every exercise): names, URNs and DfE numbers
(LAESTAB: the local authority number, 314 Kingston, 318 Richmond, 868 Windsor and
Maidenhead, and a four-digit establishment number).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from matching.synth.addresses import BOROUGHS, STREET_STEMS
from matching.synth.table import Table, add_years, date, uniform_dates

LA_CODES = (314, 318, 868)
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
PRIMARY, SECONDARY, COLLEGE = 0, 1, 2
SAINTS = ("Mary's", "John's", "Paul's", "Peter's", "Agatha's", "Andrew's", "Luke's", "Matthew's", "Joseph's", "Edmund's")
COLLEGES = (
    ("Kingston College", "Hollyfield Sixth Form", "Chessington Community College Sixth Form"),
    ("Richmond upon Thames College", "Richmond Sixth Form", "Waldegrave Sixth Form"),
    ("Windsor Forest Colleges Group", "Newlands Sixth Form", "Cox Green Sixth Form"),
)


@dataclass(frozen=True)
class School:
    borough: int
    name: str
    urn: str
    laestab: str
    phase: int


@lru_cache(maxsize=1)
def register() -> tuple[School, ...]:
    rng = np.random.default_rng(31)  # fixed: the schools are the same in every exercise
    out: list[School] = []
    urn = 102_000
    for b in range(len(BOROUGHS)):
        used: set[str] = set()
        for phase, count in ((PRIMARY, 30), (SECONDARY, 8)):
            while sum(1 for s in out if s.borough == b and s.phase == phase) < count:
                stem = STREET_STEMS[int(rng.integers(len(STREET_STEMS)))]
                r = rng.random()
                if phase == PRIMARY:
                    name = (f"St {SAINTS[int(rng.integers(len(SAINTS)))]} Church of England Primary School" if r < 0.2
                            else f"St {SAINTS[int(rng.integers(len(SAINTS)))]} Catholic Primary School" if r < 0.3
                            else f"{stem} Infant School" if r < 0.4 else f"{stem} Primary School")
                else:
                    name = f"{stem} Academy" if r < 0.4 else f"{stem} School" if r < 0.8 else f"{stem} High School"
                if name in used:
                    continue
                used.add(name)
                urn += int(rng.integers(3, 400))
                estab = (2000 if phase == PRIMARY else 4000) + int(rng.integers(0, 999))
                out.append(School(b, name, str(urn), f"{LA_CODES[b]}{estab}", phase))
        for name in COLLEGES[b]:
            urn += int(rng.integers(3, 400))
            out.append(School(b, name, str(urn), f"{LA_CODES[b]}{8000 + int(rng.integers(0, 999))}", COLLEGE))
    return tuple(out)


@cache
def schools_of(borough: int, phase: int) -> list[School]:
    return [s for s in register() if s.borough == borough and s.phase == phase]


def upns(rng: np.random.Generator, person_seq: np.ndarray, entry_year: np.ndarray, home_la: np.ndarray) -> np.ndarray:
    """Unique pupil numbers: check letter, LA, establishment, year, serial (13 characters).

    The LA, establishment and serial are a one-to-one map of the person's sequence number,
    so UPNs never repeat; the check letter follows the DfE's modulus 23 rule.
    """
    space = 6000 * 1000
    code = (person_seq.astype(np.int64) * 1_299_709 + 7_777) % space
    estab = 2000 + code // 1000
    serial = code % 1000
    out = []
    for la, e, yy, s in zip(home_la, estab, np.asarray(entry_year) % 100, serial, strict=True):
        digits = f"{la:03d}{e:04d}{yy:02d}{s:03d}"
        total = sum(int(c) * w for c, w in zip(digits, range(2, 14), strict=True))
        out.append(UPN_LETTERS[total % 23] + digits)
    return np.asarray(out, dtype=object)


def ulns(person_seq: np.ndarray) -> np.ndarray:
    """Unique learner numbers (10 digits), one-to-one with the person."""
    code = (person_seq.astype(np.int64) * 48_271 + 1_000_003) % 8_999_999_999 + 1_000_000_000
    return np.asarray([str(c) for c in code], dtype=object)


def school_year_age(dob: np.ndarray, year: int) -> np.ndarray:
    """Age on 31 August of ``year``: 4 in Reception, 11 in Year 7."""
    from matching.synth.table import age_on

    return age_on(dob, np.datetime64(f"{year}-08-31"))


def year_group(age_aug31: np.ndarray) -> np.ndarray:
    groups = np.array(["N2", "R", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13"], dtype=object)
    return groups[np.clip(age_aug31 - 3, 0, len(groups) - 1)]


def term_start(year: int) -> np.datetime64:
    """The first day of the autumn term (the first Wednesday of September, near enough)."""
    d = date(f"{year}-09-01")
    weekday = (d.astype("datetime64[D]").astype(np.int64) + 3) % 7  # Monday = 0
    return d + np.timedelta64(int((2 - weekday) % 7), "D")


def entry_dates(dob: np.ndarray, age_at_entry: int) -> np.ndarray:
    """The September the child started a phase (Reception at 4, Year 7 at 11)."""
    start_year = (add_years(dob, age_at_entry).astype("datetime64[Y]").astype(np.int64) + 1970)
    born_after_aug = (dob.astype("datetime64[M]").astype(np.int64) % 12) >= 8
    start_year = start_year + np.where(born_after_aug, 1, 0)
    return np.asarray([term_start(int(y)) for y in start_year], dtype="datetime64[D]")


def random_dates(rng: np.random.Generator, low: str, high: str, n: int) -> np.ndarray:
    return uniform_dates(rng, date(low), date(high), n)


def pick(rng: np.random.Generator, options: list[School], n: int) -> list[School]:
    return [options[i] for i in rng.integers(0, len(options), n)]


def as_table(chosen: list[School]) -> Table:
    return Table({
        "school": np.asarray([s.name for s in chosen], dtype=object),
        "school_urn": np.asarray([s.urn for s in chosen], dtype=object),
        "school_laestab": np.asarray([s.laestab for s in chosen], dtype=object),
        "school_borough": np.asarray([s.borough for s in chosen], dtype=np.int64),
    }, n=len(chosen))
