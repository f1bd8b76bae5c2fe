"""The manifest and the README written beside every synthetic exercise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matching.synth.config import (
    EXERCISE_DATE,
    FSM_EARNINGS_THRESHOLD_PENCE,
    JOB_KINDS,
    JOBS,
    TAX_YEAR_START,
    Rates,
)

if TYPE_CHECKING:
    from matching.synth.exercise import Summary

RULES_IN_WORDS = {
    "hb-to-payroll": "the claimant is the employee; the post (date started to date left, or the exercise date) overlaps "
                     "the claim (start to end, or the exercise date); and the claim's declared weekly earnings are zero.",
    "ctr-to-payroll": "as hb-to-payroll, for council tax reduction claims.",
    "hb-to-deceased": "the claimant is the person who died; the claim started on or before the date of death and its "
                      "end date is blank or after the date of death.",
    "ctr-to-deceased": "as hb-to-deceased, for council tax reduction claims.",
    "pensions-to-deceased": "the pensioner died; the pension started on or before the date of death and its end date is "
                            "blank or after the date of death.",
    "blue-badges-to-deceased": "the holder died; the badge was issued on or before the date of death and its validity "
                               "ends (the cancelled date if there is one, else the expiry date) after the date of death.",
    "concessionary-travel-to-deceased": "as blue-badges-to-deceased, for passes.",
    "spd-to-electoral-register": "a council tax account with a single person discount (SPD), and an elector at the same "
                                 "property (the true UPRN) who is neither liable person, where some day of the discount "
                                 "(start to end, or the exercise date) falls on or after both the elector's registered "
                                 "date and their 18th birthday.",
    "spd-to-post16": "a council tax account with a single person discount, and a post-16 learner living at the same "
                     "property who is neither liable person and whose 18th birthday falls within the discount "
                     "(start to end, or the exercise date).",
    "payroll-to-payroll": "the same person on two bodies' payrolls with overlapping posts (start to date left, or the "
                          "exercise date). Left is the record whose (body, record id) sorts first.",
    "payroll-to-creditors": "an employee and a creditor of the same body, where the creditor's bank sort code and account "
                            "number are the employee's own, or the creditor's address is the employee's home (the same "
                            "true property).",
    "tenants-to-tenants": "the same person is a named tenant on two current tenancies (no tenancy end date), of any "
                          "landlords. Left is the record whose (body, record id) sorts first.",
    "hb-to-student-loans": "the claimant is the student; the course is full-time (mode FT) and its dates (start to "
                           "planned end) overlap the claim.",
    "ctr-to-student-loans": "as hb-to-student-loans, for council tax reduction claims.",
    "admissions-to-council-tax": "the parent/carer on the application is a liable person (lead or joint) on a council tax "
                                 "account at a different property from the address the application gave, and that "
                                 "liability began on or before the admission date.",
    "admissions-to-electoral-register": "the parent/carer on the application is registered as an elector at a different "
                                        "property from the address the application gave, with a registered date on or "
                                        "before the admission date.",
    "fsm-to-payroll": f"the parent/carer of a child with free school meals is the employee; the post overlaps the "
                      f"eligibility (start to end, or the exercise date); and the post's annual gross pay is above "
                      f"£{FSM_EARNINGS_THRESHOLD_PENCE // 100:,}. Annual gross pay is the full-time salary pro rata to "
                      f"the hours; in the file, gross pay to date x 365 / days employed since {TAX_YEAR_START} "
                      f"(or the start date, if later) to the date left or {EXERCISE_DATE} gives it to within a penny "
                      "a day.",
    "duplicate-payments": "two payment lines of one body for the same true invoice (same supplier, amount and invoice; "
                          "the invoice number is sometimes keyed differently). Left is the record whose id sorts first.",
}


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def manifest(summary: Summary, generated_by: str) -> str:
    lines = [
        "# Written by matching synth: every file of the exercise, with its dataset kind and body.",
        "[exercise]",
        f"seed = {summary.seed}",
        f"people = {summary.people}",
        f"format = {_toml(summary.format)}",
        f"exercise_date = {_toml(EXERCISE_DATE)}",
        f"generated_by = {_toml(generated_by)}",
        "",
    ]
    for f in summary.files:
        lines += ["[[files]]", f"kind = {_toml(f['kind'])}", f"body = {_toml(f['body'])}", f"file = {_toml(f['file'])}",
                  f"rows = {f['rows']}", ""]
    return "\n".join(lines)


def readme(summary: Summary, generated_by: str, rates: Rates) -> str:
    files = "\n".join(f"| `{f['file']}` | {f['kind']} | {f['body']} | {f['rows']:,} |" for f in summary.files)
    jobs = "\n".join(
        f"| `{job}` | {JOB_KINDS[job][0]} | {JOB_KINDS[job][1]} | {summary.planted.get(job, 0)} | "
        f"{summary.inconsistencies.get(job, 0)} | {summary.hard_negatives.get(job, 0)} |" for job in JOBS)
    rules = "\n".join(f"- **{job}**: {RULES_IN_WORDS[job]}" for job in JOBS)
    return f"""# Synthetic data-matching exercise

