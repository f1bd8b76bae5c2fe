"""Standardisation: raw text fields of a submission become typed, comparable columns.

Contract (used by ``matching.ingest.pipeline``):

``register(con)``
    Prepare a DuckDB connection: reference tables (nicknames) and the few Python UDFs
    (phonetic keys, over Arrow batches of distinct values) that have no SQL form.

``standardise(con, source, spec, target)``
    ``source`` is a table whose columns are the spec's field names (all VARCHAR, already
    trimmed, blank -> NULL) plus ``_row`` (BIGINT, the data row number in the file).
    Creates table ``target`` with ``_row``, every field standardised and typed, the
    derived columns (name parts, canonical forename, phonetic keys, postcode parts,
    address forms), and ``_defects``: a LIST of STRUCT(field VARCHAR, reason VARCHAR,
    value VARCHAR): one entry for each non-blank value that was invalid and so nulled.

``standardise_value(ftype, value, part=None)``
    The same SQL applied to one value, for tests and notebooks: (standardised, defect).
"""

from matching.ingest.standardise.pipeline import output_columns, standardise
from matching.ingest.standardise.reference import register
from matching.ingest.standardise.value import standardise_value, standardise_values

__all__ = ["output_columns", "register", "standardise", "standardise_value", "standardise_values"]
