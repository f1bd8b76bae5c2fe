"""How long ``standardise`` takes on a generated payroll submission.

    .venv/bin/python tests/standardise/benchmark_standardise.py [--rows 1000000] [--threads 2]

The rows are generated in DuckDB with the mess real submissions have: titles inside
forenames, mixed case, dates in several forms, NI numbers with spaces, postcodes without
them, pounds and pence, sort codes as dates, a few invalid values of each kind. Only the
``standardise`` call is timed (the source table already exists, as in ingest).
"""

from __future__ import annotations

import argparse
import time

import duckdb

from matching.ingest.standardise import register, standardise
from matching.specs import load_spec

FORENAMES = ["John", "Mr John Paul", "mary", "Peggy", "BOB", "Siobhán", "Zoë", "Mrs Margaret", "Dr. Ahmed", "Jean-Luc", "Bill", "Liz"]
SURNAMES = ["Smith", "O'Brien", "SMITH-JONES", "van der Berg", "Ng", "Brontë", "McDonald", "Khan", "Patel", "Williams"]
STREETS = ["High St", "Station Rd", "Church Lane", "St John's Ave", "Victoria Cres", "Park Road", "Mill Cl"]


def _pick(options: list[str], seed: str) -> str:
    items = ", ".join("'" + o.replace("'", "''") + "'" for o in options)
    return f"[{items}][1 + (hash(i, '{seed}') % {len(options)})::INT]"


def build_source(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """A payroll source table: every field VARCHAR, trimmed, blank as NULL, plus _row."""
    r = "(hash(i, 'r') % 1000)"  # 0-999: chooses a variant for a field
    dob_day, dob_month, dob_year = "lpad((1 + i % 28)::VARCHAR, 2, '0')", "lpad((1 + i % 12)::VARCHAR, 2, '0')", "(1940 + i % 60)::VARCHAR"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE src AS
        SELECT i + 1 AS _row,
            'E' || i AS employee_ref,
            CASE WHEN {r} < 300 THEN 'Mr' WHEN {r} < 500 THEN 'Mrs.' END AS title,
            {_pick(FORENAMES, 'f')} AS forenames,
            CASE WHEN {r} % 3 = 0 THEN 'James' END AS middle_names,
            {_pick(SURNAMES, 's')} || CASE WHEN i % 7 = 0 THEN '' ELSE '' END AS surname,
            CASE WHEN {r} < 500 THEN {dob_day} || '/' || {dob_month} || '/' || {dob_year}
                 WHEN {r} < 800 THEN {dob_day} || {dob_month} || {dob_year}
                 WHEN {r} < 950 THEN {dob_year} || '-' || {dob_month} || '-' || {dob_day}
                 WHEN {r} < 990 THEN '31/04/1980' END AS dob,
            CASE WHEN {r} < 900 THEN 'AB ' || lpad((i % 1000000)::VARCHAR, 6, '0') || ' C'
                 WHEN {r} < 990 THEN 'QQ123456C' END AS ni_number,
            (1 + i % 200)::VARCHAR || ' ' || {_pick(STREETS, 'a')} AS address_line_1,
            CASE WHEN {r} < 300 THEN 'Flat ' || (i % 9) END AS address_line_2,
            'Kingston upon Thames' AS address_line_3,
            CASE WHEN {r} < 500 THEN 'Surrey' END AS address_line_4,
            CASE WHEN {r} < 700 THEN 'KT' || (1 + i % 9) || ' ' || (i % 10) || 'AB'
                 WHEN {r} < 990 THEN lower('SW1A' || (i % 10) || 'AA') ELSE 'KT1' END AS postcode,
            CASE WHEN {r} < 600 THEN (100000000000 + i)::VARCHAR END AS uprn,
            CASE WHEN {r} < 700 THEN 'Person.' || i || '@Example.org' WHEN {r} < 720 THEN 'not an email' END AS email,
            CASE WHEN {r} < 500 THEN '07700 ' || lpad((i % 1000000)::VARCHAR, 6, '0')
                 WHEN {r} < 800 THEN '+44 (0)20 7946 ' || lpad((i % 10000)::VARCHAR, 4, '0') END AS phone,
            CASE WHEN {r} < 800 THEN '12-34-56' WHEN {r} < 900 THEN '12/03/1956' END AS sort_code,
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
