"""Households: the surnames of the other people recorded at a record's property.

A kind whose records are people at their home (``household = true`` in its specification:
the electoral register) gets ``household_surnames`` on each record: the distinct surnames
of the *other* records at the same property in the same submission, or NULL when the record
is the only one there. The property is the UPRN (the record's own, or that of another record
with the same address line and postcode), else the standardised address line and postcode,
within the submitted file (one body's register), after rejected rows are dropped.

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


def household_select(spec: DatasetSpec, accepted: str) -> str:
    """The query ``accepted`` (of the accepted standardised rows) with ``household_surnames`` added.

    The property is the UPRN, where the record or another record with the same address and
    postcode holds one (registers often give a UPRN for some electors at a property and not
    others: with 3 in 10 left out, 44,867 of 237,835 electors' lists change); else the
    address and postcode. Each property's surnames are listed once, by GROUP BY and joined
    back (a window over each property, leaving out each row's own, cost three times as much);
    a record's own surname is then taken out of its property's list unless someone else there
    has it too.
    """
    surname = ident(next(f.name for f in spec.fields if f.part == "surname"))
    postcode = ident(spec.of_type("postcode")[0].name)
    address = f"'A' || s.{postcode} || ' ' || s.address_single"
    uprns = spec.of_type("uprn")[:1]
    if uprns:
        uprn = ident(uprns[0].name)
        written = f"""written AS (
            SELECT {postcode} AS _postcode, address_single AS _address, min({uprn}) AS _uprn FROM accepted
            WHERE {uprn} IS NOT NULL AND address_single IS NOT NULL GROUP BY ALL
        ),"""
        key = f"coalesce('U' || CAST(coalesce(s.{uprn}, w._uprn) AS VARCHAR), {address})"
        join = f"LEFT JOIN written w ON w._postcode = s.{postcode} AND w._address = s.address_single"
    else:
        written, key, join = "", address, ""
    return f"""
        WITH accepted AS MATERIALIZED ({accepted}),
        {written}
        records AS (SELECT s.*, {key} AS _household FROM accepted s {join}),
        households AS (
            SELECT _household, list({surname}) AS _all, list_sort(list_distinct(list({surname}))) AS _distinct
            FROM records WHERE _household IS NOT NULL
            GROUP BY _household HAVING count(*) BETWEEN 2 AND {MAX_HOUSEHOLD}
        )
        SELECT r.* EXCLUDE (_household), CASE WHEN h._all IS NOT NULL THEN nullif(
            CASE WHEN len(list_filter(h._all, lambda x: x = r.{surname})) > 1 THEN h._distinct
                 ELSE list_filter(h._distinct, lambda x: coalesce(x <> r.{surname}, true)) END, []) END AS {COLUMN}
        FROM records r LEFT JOIN households h USING (_household)
    """


__all__ = ["COLUMN", "MAX_HOUSEHOLD", "TYPE", "household_select"]