A made-up population of {summary.people:,} people living in three boroughs (Kingston upon
Thames, Richmond upon Thames, Windsor and Maidenhead), and every dataset the councils, DWP
and the Student Loans Company would submit about them, extracted as at {EXERCISE_DATE}.
Nobody in it is real. It exists so the matching engine can be developed, tested,
demonstrated and benchmarked without real data, and it is messy in the ways real
submissions are.

Made by:

    {generated_by}

The same command with the same seed writes the same files, byte for byte.

## What is in it

| file | kind | body | rows |
|---|---|---|---:|
{files}

`manifest.toml` lists every file with its kind and body (`matching ingest-dir` reads it).
Pensions are submitted by each council for its own pension fund. The two `person` files
are Kingston's customer contacts and Richmond's parking customers, overlapping in the
people they hold, for the generic person link.

Each body's files follow its own conventions: header names (from the aliases in
`configs/datasets/`), date formats, money in pence or pounds, flags, bank and phone formats,
address layout, names in capitals for some systems, and line endings.

## How it was made

People live in households (single adults, couples, families, lone parents, grown-up
children at home, sharers, lodgers) in houses, converted flats and blocks of flats on
streets with real outward postcodes. Names follow British frequencies by birth era, with
the boroughs' other communities; wives mostly take the husband's surname. Life then
happens: deaths (with a Gompertz hazard), council and school employment, pensions,
housing benefit and council tax reduction claims, council tax with single person
discounts, electoral registration, social tenancies, the waiting list, right to buy,
badges, passes, permits, students, pupils, post-16 learners, admissions, free school
meals, suppliers and their invoices.

Inconsistencies are then planted for every job at a configured rate per 1,000 people, and
look-alike pairs that must not be flagged (hard negatives) beside them. An address of
convenience on a school admission is another occupied home in the school's borough, or, for
a quarter of the council tax cases, a flat the parent rents there and pays council tax on
while keeping the family home and its account. Noise is applied to
each dataset independently: typos, nicknames, initials, swapped names, maiden names,
titles inside forenames, missing or day/month-swapped dates of birth, missing NI numbers,
address abbreviations and layouts, postcode typos, capitals and stray spaces.
A few records per file are made unusable on purpose (a blank record key or a blank
required field): ingest must reject exactly those.

## The truth (`truth/`)

- `inconsistencies.csv`: every pair of records for which a job's rule holds on the *true*
  values (planted, and any the simulation made by itself). Left is the first-named
  dataset of the job.
- `hard_negatives.csv`: pairs that look alike but for which the rule does not hold, with
  why. None of them is in `inconsistencies.csv`.
- `entities.csv`: for every loadable record, the person it is about (`person_id`; a sole
  trader for a creditor) and the property (`property_id`, the true UPRN: for school
  admissions, the address the application gave).
- `invalid_rows.csv`: the records made unusable: `row` is the data row number in the file
  (1 is the first record after the header), `line` the line number, `record_id` the key
  (blank when the key is what was blanked), `field` the field blanked.

| job | left | right | planted | in truth | hard negatives |
|---|---|---|---:|---:|---:|
{jobs}

### The rules, exactly

The exercise date is {EXERCISE_DATE}; "blank" dates mean still current.

{rules}

Planted rates are per 1,000 people (defaults in `matching/synth/config.py`); this exercise
used the defaults unless `--config` was given.

## Noise

Rates are fractions of the values each kind of noise can apply to (a nickname only to a
forename that has one, a day/month swap only to a date that stays valid). Every kind of
dataset starts from the defaults; these kinds differ:

| setting | rate |
|---|---:|
{_noise_rows(rates)}
"""


def _noise_rows(rates: Rates) -> str:
    from dataclasses import fields

    rows = [f"| {f.name} | {getattr(rates.noise_default, f.name):g} |" for f in fields(rates.noise_default)]
    rows.append("")
    for kind in sorted(rates.noise_by_kind):
        changes = ", ".join(f"{k} {v:g}" for k, v in rates.noise_by_kind[kind].items())
        rows.append(f"- {kind}: {changes}")
    return "\n".join(rows)
