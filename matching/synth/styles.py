"""How each body's systems export data: header names, dates, money, flags, bank and phone
formats, address layout, line endings. Fixed per body and kind (not per seed), the way a
real body's exports look the same month after month.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from matching.specs import DatasetSpec


@dataclass(frozen=True)
class Style:
    date_format: str  # strftime-like: one of DATE_FORMATS
    money: str  # "pence", "pounds", "pound_sign"
    flag: tuple[str, str]  # (true, false)
    sort_code: str  # "dashes", "plain", "spaces"
    phone: str  # "spaced", "plain", "international"
    ni: str  # "plain", "spaced", "lower"
    address: str  # "joined", "comma", "split"
    header_case: str  # "as_is", "upper", "snake"
    upper_names: bool  # the system stores names in capitals
    line_ending: str
    strip_leading_zero_dates: float = 0.0  # a spreadsheet dropped the leading zero of ddmmyyyy


DATE_FORMATS = ("dd/mm/yyyy", "dd-mm-yyyy", "yyyy-mm-dd", "ddmmyyyy", "d mon yyyy")

BODY_STYLES: dict[str, Style] = {
    "kingston": Style("dd/mm/yyyy", "pence", ("Y", "N"), "dashes", "spaced", "plain", "joined", "as_is", False, "\n"),
    "richmond": Style("dd-mm-yyyy", "pounds", ("Yes", "No"), "plain", "plain", "spaced", "comma", "upper", False, "\n"),
    "windsor-maidenhead": Style("yyyy-mm-dd", "pound_sign", ("TRUE", "FALSE"), "spaces", "international", "lower", "split",
                                "snake", False, "\r\n"),
    "dwp": Style("ddmmyyyy", "pence", ("1", "0"), "plain", "plain", "plain", "split", "upper", True, "\n", 0.05),
    "slc": Style("d mon yyyy", "pence", ("Y", "N"), "dashes", "international", "plain", "comma", "as_is", False, "\n"),
}
# Systems that keep names in capitals for some kinds only.
UPPER_NAME_KINDS = {("richmond", "council_tax"), ("richmond", "electoral_register"), ("windsor-maidenhead", "payroll"),
                    ("kingston", "housing_benefit"), ("kingston", "trade_creditors")}


def style_for(body: str, kind: str) -> Style:
    s = BODY_STYLES[body]
    if (body, kind) in UPPER_NAME_KINDS and not s.upper_names:
        s = Style(**{**s.__dict__, "upper_names": True})
    return s


def _pick(options: list[str], *key: str) -> str:
    return options[zlib.crc32("|".join(key).encode()) % len(options)]


def headers_for(spec: DatasetSpec, body: str, style: Style) -> list[str]:
    """One header per field: one of the spec's names for it, chosen per body, in the body's case."""
    out = []
    for f in spec.fields:
        options = list(f.aliases) or [f.name]
        label = _pick(options, body, spec.kind, f.name)
        if style.header_case == "upper":
            label = label.upper()
        elif style.header_case == "snake":
            label = "_".join("".join(c if c.isalnum() else " " for c in label).split()).lower()
        out.append(label)
    return out
