"""Noise: how one body's records of a person differ from the truth, applied independently per
dataset with its own seeded generator, so the same person looks different in each file.

``render`` turns true values into the text a body's export would hold: the body's formats
(``styles.py``) and the dataset's configured error rates (``config.Noise``). Every change
is counted in a ``NoiseLog`` (applied, and how many values it could have applied to), so
tests can check the rates and a reader can see what was done.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import numpy as np

from matching.specs import DatasetSpec
from matching.synth.config import Noise
from matching.synth.names import NICKNAMES
from matching.synth.styles import Style
from matching.synth.table import Table

ABBREVIATIONS = {"Road": "Rd", "Avenue": "Ave", "Street": "St", "Close": "Cl", "Gardens": "Gdns", "Lane": "Ln",
                 "Drive": "Dr", "Crescent": "Cres", "Place": "Pl", "Terrace": "Terr", "Court": "Ct", "Grove": "Gr",
                 "Saint": "St", "Mansions": "Mans", "House": "Ho", "Industrial Estate": "Ind Est", "Business Park": "Bus Pk"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
KEYBOARD = {c: n for c, n in zip("qwertyuiopasdfghjklzxcvbnm", ["wa", "qes", "wrd", "etf", "ryg", "tuh", "yij", "uok", "ipl",
                                                               "ol", "qsz", "awdx", "sefc", "drgv", "fthb", "gyjn", "hukm",
                                                               "jilm", "kop", "asx", "zsdc", "xdfv", "cfgb", "vghn", "bhjm",
                                                               "njk"], strict=True)}
INWARD = "ABDEFGHJLNPQRSTUWXYZ"


class NoiseLog:
    """Counts of each kind of noise: (kind, body, noise) -> [applied, eligible]."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])

    def add(self, kind: str, body: str, name: str, applied: int, eligible: int) -> None:
        c = self.counts[(kind, body, name)]
        c[0] += int(applied)
        c[1] += int(eligible)

    def rate(self, name: str, kind: str | None = None) -> tuple[int, int]:
        applied = eligible = 0
        for (k, _, n), (a, e) in self.counts.items():
            if n == name and (kind is None or k == kind):
                applied += a
                eligible += e
        return applied, eligible


def typo(text: str, rng: np.random.Generator) -> str:
    """One keying error: a neighbouring key, a dropped, doubled or swapped letter."""
    if len(text) < 3:
        return text
    i = int(rng.integers(1, len(text)))
    op = int(rng.integers(4))
    c = text[i]
    if op == 0 and c.lower() in KEYBOARD:
        n = KEYBOARD[c.lower()][int(rng.integers(len(KEYBOARD[c.lower()])))]
        return text[:i] + (n.upper() if c.isupper() else n) + text[i + 1:]
    if op == 1 and len(text) > 3:
        return text[:i] + text[i + 1:]
    if op == 2:
        return text[:i] + c + text[i:]
    if i < len(text) - 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + c + text[i:]


