"""How long ``standardise`` takes on a generated payroll submission.

    .venv/bin/python tests/standardise/benchmark_standardise.py [--rows 1000000] [--threads 2]

The rows are generated in DuckDB with the mess real submissions have: titles inside
forenames, mixed case, dates in several forms, NI numbers with spaces, postcodes without
them, pounds and pence, sort codes as dates, a few invalid values of each kind, and about
as many distinct names and dates as a large payroll. Only the ``standardise`` call is timed
(the source table already exists, as in ingest). The machine's other work shows in wall
time, so CPU time is reported too.
"""

from __future__ import annotations

import argparse
import time

import duckdb

from matching.ingest.standardise import register, standardise
from matching.specs import load_spec

FORENAMES = ["John", "Mr John Paul", "mary", "Peggy", "BOB", "Siobhán", "Zoë", "Mrs Margaret", "Dr. Ahmed", "Jean-Luc", "Bill", "Liz"]
SURNAMES = ["Smith", "O'Brien", "SMITH-JONES", "van der Berg", "Ng", "Brontë", "McDonald", "Khan", "Patel", "Williams"]
SYLLABLES = ["ard", "ber", "cot", "den", "ell", "ford", "gate", "ham", "ing", "ley", "man", "ney", "ock", "ton", "win", "well", "by", "s", "son", ""]
MIDDLE = ["James", "Anne", "Marie", "John", "Louise", "Paul", "Elizabeth", "Peter", "Rose", "Thomas"]
STREETS = ["St", "Rd", "Lane", "Ave", "Cres", "Road", "Cl", "Gdns", "Street", "Drive"]


def _pick(options: list[str], seed: int) -> str:
    """One of ``options``, chosen by a hash of the row number (``seed`` makes the choices of
    different columns independent)."""
    items = ", ".join("'" + o.replace("'", "''") + "'" for o in options)
    return f"[{items}][1 + (hash(i * 1000003 + {seed}) % {len(options)})::INT]"


def _random(n: int, seed: int) -> str:
    return f"(hash(i * 7919 + {seed}) % {n})"


