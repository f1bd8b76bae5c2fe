"""Households: the surnames of the other people recorded at a record's property.

A kind whose records are people at their home (``household = true`` in its specification:
the electoral register) gets ``household_surnames`` on each record: the distinct surnames
of the *other* records at the same property in the same submission, or NULL when the record
is the only one there. The property is the UPRN where the record holds one, else its
standardised address line and postcode, each within the submitted file (one body's
register), after rejected rows are dropped.

A job compares it (``list_contains(household_surnames_r, pupil_surname_l)``): a parent who
kept her own surname is registered with the partner whose surname the child has, and a
namesake rarely is.

A property with more than ``MAX_HOUSEHOLD`` records (a care home, a hall of residence, or a
file whose addresses are all one placeholder) is an establishment, not a household: its
records get NULL, which also keeps the lists small (each is built from the whole property).
"""

from __future__ import annotations

from matching.ingest.standardise.sql import ident
from matching.specs import DatasetSpec

COLUMN = "household_surnames"
TYPE = "VARCHAR[]"
MAX_HOUSEHOLD = 30


def property_key(spec: DatasetSpec) -> str:
    """SQL for the property a record is at (NULL when it names none), over standardised columns."""
    keys = [f"'U' || CAST({ident(f.name)} AS VARCHAR)" for f in spec.of_type("uprn")[:1]]
    keys.append(f"'A' || {ident(spec.of_type('postcode')[0].name)} || ' ' || address_single")
    return f"coalesce({', '.join(keys)})"


def household_select(spec: DatasetSpec, source: str) -> str:
    """``source`` (accepted standardised rows, with ``_row``) with ``household_surnames`` added."""
    surname = ident(next(f.name for f in spec.fields if f.part == "surname"))
    return f"""
        SELECT * EXCLUDE (_household), CASE WHEN _household IS NOT NULL THEN nullif(list_distinct(
            list({surname}) OVER (PARTITION BY coalesce(_household, 'R' || _row)
                                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW)), []) END
            AS {COLUMN}
        FROM (
            SELECT *, CASE WHEN count(*) OVER (PARTITION BY {property_key(spec)}) <= {MAX_HOUSEHOLD}
                           THEN {property_key(spec)} END AS _household
            FROM {source}
        )
    """


__all__ = ["COLUMN", "MAX_HOUSEHOLD", "TYPE", "household_select", "property_key"]
