"""Which standardiser each field type uses: ``clean_field(field, raw)`` -> (value, defect).

Every standardiser takes the SQL of a raw column (VARCHAR, trimmed, blank already NULL) and
returns two SQL expressions: the standardised, typed value (NULL when blank or invalid) and
the plain-English reason a non-blank value was nulled. The reason is only evaluated for
rows whose value came out NULL, so it may be as slow and specific as it likes.
"""

from __future__ import annotations

from collections.abc import Callable

from matching.ingest.standardise.addresses import clean_address_line
from matching.ingest.standardise.bank import clean_account_number, clean_sort_code
from matching.ingest.standardise.contact import clean_email, clean_phone
from matching.ingest.standardise.dates import clean_date
from matching.ingest.standardise.money import clean_money_pence
from matching.ingest.standardise.name_parts import clean_name
from matching.ingest.standardise.ni_numbers import clean_ni_number
from matching.ingest.standardise.postcodes import clean_postcode
from matching.ingest.standardise.simple import (
    clean_code,
    clean_flag,
    clean_number,
    clean_text,
    clean_uprn,
)
from matching.specs import FieldSpec

Cleaner = Callable[[str, FieldSpec], tuple[str, str]]

CLEANERS: dict[str, Cleaner] = {
    "name": clean_name,
    "date": clean_date,
    "ni_number": clean_ni_number,
    "postcode": clean_postcode,
    "uprn": clean_uprn,
    "money_pence": clean_money_pence,
    "sort_code": clean_sort_code,
    "account_number": clean_account_number,
    "email": clean_email,
    "phone": clean_phone,
    "code": clean_code,
    "flag": clean_flag,
    "text": clean_text,
    "number": clean_number,
}

# The SQL type of each standardised value, so an all-NULL column still has the right type.
SQL_TYPES: dict[str, str] = {
    "date": "DATE",
    "uprn": "BIGINT",
    "money_pence": "BIGINT",
    "flag": "BOOLEAN",
    "number": "DOUBLE",
}


def is_address_line(field: FieldSpec) -> bool:
    """A line of the subject's address (text fields only; other types keep their own rules)."""
    return bool(field.address_line) and field.type == "text"


def clean_field(field: FieldSpec, raw: str) -> tuple[str, str]:
    """The (value, defect) SQL of one field over the raw column expression ``raw``."""
    cleaner = clean_address_line if is_address_line(field) else CLEANERS[field.type]
    value, defect = cleaner(raw, field)
    return f"CAST({value} AS {SQL_TYPES.get(field.type, 'VARCHAR')})", defect