class Renderer:
    """Renders one dataset's records for one body."""

    def __init__(self, kind: str, body: str, spec: DatasetSpec, noise: Noise, style: Style, rng: np.random.Generator,
                 log: NoiseLog, addresses: Table) -> None:
        self.kind, self.body, self.spec, self.noise, self.style = kind, body, spec, noise, style
        self.rng, self.log, self.addresses = rng, log, addresses
        self.fields = {f.name: f for f in spec.fields}

    def _mask(self, name: str, rate: float, eligible: np.ndarray) -> np.ndarray:
        hit = eligible & (self.rng.random(len(eligible)) < rate)
        self.log.add(self.kind, self.body, name, hit.sum(), eligible.sum())
        return hit

    def render(self, rec: Table, protected: np.ndarray) -> dict[str, np.ndarray]:
        n = len(rec)
        out: dict[str, np.ndarray] = {}
        upper = self._mask("upper", self.noise.upper, np.ones(n, dtype=bool)) | self.style.upper_names
        if "surname" in self.fields:
            self._subject_names(rec, out)
        for f in self.spec.fields:
            if f.name in out or f.name == self.spec.record_key:
                continue
            if f.address_line or f.name in ("postcode", "uprn"):
                continue
            col = rec[f.name] if f.name in rec else None
            if col is None:
                out[f.name] = np.full(n, "", dtype=object)
            elif f.type == "date":
                out[f.name] = self._dates(f.name, col, f.required, protected)
            elif f.type == "money_pence":
                out[f.name] = self._money(col)
            elif f.type == "flag":
                t, fl = self.style.flag
                out[f.name] = np.where(col == 1, t, np.where(col == 0, fl, "")).astype(object)
            elif f.type == "number":
                out[f.name] = np.asarray([f"{float(v):g}" if v == v else "" for v in col], dtype=object)
            elif f.type == "ni_number":
                out[f.name] = self._ni(f.name, col)
            elif f.type == "sort_code":
                out[f.name] = self._sort_codes(col)
            elif f.type == "account_number":
                out[f.name] = col.astype(object)
            elif f.type == "phone":
                out[f.name] = self._phones(col)
            elif f.type == "email":
                gone = self._mask("email_missing", self.noise.email_missing, col != "")
                out[f.name] = np.where(gone, "", col).astype(object)
            elif f.type == "name":
                out[f.name] = self._other_names(f.name, col)
            else:
                out[f.name] = np.asarray(["" if v is None else str(v) for v in col], dtype=object)
        if "_addr" in rec and any(f.address_line for f in self.spec.fields):
            self._address(rec, out, upper)
        for name in list(out):
            f = self.fields[name]
            if f.type == "name" or f.address_line:
                if f.type == "name":
                    out[name] = np.where(upper, np.char.upper(out[name].astype(str)), out[name]).astype(object)
                out[name] = self._whitespace(name, out[name])
        out[self.spec.record_key] = rec[self.spec.record_key].astype(object)
        return {f.name: out[f.name] for f in self.spec.fields}

    # --- names -------------------------------------------------------------------------
    def _subject_names(self, rec: Table, out: dict[str, np.ndarray]) -> None:
        rng = self.rng
        n = len(rec)
        fore = rec["forenames"].astype(object).copy()
        mid = rec["middle_names"].astype(object).copy() if "middle_names" in rec else np.full(n, "", dtype=object)
        sur = rec["surname"].astype(object).copy()
        title = rec["title"].astype(object).copy()
        former = rec["former_surname"]
        married = self._mask("married_surname", self.noise.married_surname, former != "")
        sur[married] = former[married]
        has_nick = np.fromiter((f.split(" ")[0] in NICKNAMES for f in fore), dtype=bool, count=n)
        nick = self._mask("nickname", self.noise.nickname, has_nick)
        for i in np.flatnonzero(nick):
            first, *rest = fore[i].split(" ")
            options = NICKNAMES[first]
            fore[i] = " ".join([options[int(rng.integers(len(options)))], *rest])
        initial = self._mask("initials", self.noise.initials, (fore != "") & ~nick)
        fore[initial] = np.asarray([f[0] for f in fore[initial]], dtype=object)
        if "middle_names" in self.fields:
            merge = self._mask("middle_in_forename", self.noise.middle_in_forename, (mid != "") & ~initial)
            fore[merge] = fore[merge] + " " + mid[merge]
            mid[merge] = ""
        if "title" in self.fields:
            inside = self._mask("title_in_forename", self.noise.title_in_forename, title != "")
            fore[inside] = title[inside] + " " + fore[inside]
            title[inside] = ""
            gone = self._mask("title_missing", self.noise.title_missing, title != "")
            title[gone] = ""
        swap = self._mask("swap_names", self.noise.swap_names, (fore != "") & (sur != ""))
        fore[swap], sur[swap] = sur[swap], fore[swap].copy()
        for arr in (fore, sur, mid):
            hit = self._mask("typo", self.noise.typo, arr != "")
            for i in np.flatnonzero(hit):
                arr[i] = typo(arr[i], rng)
        out["forenames"] = fore
        out["surname"] = sur
        if "middle_names" in self.fields:
            out["middle_names"] = mid
        if "title" in self.fields:
            out["title"] = title

    def _other_names(self, name: str, col: np.ndarray) -> np.ndarray:
        vals = np.asarray(["" if v is None else str(v) for v in col], dtype=object)
        hit = self._mask("typo", self.noise.typo / 2, vals != "")
        for i in np.flatnonzero(hit):
            vals[i] = typo(vals[i], self.rng)
        return vals

    def _whitespace(self, name: str, vals: np.ndarray) -> np.ndarray:
        hit = self._mask("whitespace", self.noise.whitespace, vals != "")
        vals = vals.copy()
        for i in np.flatnonzero(hit):
            v = vals[i]
            r = self.rng.random()
            vals[i] = f" {v}" if r < 0.3 else f"{v} " if r < 0.6 else v.replace(" ", "  ", 1) if " " in v else f"{v}  "
        return vals

    # --- dates, money, codes -------------------------------------------------------------
    def _dates(self, name: str, col: np.ndarray, required: bool, protected: np.ndarray) -> np.ndarray:
        d = np.asarray(col, dtype="datetime64[D]").copy()
        if name.endswith("dob"):
            ok = ~np.isnat(d) & ~protected
            if not required:
                gone = self._mask("dob_missing", self.noise.dob_missing, ok)
                d[gone] = np.datetime64("NaT")
                ok &= ~gone
            iso = np.datetime_as_string(d, unit="D")
            day = np.array([int(s[8:10]) if s != "NaT" else 0 for s in iso])
            month = np.array([int(s[5:7]) if s != "NaT" else 0 for s in iso])
            swap = self._mask("dob_swap", self.noise.dob_swap, ok & (day <= 12) & (day != month))
            for i in np.flatnonzero(swap):
                s = iso[i]
                d[i] = np.datetime64(f"{s[:4]}-{s[8:10]}-{s[5:7]}")
        return format_dates(d, self.style, self.rng)

    def _money(self, col: np.ndarray) -> np.ndarray:
        style = self.style.money
        out = []
        for v in col:
            v = int(v)
            if v < 0 and v == -1:
                out.append("")
            elif style == "pence":
                out.append(str(v))
            elif style == "pounds":
                out.append(f"{v / 100:.2f}")
            else:
                out.append(f"£{v / 100:.2f}")
        return np.asarray(out, dtype=object)

    def _ni(self, name: str, col: np.ndarray) -> np.ndarray:
        vals = col.astype(object).copy()
        gone = self._mask("ni_missing", self.noise.ni_missing, vals != "")
        vals[gone] = ""
        if self.style.ni == "spaced":
            vals = np.asarray([f"{v[:2]} {v[2:4]} {v[4:6]} {v[6:8]} {v[8:]}" if v else "" for v in vals], dtype=object)
        elif self.style.ni == "lower":
            vals = np.asarray([v.lower() for v in vals], dtype=object)
        return vals

    def _sort_codes(self, col: np.ndarray) -> np.ndarray:
        s = self.style.sort_code
        sep = {"dashes": "-", "spaces": " ", "plain": ""}[s]
        return np.asarray([f"{v[:2]}{sep}{v[2:4]}{sep}{v[4:]}" if v else "" for v in col], dtype=object)

    def _phones(self, col: np.ndarray) -> np.ndarray:
        vals = col.astype(object).copy()
        gone = self._mask("phone_missing", self.noise.phone_missing, vals != "")
        vals[gone] = ""
        style = self.style.phone
        out = []
        for v in vals:
            if not v:
                out.append("")
            elif style == "spaced":
                out.append(f"{v[:5]} {v[5:]}" if not v.startswith("020") else f"{v[:3]} {v[3:7]} {v[7:]}")
            elif style == "international":
                out.append(f"+44 20 {v[3:7]} {v[7:]}" if v.startswith("020") else f"+44 {v[1:5]} {v[5:]}")
            else:
                out.append(v)
        return np.asarray(out, dtype=object)

    # --- addresses -----------------------------------------------------------------------
    def _address(self, rec: Table, out: dict[str, np.ndarray], upper: np.ndarray) -> None:
        a = self.addresses
        addr = rec["_addr"]
        n = len(rec)
        valid = addr >= 0
        idx = np.maximum(addr, 0)
        abbrev = self._mask("address_abbrev", self.noise.address_abbrev, valid)
        drop_county = self._mask("address_drop_county", self.noise.address_drop_county, valid & (a["county"][idx] != ""))
        lines = np.full((n, 4), "", dtype=object)
        layout = self.style.address
        for i in np.flatnonzero(valid):
            j = idx[i]
            street = a["street"][j]
            sub = a["sub"][j]
            building = a["building"][j]
            if abbrev[i]:
                street = _abbreviate(street)
                building = _abbreviate(building)
                if sub.startswith("Flat ") and self.rng.random() < 0.5:
                    sub = sub[5:] if self.rng.random() < 0.5 else "F" + sub[5:]
            street_line = f"{a['number'][j]} {street}".strip()
            town = a["town"][j]
            town = town.upper() if layout == "split" else town
            county = "" if drop_county[i] else a["county"][j]
            if layout == "comma":
                parts = [", ".join(x for x in (sub, building, street_line) if x), a["locality"][j], town, county]
            elif layout == "split":
                parts = [sub, building, street_line, a["locality"][j], town, county]
            else:
                parts = [" ".join(x for x in (sub, building) if x), street_line, a["locality"][j], town, county]
            parts = [x for x in parts if x]
            while len(parts) > 4:
                parts = [f"{parts[0]}, {parts[1]}", *parts[2:]] if len(parts) > 5 or not county else parts[:-1]
            for k, x in enumerate(parts):
                lines[i, k] = x
        for k in range(4):
            name = f"address_line_{k + 1}"
            if name in self.fields:
                col = lines[:, k]
                out[name] = np.where(upper, np.char.upper(col.astype(str)), col).astype(object)
        if "postcode" in self.fields:
            pc = np.where(valid, a["postcode"][idx], "").astype(object)
            bad = self._mask("postcode_typo", self.noise.postcode_typo, valid)
            for i in np.flatnonzero(bad):
                pc[i] = _postcode_typo(pc[i], self.rng)
            nospace = self._mask("postcode_nospace", self.noise.postcode_nospace, valid)
            pc[nospace] = np.asarray([v.replace(" ", "") for v in pc[nospace]], dtype=object)
            out["postcode"] = pc
        if "uprn" in self.fields:
            u = np.where(valid, a["uprn"][idx], 0)
            gone = self._mask("uprn_missing", self.noise.uprn_missing, valid)
            out["uprn"] = np.asarray(["" if (g or not v) else str(int(v)) for v, g in zip(u, gone, strict=True)], dtype=object)


