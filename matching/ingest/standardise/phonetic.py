"""Phonetic keys for forenames and surnames: Metaphone, from jellyfish.

Why Metaphone: it encodes English spelling rules (PH = F, silent K in KN, CK = K,
TH = 0), so STEPHEN/STEVEN, PHILIP/FILIP and KATHRYN/CATHERINE share a key, and unlike
Soundex it neither keeps the first letter verbatim (which splits PHILIP from FILIP) nor
truncates to four characters (which merges long surnames that differ at the end). jellyfish
has no Double Metaphone; its Metaphone is maintained and Rust-backed. The key is taken of
the letters only, so SMITH-JONES, SMITH JONES and SMITHJONES share one.

The function runs in Python over Arrow batches, so it is applied to the distinct names of
a submission (tens of thousands, not millions of rows) and joined back.
"""

from __future__ import annotations

import duckdb
import duckdb.func
import jellyfish
import pyarrow as pa

FUNCTION = "std_metaphone"


def metaphone_key(name: str | None) -> str | None:
    """The Metaphone key of a cleaned name (letters only are used), or None."""
    if not name:
        return None
    letters = "".join(c for c in name if "A" <= c <= "Z")
    if not letters:
        return None
    return jellyfish.metaphone(letters) or None


def _metaphone_batch(names: pa.Array) -> pa.Array:
    return pa.array([metaphone_key(n) for n in names.to_pylist()], type=pa.string())


def register_phonetic(con: duckdb.DuckDBPyConnection) -> None:
    """Create the SQL function ``std_metaphone(VARCHAR) -> VARCHAR`` on the connection."""
    try:
        con.remove_function(FUNCTION)
    except (duckdb.InvalidInputException, duckdb.CatalogException):
        pass
    # Names with no letters (e.g. 'ÆE' folds to 'AE'; '123' has none) have no key: NULL.
    con.create_function(  # type: ignore[call-overload]
        FUNCTION, _metaphone_batch, ["VARCHAR"], "VARCHAR", type=duckdb.func.ARROW, null_handling="special"
    )