def build_source(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """A payroll source table: every field VARCHAR, trimmed, blank as NULL, plus _row."""
    r = _random(1000, 1)  # 0-999: chooses a variant for a field
    # Thousands of distinct surnames, streets and postcodes, hundreds of forenames, tens of
    # thousands of dates of birth, as a large payroll has.
    surname = f"{_pick(SURNAMES, 2)} || {_pick(SYLLABLES, 3)} || {_pick(SYLLABLES, 4)}"
    forenames = f"{_pick(FORENAMES, 5)} || CASE WHEN {r} % 5 = 0 THEN ' ' || {_pick(MIDDLE, 6)} || {_pick(SYLLABLES, 7)} ELSE '' END"
    street = f"{_pick(['Ash', 'Bel', 'Car', 'Dun', 'Elm', 'Fair', 'Glen', 'Hol', 'Kings', 'Mill'], 8)} || {_pick(SYLLABLES, 9)} || {_pick(SYLLABLES, 10)} || ' ' || {_pick(STREETS, 11)}"
    born = f"DATE '1945-01-01' + {_random(21000, 12)}::INT"
    outward = f"{_pick(['KT', 'SW', 'TW', 'CR', 'SM', 'B', 'M', 'LS'], 13)} || (1 + {_random(20, 14)})"
    inward = f"{_random(10, 15)} || {_pick(list('ABDEFGHJLNPQRSTUWXYZ'), 16)} || {_pick(list('ABDEFGHJLNPQRSTUWXYZ'), 17)}"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE src AS
        SELECT i + 1 AS _row,
            'E' || i AS employee_ref,
            CASE WHEN {r} < 300 THEN 'Mr' WHEN {r} < 500 THEN 'Mrs.' END AS title,
            {forenames} AS forenames,
            CASE WHEN {r} % 3 = 0 THEN {_pick(MIDDLE, 18)} END AS middle_names,
            {surname} AS surname,
            CASE WHEN {r} < 500 THEN strftime({born}, '%d/%m/%Y')
                 WHEN {r} < 800 THEN strftime({born}, '%d%m%Y')
                 WHEN {r} < 950 THEN strftime({born}, '%Y-%m-%d')
                 WHEN {r} < 990 THEN '31/04/1980' END AS dob,
            CASE WHEN {r} < 900 THEN 'AB ' || lpad((i % 1000000)::VARCHAR, 6, '0') || ' C'
                 WHEN {r} < 990 THEN 'QQ123456C' END AS ni_number,
            (1 + {_random(200, 19)})::VARCHAR || ' ' || {street} AS address_line_1,
            CASE WHEN {r} < 300 THEN 'Flat ' || (i % 9) END AS address_line_2,
            {_pick(['Kingston upon Thames', 'Surbiton', 'New Malden', 'Chessington', 'Tolworth'], 20)} AS address_line_3,
            CASE WHEN {r} < 500 THEN 'Surrey' END AS address_line_4,
            CASE WHEN {r} < 700 THEN {outward} || ' ' || {inward}
                 WHEN {r} < 990 THEN lower({outward} || {inward}) ELSE 'KT1' END AS postcode,
            CASE WHEN {r} < 600 THEN (100000000000 + i)::VARCHAR END AS uprn,
            CASE WHEN {r} < 700 THEN 'Person.' || i || '@Example.org' WHEN {r} < 720 THEN 'not an email' END AS email,
            CASE WHEN {r} < 500 THEN '07700 ' || lpad((i % 1000000)::VARCHAR, 6, '0')
                 WHEN {r} < 800 THEN '+44 (0)20 7946 ' || lpad((i % 10000)::VARCHAR, 4, '0') END AS phone,
            CASE WHEN {r} < 800 THEN {_pick(['12-34-56', '40-47-84', '60-16-13', '09-01-28', '20-00-00'], 21)}
                 WHEN {r} < 900 THEN '12/03/1956' END AS sort_code,
            CASE WHEN {r} < 900 THEN lpad((i % 100000000)::VARCHAR, 8, '0') END AS account_number,
            CASE WHEN {r} < 600 THEN 'Kingston Council' ELSE 'St Mary''s Primary School' END AS employer,
            CASE WHEN {r} < 500 THEN 'Teaching Assistant' ELSE 'Clerk' END AS job_title,
            '01/09/' || (2000 + i % 20) AS date_started,
            CASE WHEN {r} < 100 THEN '31/08/2021' WHEN {r} < 200 THEN '31/12/9999' END AS date_left,
            CASE WHEN {r} < 500 THEN (i % 5000000)::VARCHAR ELSE '£' || (i % 50000) || '.' || lpad((i % 100)::VARCHAR, 2, '0') END AS gross_pay_to_date,
            CASE WHEN {r} < 900 THEN '37.5' ELSE '18,5' END AS hours_per_week,
            CASE WHEN {r} < 500 THEN 'Y' ELSE 'N' END AS teacher
        FROM range({rows}) t(i)
        """
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute("SET enable_progress_bar = false")
    build_source(con, args.rows)
    register(con)
    spec = load_spec("payroll")
    best, best_cpu = float("inf"), float("inf")
    for n in range(args.repeat):
        timings: dict[str, float] = {}
        started, cpu = time.perf_counter(), time.process_time()
        standardise(con, "src", spec, "std", timings)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        best, best_cpu = min(best, took), min(best_cpu, cpu)
        steps = ", ".join(f"{k} {v:.2f}s" for k, v in timings.items())
        print(f"run {n + 1}: {took:.2f}s wall, {cpu:.2f}s CPU ({steps})")
    defects = con.execute("SELECT count(*) FROM (SELECT unnest(_defects) FROM std)").fetchall()[0][0]
    print(
        f"{args.rows:,} payroll rows on {args.threads} threads: best {best:.2f}s wall, {best_cpu:.2f}s CPU "
        f"(CPU / threads is the wall time on an otherwise idle machine); {defects:,} defects"
    )


if __name__ == "__main__":
    main()
