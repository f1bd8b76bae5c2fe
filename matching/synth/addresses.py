"""UK-style properties in the three boroughs: streets, houses, flats, postcodes and UPRNs.

Each street lies in one post town (with its real outward codes: KT1, KT2... for Kingston,
TW1... SW14 for Richmond, SL3... SL6 for Windsor and Maidenhead) and is split into
postcode units of about fifteen addresses. Streets hold numbered houses, some converted
into flats (Flat A, Flat B), and purpose-built blocks ("Flat 12, Marlow Court"), so several
dwellings share a building, a street number and a postcode. Business premises (industrial
units, shops, offices) and suppliers' addresses elsewhere in England are made for creditors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.synth.table import Table

BOROUGHS = ("kingston", "richmond", "windsor-maidenhead")
BOROUGH_NAMES = {
    "kingston": "Royal Borough of Kingston upon Thames",
    "richmond": "London Borough of Richmond upon Thames",
    "windsor-maidenhead": "Royal Borough of Windsor and Maidenhead",
}
BOROUGH_WEIGHTS = np.array([0.33, 0.38, 0.29])
# First UPRN of each borough's range, and of the range used for addresses outside them.
UPRN_BASE = (128_000_000_000, 100_022_000_000, 100_080_000_000)
UPRN_BASE_ELSEWHERE = 200_001_000_000

INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))


@dataclass(frozen=True)
class Place:
    borough: int
    town: str  # post town, as Royal Mail writes it
    locality: str
    outward: tuple[str, ...]
    county: str
    weight: float


PLACES: tuple[Place, ...] = (
    Place(0, "Kingston upon Thames", "", ("KT1", "KT2"), "Surrey", 0.34),
    Place(0, "Kingston upon Thames", "Norbiton", ("KT1", "KT2"), "Surrey", 0.06),
    Place(0, "Surbiton", "", ("KT5", "KT6"), "Surrey", 0.22),
    Place(0, "Surbiton", "Tolworth", ("KT5", "KT6"), "Surrey", 0.08),
    Place(0, "New Malden", "", ("KT3",), "Surrey", 0.18),
    Place(0, "Chessington", "", ("KT9",), "Surrey", 0.12),
    Place(1, "Richmond", "", ("TW9", "TW10"), "Surrey", 0.18),
    Place(1, "Richmond", "Kew", ("TW9",), "Surrey", 0.05),
    Place(1, "Richmond", "Ham", ("TW10",), "Surrey", 0.04),
    Place(1, "Twickenham", "", ("TW1", "TW2"), "Middlesex", 0.22),
    Place(1, "Twickenham", "Whitton", ("TW2",), "Middlesex", 0.08),
    Place(1, "Teddington", "", ("TW11",), "Middlesex", 0.12),
    Place(1, "Hampton", "", ("TW12",), "Middlesex", 0.10),
    Place(1, "Hampton", "Hampton Hill", ("TW12",), "Middlesex", 0.04),
    Place(1, "London", "Barnes", ("SW13",), "", 0.09),
    Place(1, "London", "East Sheen", ("SW14",), "", 0.08),
    Place(2, "Windsor", "", ("SL4",), "Berkshire", 0.28),
    Place(2, "Windsor", "Eton", ("SL4",), "Berkshire", 0.04),
    Place(2, "Maidenhead", "", ("SL6",), "Berkshire", 0.38),
    Place(2, "Maidenhead", "Cookham", ("SL6",), "Berkshire", 0.06),
    Place(2, "Ascot", "", ("SL5",), "Berkshire", 0.10),
    Place(2, "Ascot", "Sunninghill", ("SL5",), "Berkshire", 0.06),
    Place(2, "Slough", "Datchet", ("SL3",), "Berkshire", 0.08),
)
# Suppliers' addresses outside the boroughs: (post town, outward codes, county).
ELSEWHERE = (
    ("London", ("EC1V", "EC2A", "SE1", "N1", "W1T"), ""),
    ("Reading", ("RG1", "RG2"), "Berkshire"),
    ("Guildford", ("GU1", "GU2"), "Surrey"),
    ("Slough", ("SL1", "SL2"), "Berkshire"),
    ("Croydon", ("CR0",), "Surrey"),
    ("Woking", ("GU21", "GU22"), "Surrey"),
    ("Birmingham", ("B1", "B3"), "West Midlands"),
    ("Manchester", ("M1", "M4"), ""),
    ("Bristol", ("BS1", "BS2"), ""),
    ("Leeds", ("LS1", "LS11"), "West Yorkshire"),
    ("Milton Keynes", ("MK9",), "Buckinghamshire"),
)

STREET_STEMS = (
    "Acacia Albany Albert Alexandra Alma Arundel Ashdown Balmoral Beech Belmont Berkeley Birch "
    "Blenheim Bridge Brook Burlington Cambridge Canbury Castle Cedar Chestnut Church Clarence "
    "Claremont Coombe Cranbrook Cromwell Denmark Derby Devonshire Dukes Elm Fairfield Grange "
    "Grosvenor Hampton Hawthorn Heath High Highfield Hill Hollybush Kings Lancaster Laurel Lime "
    "London Manor Maple Market Meadow Mill Milton Mount Nelson Newton Oak Orchard Park Portland "
    "Princes Queens Riverside Rose Station Stanley Victoria Warren Water Wellington Windsor "
    "Woodlands York Palace Cottage Villiers Penrhyn Ewell Hook Lovelace Ditton Beaufort "
    "Kingsway Copse Fern Holly Ivy Juniper Linden Poplar Rowan Sycamore Willow Yew Thames Mortlake "
    "Sheen Petersham Sandy Common Forest Broad Green Marsh Ferry Wharf Lock Weir Ray Furze "
    "Boyn Cookham Bath Gloucester Oxford Clarendon Trinity Sutherland Percy Spencer Howard"
).split()
SAINT_STEMS = ("St Marks", "St Johns", "St Peters", "St Leonards", "St Albans", "St Margarets")
STREET_TYPES = np.array(
    ["Road", "Avenue", "Close", "Gardens", "Lane", "Street", "Way", "Drive", "Crescent", "Place",
     "Grove", "Terrace", "Rise", "Mews", "Walk", "Hill", "Park"]
)
STREET_TYPE_WEIGHTS = np.array([40, 12, 10, 7, 7, 6, 5, 5, 3, 2, 2, 1, 1, 1, 1, 0.5, 0.5])
BLOCK_TYPES = ("Court", "House", "Lodge", "Mansions", "Heights", "Point", "Place", "Apartments")
CONVERTED_FLATS = (("Flat A", "Flat B"), ("Flat A", "Flat B", "Flat C"), ("Ground Floor Flat", "First Floor Flat"),
                   ("Flat 1", "Flat 2", "Flat 3"), ("Basement Flat", "Ground Floor Flat", "Top Floor Flat"))

DWELLING_HOUSE, DWELLING_CONVERTED, DWELLING_BLOCK, PREMISES = 0, 1, 2, 3


def _postcode(rng: np.random.Generator, outward: str) -> str:
    letters = INWARD_LETTERS[rng.integers(0, len(INWARD_LETTERS), 2)]
    return f"{outward} {int(rng.integers(0, 10))}{letters[0]}{letters[1]}"


def _street_name(rng: np.random.Generator) -> str:
    if rng.random() < 0.04:
        stem = SAINT_STEMS[int(rng.integers(len(SAINT_STEMS)))]
    else:
        stem = STREET_STEMS[int(rng.integers(len(STREET_STEMS)))]
    kind = STREET_TYPES[np.searchsorted(np.cumsum(STREET_TYPE_WEIGHTS / STREET_TYPE_WEIGHTS.sum()), rng.random())]
    return f"{stem} {kind}"


def build_properties(rng: np.random.Generator, dwellings: int, first_uprn_seq: list[int]) -> Table:
    """At least ``dwellings`` homes on new streets across the three boroughs.

    ``first_uprn_seq`` holds the next UPRN sequence number per borough and is advanced, so
    UPRNs stay unique across chunks.
    """
    place_w = np.array([p.weight * BOROUGH_WEIGHTS[p.borough] for p in PLACES])
    place_cum = np.cumsum(place_w / place_w.sum())
    cols: dict[str, list] = {k: [] for k in ("borough", "place", "street", "number", "building", "sub",
                                             "postcode", "dwelling", "building_id", "street_id")}
    made = building = street_id = 0
    while made < dwellings:
        place_i = int(np.searchsorted(place_cum, rng.random()))
        place = PLACES[place_i]
        street = _street_name(rng)
        houses = int(rng.integers(8, 70))
        blocks = int(rng.poisson(0.5))
        outward = place.outward[int(rng.integers(len(place.outward)))]
        postcode = _postcode(rng, outward)
        in_unit = 0
        unit_size = int(rng.integers(10, 22))
        numbers = list(range(1, houses + 1))
        block_at = set(rng.choice(numbers, size=min(blocks, len(numbers)), replace=False).tolist()) if blocks else set()
        for num in numbers:
            if in_unit >= unit_size:
                postcode, in_unit, unit_size = _postcode(rng, outward), 0, int(rng.integers(10, 22))
            number = str(num)
            if rng.random() < 0.02:
                number += "A"
            if num in block_at:
                block_name = f"{STREET_STEMS[int(rng.integers(len(STREET_STEMS)))]} {BLOCK_TYPES[int(rng.integers(len(BLOCK_TYPES)))]}"
                flats = int(rng.integers(6, 40))
                unit_postcode = _postcode(rng, outward)  # a large block has its own postcode
                for f in range(1, flats + 1):
                    _append(cols, place, place_i, street, number if rng.random() < 0.999 else "", block_name,
                            f"Flat {f}", unit_postcode, DWELLING_BLOCK, building, street_id)
                made += flats
            elif rng.random() < 0.12:
                subs = CONVERTED_FLATS[int(rng.integers(len(CONVERTED_FLATS)))]
                for sub in subs:
                    _append(cols, place, place_i, street, number, "", sub, postcode, DWELLING_CONVERTED, building, street_id)
                made += len(subs)
                in_unit += len(subs)
            else:
                _append(cols, place, place_i, street, number, "", "", postcode, DWELLING_HOUSE, building, street_id)
                made += 1
                in_unit += 1
            building += 1
        street_id += 1
    t = Table({k: np.asarray(v, dtype=object if k in ("street", "number", "building", "sub", "postcode") else np.int64)
               for k, v in cols.items()})
    t["uprn"] = _assign_uprns(t["borough"], first_uprn_seq)
    return t


def _append(cols: dict[str, list], place: Place, place_i: int, street: str, number: str, building: str, sub: str,
            postcode: str, dwelling: int, building_id: int, street_id: int) -> None:
    cols["borough"].append(place.borough)
    cols["place"].append(place_i)
    cols["street"].append(street)
    cols["number"].append(number)
    cols["building"].append(building)
    cols["sub"].append(sub)
    cols["postcode"].append(postcode)
    cols["dwelling"].append(dwelling)
    cols["building_id"].append(building_id)
    cols["street_id"].append(street_id)


def _assign_uprns(borough: np.ndarray, next_seq: list[int]) -> np.ndarray:
    uprn = np.zeros(len(borough), dtype=np.int64)
    for b in range(len(BOROUGHS)):
        idx = np.flatnonzero(borough == b)
        uprn[idx] = UPRN_BASE[b] + next_seq[b] + np.arange(len(idx))
        next_seq[b] += len(idx)
    return uprn


def build_premises(rng: np.random.Generator, n: int, next_seq: list[int]) -> Table:
    """Business premises: 70% in the boroughs (units, shops, offices), 30% elsewhere.

    ``next_seq`` has four counters: the three boroughs and elsewhere.
    """
    cols: dict[str, list] = {k: [] for k in ("borough", "town", "county", "street", "number", "building", "sub",
                                             "postcode", "locality")}
    place_w = np.array([p.weight * BOROUGH_WEIGHTS[p.borough] for p in PLACES])
    place_cum = np.cumsum(place_w / place_w.sum())
    for _ in range(n):
        r = rng.random()
        if r < 0.7:
            place = PLACES[int(np.searchsorted(place_cum, rng.random()))]
            borough, town, county, locality = place.borough, place.town, place.county, place.locality
            outward = place.outward[int(rng.integers(len(place.outward)))]
        else:
            town, outwards, county = ELSEWHERE[int(rng.integers(len(ELSEWHERE)))]
            borough, locality = -1, ""
            outward = outwards[int(rng.integers(len(outwards)))]
        style = rng.random()
        stem = STREET_STEMS[int(rng.integers(len(STREET_STEMS)))]
        if style < 0.4:
            street = f"{stem} {'Industrial Estate' if rng.random() < 0.5 else 'Business Park'}"
            number, building, sub = "", "", f"Unit {int(rng.integers(1, 40))}"
        elif style < 0.75:
            street = f"{stem} {'Street' if rng.random() < 0.5 else 'Road'}"
            number, building, sub = str(int(rng.integers(1, 300))), "", ""
        else:
            street = _street_name(rng)
            number = str(int(rng.integers(1, 120)))
            building = f"{stem} House"
            sub = f"Suite {int(rng.integers(1, 12))}" if rng.random() < 0.6 else f"{['Ground', 'First', 'Second'][int(rng.integers(3))]} Floor"
        for k, v in (("borough", borough), ("town", town), ("county", county), ("street", street), ("number", number),
                     ("building", building), ("sub", sub), ("postcode", _postcode(rng, outward)), ("locality", locality)):
            cols[k].append(v)
    t = Table({k: np.asarray(v, dtype=np.int64 if k == "borough" else object) for k, v in cols.items()}, n=n)
    uprn = np.zeros(n, dtype=np.int64)
    for b in range(len(BOROUGHS)):
        idx = np.flatnonzero(t["borough"] == b)
        uprn[idx] = UPRN_BASE[b] + next_seq[b] + np.arange(len(idx))
        next_seq[b] += len(idx)
    idx = np.flatnonzero(t["borough"] < 0)
    uprn[idx] = UPRN_BASE_ELSEWHERE + next_seq[3] + np.arange(len(idx))
    next_seq[3] += len(idx)
    t["uprn"] = uprn
    t["dwelling"] = np.full(n, PREMISES, dtype=np.int64)
    return t


def place_fields(props: Table) -> Table:
    """Town, locality and county of each home (premises carry their own)."""
    place = props["place"]
    towns = np.array([p.town for p in PLACES], dtype=object)
    localities = np.array([p.locality for p in PLACES], dtype=object)
    counties = np.array([p.county for p in PLACES], dtype=object)
    return Table({"town": towns[place], "locality": localities[place], "county": counties[place]})