@lru_cache(maxsize=65_536)
def _abbreviate(text: str) -> str:
    for full, short in ABBREVIATIONS.items():
        if text.endswith(" " + full) or text.startswith(full + " ") or f" {full} " in text:
            return text.replace(full, short)
    return text


def _postcode_typo(pc: str, rng: np.random.Generator) -> str:
    """A wrong but valid-looking postcode: one inward character changed."""
    outward, inward = pc.split(" ")
    pos = int(rng.integers(3))
    if pos == 0:
        new = str((int(inward[0]) + int(rng.integers(1, 10))) % 10)
    else:
        choices = [c for c in INWARD if c != inward[pos]]
        new = choices[int(rng.integers(len(choices)))]
    return f"{outward} {inward[:pos]}{new}{inward[pos + 1:]}"


def format_dates(d: np.ndarray, style: Style, rng: np.random.Generator) -> np.ndarray:
    iso = np.datetime_as_string(np.asarray(d, dtype="datetime64[D]"), unit="D")
    fmt = style.date_format
    out = np.empty(len(iso), dtype=object)
    strip = rng.random(len(iso)) < style.strip_leading_zero_dates
    for i, s in enumerate(iso):
        if s == "NaT":
            out[i] = ""
            continue
        y, m, dd = s[:4], s[5:7], s[8:10]
        if fmt == "dd/mm/yyyy":
            out[i] = f"{dd}/{m}/{y}"
        elif fmt == "dd-mm-yyyy":
            out[i] = f"{dd}-{m}-{y}"
        elif fmt == "ddmmyyyy":
            out[i] = f"{dd}{m}{y}" if not (strip[i] and dd[0] == "0") else f"{dd[1]}{m}{y}"
        elif fmt == "d mon yyyy":
            out[i] = f"{int(dd)} {MONTHS[int(m) - 1]} {y}"
        else:
            out[i] = s
    return out
