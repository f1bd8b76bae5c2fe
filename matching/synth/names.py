"""British name frequencies: forenames by sex and birth era, surnames by origin, nicknames.

The tables in ``data/forenames.csv`` and ``data/surnames.csv`` are curated: the most
common British forenames of each birth era in rank order (from the published lists of
births in England and Wales) with weights per 100,000 births that fall with rank, a long
tail of less common British forenames, and the common forenames and surnames of the
communities that live in the three boroughs (South Asian, Korean and Chinese, Polish and
Romanian, southern European, West African and Caribbean). Surnames beyond the curated
British list come from a long tail of rare English place-name surnames built here, so
common surnames are common and rare ones rare.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).with_name("data")

ORIGINS = ("british", "south_asian", "east_asian", "eastern_european", "other_european", "african_caribbean")
# First birth year of each era in forenames.csv.
ERA_STARTS = np.array([1900, 1940, 1960, 1980, 2000, 2010])
ERA_LABELS = ("1920", "1940", "1960", "1980", "2000", "2010")

# Rare surnames: English place-name surnames built from these parts, each rare.
_RARE_HEADS = (
    "Ash Alder Bar Brad Bram Brook Bur Cal Chad Chal Clay Crom Dal Dun Ed Elm Fair Farn Fen Gold "
    "Good Hal Harl Hat Hay Hol Kel Ken Kings Lang Lock Marl Mid Mor New North Oak Old Pen Red Rod "
    "Row Rush Sel Shel South Stan Stock Sum Thorn Tre Wake Wal West Whit Wick Win Wood Yar Brom "
    "Cran Dar Ever Fal Glen Hurl Lyn Mel Nor Pil Quen Rams Saf Tam Up Ver War Wes Ather Black"
).split()
_RARE_TAILS = (
    "bury by combe croft den field ford gate ham hurst ington ley low more ridge stead stone thorpe "
    "ton well wick wood worth brook dale holme marsh shaw stock cott"
).split()
RARE_SURNAME_SHARE = 0.55  # of British surnames, per 100,000, beyond the curated list


@dataclass(frozen=True)
class NameTable:
    """Names with cumulative probabilities for fast sampling."""

    names: np.ndarray
    cum: np.ndarray

    @classmethod
    def of(cls, names: list[str], weights: list[float]) -> NameTable:
        w = np.asarray(weights, dtype=float)
        cum = np.cumsum(w / w.sum())
        cum[-1] = 1.0
        return cls(np.asarray(names, dtype=object), cum)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.names[np.searchsorted(self.cum, rng.random(n), side="right").clip(0, len(self.names) - 1)]


_RARE_LINKS = ("", "s")


def _rare_surnames() -> list[str]:
    names = sorted({h + link + t for h in _RARE_HEADS for link in _RARE_LINKS for t in _RARE_TAILS if not (link == "s" and h.endswith("s"))})
    order = np.random.default_rng(7).permutation(len(names))  # fixed: rank is not alphabetical
    return [names[i] for i in order]


@lru_cache(maxsize=1)
def tables() -> tuple[dict[tuple[str, str, str], NameTable], dict[str, NameTable]]:
    """(forenames by (origin, sex, era), surnames by origin)."""
    rows: dict[tuple[str, str, str], tuple[list[str], list[float]]] = {}
    tail: dict[tuple[str, str], tuple[list[str], list[float]]] = {}
    with (DATA / "forenames.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["era"] == "*":
                names, weights = tail.setdefault((r["origin"], r["sex"]), ([], []))
            else:
                names, weights = rows.setdefault((r["origin"], r["sex"], r["era"]), ([], []))
            names.append(r["name"])
            weights.append(float(r["per_100k"]))
    forenames: dict[tuple[str, str, str], NameTable] = {}
    for origin in ORIGINS:
        for sex in ("M", "F"):
            extra = tail.get((origin, sex), ([], []))
            for era in ERA_LABELS:
                names, weights = rows.get((origin, sex, era), ([], []))
                # The era's listed names hold their weight per 100,000; the tail shares the rest.
                rest = max(100_000 - sum(weights), 0.0) if weights else 100_000.0
                scale = rest / sum(extra[1]) if extra[1] else 0.0
                forenames[(origin, sex, era)] = NameTable.of(names + extra[0], weights + [w * scale for w in extra[1]])
    by_origin: dict[str, tuple[list[str], list[float]]] = {}
    with (DATA / "surnames.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            names, weights = by_origin.setdefault(r["origin"], ([], []))
            names.append(r["name"])
            weights.append(float(r["per_100k"]))
    surnames = {}
    for origin, (names, weights) in by_origin.items():
        if origin == "british":
            rare = [n for n in _rare_surnames() if n not in set(names)]
            rank = np.arange(1, len(rare) + 1)
            rare_w = (rank + 200.0) ** -1.0
            rare_w = rare_w / rare_w.sum() * RARE_SURNAME_SHARE * 100_000
            names = names + rare
            weights = weights + list(rare_w)
        surnames[origin] = NameTable.of(names, weights)
    return forenames, surnames


def era_index(birth_year: np.ndarray) -> np.ndarray:
    return (np.searchsorted(ERA_STARTS, birth_year, side="right") - 1).clip(0, len(ERA_STARTS) - 1)


def sample_forenames(
    rng: np.random.Generator, origin: np.ndarray, sex: np.ndarray, birth_year: np.ndarray
) -> np.ndarray:
    """One forename per person, by origin, sex ("M"/"F") and birth era.

    Children born since 1990 into families of other origins are often given names popular
    in Britain at the time: 40% here.
    """
    forenames, _ = tables()
    n = len(origin)
    out = np.empty(n, dtype=object)
    origin = np.asarray(origin).copy()
    second_generation = (origin != 0) & (birth_year >= 1990) & (rng.random(n) < 0.4)
    origin[second_generation] = 0
    era = era_index(birth_year)
    for o, oname in enumerate(ORIGINS):
        for sx in ("M", "F"):
            for e, elabel in enumerate(ERA_LABELS):
                mask = (origin == o) & (sex == sx) & (era == e)
                k = int(mask.sum())
                if k:
                    out[mask] = forenames[(oname, sx, elabel)].sample(rng, k)
    return out


def sample_surnames(rng: np.random.Generator, origin: np.ndarray) -> np.ndarray:
    _, surnames = tables()
    out = np.empty(len(origin), dtype=object)
    for o, oname in enumerate(ORIGINS):
        mask = origin == o
        k = int(mask.sum())
        if k:
            out[mask] = surnames[oname].sample(rng, k)
    return out


# British nicknames and short forms as people give them on forms (formal -> informal).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy"), "Robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "Richard": ("Rick", "Rich", "Dick", "Richie"), "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jack", "Johnny"), "Thomas": ("Tom", "Tommy"), "Michael": ("Mike", "Mick", "Mickey"),
    "David": ("Dave", "Davy"), "Christopher": ("Chris",), "Stephen": ("Steve",), "Steven": ("Steve",),
    "Anthony": ("Tony",), "Andrew": ("Andy", "Drew"), "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",),
    "Joseph": ("Joe", "Joey"), "Benjamin": ("Ben",), "Samuel": ("Sam", "Sammy"), "Alexander": ("Alex", "Sandy"),
    "Edward": ("Ed", "Eddie", "Ted", "Ned"), "Frederick": ("Fred", "Freddie"), "Henry": ("Harry", "Hal"),
    "Charles": ("Charlie", "Chas"), "Peter": ("Pete",), "Nicholas": ("Nick", "Nicky"), "Jonathan": ("Jon", "Jonny"),
    "Timothy": ("Tim",), "Kenneth": ("Ken", "Kenny"), "Ronald": ("Ron", "Ronnie"), "Donald": ("Don",),
    "Leonard": ("Len", "Lenny"), "Gerald": ("Gerry",), "Terence": ("Terry",), "Lawrence": ("Laurie", "Larry"),
    "Albert": ("Bert", "Albie"), "Alfred": ("Alf", "Alfie"), "Patrick": ("Pat", "Paddy"), "Philip": ("Phil",),
    "Raymond": ("Ray",), "Douglas": ("Doug",), "Gregory": ("Greg",), "Joshua": ("Josh",), "Oliver": ("Ollie",),
    "Theodore": ("Theo", "Ted"), "Zachary": ("Zac",), "Reginald": ("Reg", "Reggie"), "Leslie": ("Les",),
    "Stanley": ("Stan",), "Sidney": ("Sid",), "Herbert": ("Herb", "Bert"), "Walter": ("Wally",),
    "Harold": ("Harry",), "Nathan": ("Nate",), "Jacob": ("Jake",), "Cameron": ("Cam",), "Frank": ("Frankie",),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty", "Eliza"), "Margaret": ("Maggie", "Peggy", "Meg"),
    "Catherine": ("Kate", "Cathy", "Katie", "Cath"), "Katherine": ("Kate", "Kathy", "Katie"),
    "Jennifer": ("Jenny", "Jen"), "Susan": ("Sue", "Susie"), "Patricia": ("Pat", "Trish"), "Deborah": ("Debbie", "Deb"),
    "Rebecca": ("Becky", "Becca"), "Victoria": ("Vicky", "Tori"), "Samantha": ("Sam", "Sammy"),
    "Alexandra": ("Alex", "Sandra"), "Christine": ("Chris", "Chrissie"), "Jacqueline": ("Jackie",),
    "Dorothy": ("Dot", "Dolly"), "Josephine": ("Jo", "Josie"), "Joanne": ("Jo",), "Joanna": ("Jo",),
    "Abigail": ("Abbie", "Abby"), "Charlotte": ("Lottie", "Charlie"), "Eleanor": ("Ellie", "Nell"),
    "Isabella": ("Izzy", "Bella"), "Isabelle": ("Izzy",), "Amanda": ("Mandy",), "Pamela": ("Pam",),
    "Sandra": ("Sandy",), "Gillian": ("Gill", "Jill"), "Kathleen": ("Kath", "Kathy"), "Nicola": ("Nicky", "Nikki"),
    "Stephanie": ("Steph",), "Jessica": ("Jess",), "Natalie": ("Nat",), "Frances": ("Fran",), "Angela": ("Angie",),
    "Valerie": ("Val",), "Caroline": ("Carrie",), "Harriet": ("Hattie",), "Matilda": ("Tilly",),
    "Florence": ("Flo", "Florrie"), "Olivia": ("Liv",), "Emily": ("Em", "Emmy"), "Theresa": ("Tess",),
    "Penelope": ("Penny",), "Beverley": ("Bev",), "Winifred": ("Winnie",), "Irene": ("Rene",),
    "Gwendolen": ("Gwen",), "Philippa": ("Pippa",), "Annabel": ("Bella",), "Georgina": ("Georgie",),
}


def nickname_for(forename: str, rng: np.random.Generator) -> str | None:
    """An informal form of ``forename``, or None when it has none."""
    options = NICKNAMES.get(forename)
    if not options:
        return None
    return options[int(rng.integers(len(options)))]


def title_for(sex: np.ndarray, age: np.ndarray, married: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Titles as people choose them: Mr; Mrs, Ms or Miss; a few Dr, Rev and Mx."""
    n = len(sex)
    r = rng.random(n)
    out = np.where(sex == "M", "Mr", np.where(married, np.where(r < 0.8, "Mrs", "Ms"), np.where(r < 0.6, "Miss", "Ms")))
    out = out.astype(object)
    out[(age < 18) & (sex == "M")] = "Master"
    out[(age < 18) & (sex == "F")] = "Miss"
    r2 = rng.random(n)
    adult = age >= 26
    out[adult & (r2 < 0.012)] = "Dr"
    out[adult & (r2 >= 0.012) & (r2 < 0.0135)] = "Rev"
    out[(age >= 18) & (r2 >= 0.0135) & (r2 < 0.015)] = "Mx"
    return out
