"""``register(con)``: what a connection needs before ``standardise`` runs on it.

Two things have no SQL form: the nickname -> canonical forename table and the Metaphone
function. Both are temporary (they vanish with the connection and are never written into
a database file); registering again replaces them.
"""

from __future__ import annotations

import duckdb

from matching.ingest.standardise.nicknames import TABLE, register_nicknames
from matching.ingest.standardise.phonetic import FUNCTION, register_phonetic


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Load the nickname table and create the phonetic-key function on ``con``."""
    register_nicknames(con)
    register_phonetic(con)


def is_registered(con: duckdb.DuckDBPyConnection) -> bool:
    tables = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [TABLE]
    ).fetchall()[0][0]
    functions = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [FUNCTION]
    ).fetchall()[0][0]
    return bool(tables and functions)


def ensure_registered(con: duckdb.DuckDBPyConnection) -> None:
    """``register`` unless already done on this connection."""
    if not is_registered(con):
        register(con)
