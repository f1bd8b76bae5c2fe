"""Header mapping: which column of a submitted file holds which field of the spec."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_header(label: str) -> str:
    """Case, space and punctuation-insensitive form of a header: 'Forename(s)' -> 'forenames'."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("", text.lower())
