"""Two large, deterministic person files with known true pairs, for linkage benchmarks.

Made in DuckDB SQL (a million rows a side in seconds) from the synthetic exercise's name
frequency tables, with a long tail of rare surnames, UK-shaped postcodes and addresses,
and independent noise on each side: typos, missing and swapped dates of birth, missing
NI numbers, postcode typos, forename/surname swaps. Record refs carry the person: ``L123``
and ``R123`` are the same person, so truth needs no extra file.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

DATA = Path(__file__).resolve().parents[1] / "matching" / "synth" / "data"


def _typo(col: str, seed_col: str, rate: float) -> str:
    """Replace one letter of ``col`` in ``rate`` of rows (deterministic per row)."""
    pos = f"(1 + (hash({seed_col} || 'p') % greatest(length({col}), 1)))"
    letter = f"chr(65 + CAST(hash({seed_col} || 'c') % 26 AS INTEGER))"
    return (
        f"CASE WHEN (hash({seed_col} || 't') % 10000) < {int(rate * 10000)} AND length({col}) > 3 "
        f"THEN substr({col}, 1, CAST({pos} AS INTEGER) - 1) || {letter} || substr({col}, CAST({pos} AS INTEGER) + 1) "
        f"ELSE {col} END"
    )


def make_person_files(folder: Path, per_side: int, overlap: float = 0.5) -> tuple[Path, Path, int]:
    """Write left.csv and right.csv of ``per_side`` records each; returns (left, right, true pairs)."""
    folder.mkdir(parents=True, exist_ok=True)
    left, right = folder / "left.csv", folder / "right.csv"
    shared = int(per_side * overlap)
    population = 2 * per_side - shared
    # Written under temporary names and renamed when complete: a run interrupted while writing
    # (a ten-million file takes minutes) leaves no half file for the next run to take as input.
    if left.exists() and right.exists():
        return left, right, shared
    from benchmarks.common import duckdb_memory_settings

    # Spill into the benchmark folder at ten million a side rather than run out of memory.
    con = duckdb.connect(config=duckdb_memory_settings(folder / "tmp"))
    con.execute("SET preserve_insertion_order = true")
    con.execute(
        f"""
        CREATE TABLE fn AS SELECT upper(name) AS name, sum(per_100k) AS w FROM read_csv('{DATA / "forenames.csv"}') GROUP BY 1;
        CREATE TABLE sn AS SELECT upper(name) AS name, sum(per_100k) AS w FROM read_csv('{DATA / "surnames.csv"}') GROUP BY 1;
        CREATE TABLE fn_c AS SELECT name, (sum(w) OVER (ORDER BY name) - w) / sum(w) OVER () AS lo FROM fn;
        CREATE TABLE sn_c AS SELECT name, (sum(w) OVER (ORDER BY name) - w) / sum(w) OVER () AS lo FROM sn;
        CREATE TABLE streets AS
          SELECT i AS s, ['HIGH','STATION','CHURCH','PARK','LONDON','VICTORIA','MILL','QUEENS','KINGS','GREEN',
                          'ALBERT','MANOR','GROVE','WINDSOR','RICHMOND','CASTLE','ORCHARD','MEADOW','CEDAR','ELM']
                         [1 + i % 20] || ' ' || ['ROAD','STREET','LANE','AVENUE','CLOSE','DRIVE','GARDENS','WAY','PLACE','CRESCENT']
                         [1 + (i // 20) % 10] || CASE WHEN i >= 200 THEN ' ' || chr(CAST(65 + i // 200 % 26 AS INTEGER)) || chr(CAST(65 + i // 5200 % 26 AS INTEGER)) ELSE '' END AS street,
                 ['KT','TW','SL','SW','CR','SM','RG','HA','UB','EN'][1 + i % 10] || CAST(1 + (i // 10) % 20 AS VARCHAR)
                   || ' ' || CAST((i // 200) % 10 AS VARCHAR) || chr(65 + CAST(hash(i) % 20 AS INTEGER)) || chr(65 + CAST(hash(i + 7) % 20 AS INTEGER)) AS postcode
          FROM range({max(population // 40, 100)}) t(i);
        """
    )
    # Names are drawn by their frequency: an ASOF join finds each draw's bucket.
    con.execute(
        f"""
        CREATE TABLE base AS SELECT p, (hash(p || 'f') % 1000000) / 1000000.0 AS uf, (hash(p || 's') % 1000000) / 1000000.0 AS us
        FROM range({population}) t(p);
        CREATE TABLE people AS
        SELECT b.p, f.name AS forename,
               CASE WHEN hash(b.p || 'r') % 5 = 0
                    THEN ['AB','BRO','CAR','DUN','ELL','FAR','GIL','HAR','KEN','LAN','MOR','NOR','PEN','RAV','SUT','THOR','WAL','YAR'][1 + CAST(hash(b.p || 'a') % 18 AS INTEGER)]
                         || ['BURY','COMBE','DALE','FORD','HAM','HURST','LEY','MORE','SHAW','STONE','THWAITE','TON','WICK','WORTH'][1 + CAST(hash(b.p || 'b') % 14 AS INTEGER)]
                         || ['','S','E','ER'][1 + CAST(hash(b.p || 'c') % 4 AS INTEGER)]
                    ELSE s.name END AS surname,
               DATE '1930-01-01' + CAST(hash(b.p || 'd') % 28000 AS INTEGER) AS dob,
               CASE WHEN hash(b.p || 'n') % 10 < 7 THEN chr(65 + CAST(hash(b.p || 'n1') % 3 AS INTEGER)) || chr(66 + CAST(hash(b.p || 'n2') % 12 AS INTEGER))
                    || lpad(CAST(hash(b.p || 'n3') % 1000000 AS VARCHAR), 6, '0') || chr(65 + CAST(hash(b.p || 'n4') % 4 AS INTEGER)) END AS ni,
               1 + CAST(hash(b.p || 'h') % 120 AS INTEGER) AS house,
               CAST(hash(b.p || 'st') % {max(population // 40, 100)} AS INTEGER) AS s
        FROM base b
        ASOF JOIN fn_c f ON b.uf >= f.lo
        ASOF JOIN sn_c s ON b.us >= s.lo
        """
    )
    for side, path, lo, hi in (("L", left, 0, per_side), ("R", right, per_side - shared, population)):
        k = f"'{side}' || p"
        con.execute(
            f"""
            COPY (
              SELECT '{side}' || p AS "Reference",
                     CASE WHEN hash({k} || 'sw') % 200 = 0 THEN surname ELSE {_typo('forename', k + " || 'f'", 0.04)} END AS "Forename(s)",
                     CASE WHEN hash({k} || 'sw') % 200 = 0 THEN forename ELSE {_typo('surname', k + " || 's'", 0.05)} END AS "Surname",
                     CASE WHEN hash({k} || 'dm') % 20 = 0 THEN ''
                          WHEN hash({k} || 'dm') % 100 = 1 AND day(dob) <= 12 THEN strftime(make_date(year(dob), day(dob), month(dob)), '%d/%m/%Y')
                          ELSE strftime(dob, '%d/%m/%Y') END AS "Date of Birth",
                     CASE WHEN hash({k} || 'ni') % 10 < 3 THEN '' ELSE coalesce(ni, '') END AS "NI Number",
                     CAST(house AS VARCHAR) || ' ' || street AS "Address 1",
                     '' AS "Address 2",
                     CASE WHEN hash({k} || 'pc') % 50 = 0 THEN replace(postcode, ' ', '') ELSE postcode END AS "Post Code"
              FROM people JOIN streets USING (s)
              WHERE p >= {lo} AND p < {hi}
              ORDER BY p
            ) TO '{path}.partial' (HEADER, DELIMITER ',')
            """
        )
    con.close()
    for path in (left, right):
        os.replace(f"{path}.partial", path)
    return left, right, shared
