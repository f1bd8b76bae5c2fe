"""tenants-to-tenants: a tenant of two landlords whose two records share nothing but the name
and the date of birth. A namesake does too, so the link alone is not enough; what tells them
apart is who lives at each home. A tenant who holds a second tenancy lives in one of the two
homes, and the other is lived in by people the landlord does not know of: the council's
electoral register and council tax name them there, the landlord's records there name only
the tenant, and neither the register nor council tax names the tenant."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.ingest import ingest_file
from matching.jobs.run import run_job
from tests.ingest.test_ingest import write_csv
from tests.jobs.test_also_linked import _found, _rows
from tests.jobs.test_lookups import NEIGHBOURS

JOB = "tenants-to-tenants"
HOME, LET = "128000013899", "100022017520"
TENANTS = ["person_ref", "tenancy_ref", "tenant", "title", "forenames", "surname", "dob", "address_line_1", "postcode",
           "uprn", "tenancy_start_date"]
# Other tenants, so that a name is as rare here as among a landlord's tenants: Kingston's and
# Richmond's are different people (different names).
OTHERS = {
    "kingston": [[f"TP9{i:03d}", f"RA9{i:03d}", "Y", "", forename, surname, f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}",
                  f"{i} Epsilon Road", "KT4 5EF", "", "2015-01-01"] for i, (forename, surname) in NEIGHBOURS[:300]],
    "richmond": [[f"RHP-P9{i:03d}", f"RHP9{i:03d}", "Y", "", forename, surname, f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}",
                  f"{i} Zeta Road", "TW2 5EF", "", "2016-01-01"] for i, (forename, surname) in NEIGHBOURS[300:600]],
}
MICHAEL = {
    "kingston": ["TP0012619", "RA0103633", "Y", "Mr", "Michael", "Ashbrook", "1987-09-24", "30 Derby Street", "KT3 4PJ", HOME,
                 "2026-04-05"],
    "richmond": ["RHP-P019251", "RHP0100962", "Y", "Mr", "Michael", "Ashbrook", "1987-09-24", "4 Albert Gardens", "TW1 3UL", LET,
                 "2024-09-22"],
}
ELECTORS = ["elector_number", "forenames", "surname", "address_line_1", "postcode", "uprn"]
ACCOUNTS = ["account_ref", "forenames", "surname", "address_line_1", "postcode", "uprn", "liable_from_date"]
# Michael lives at his Kingston home: registered to vote and liable for council tax there.
KINGSTON_REGISTER = [["KN1-1/0", "Michael", "Ashbrook", "30 Derby Street", "KT3 4PJ", HOME]]
KINGSTON_ACCOUNTS = [["CT1", "Michael", "Ashbrook", "30 Derby Street", "KT3 4PJ", HOME, "2026-04-05"]]
# At his Richmond tenancy live Sam Dean and Ann Tamsworth, whom the landlord does not know of.
STRANGERS = [["RA1-1/0", "Sam", "Dean", "4 Albert Gardens", "TW1 3UL", LET],
             ["RA1-2/0", "Ann", "Tamsworth", "4 Albert Gardens", "TW1 3UL", LET]]
STRANGERS_ACCOUNT = [["RCT1", "Sam", "Dean", "4 Albert Gardens", "TW1 3UL", LET, "2024-10-01"]]


def _workspace(tmp_path: Path, richmond_register: list[list[str]] | None, richmond_accounts: list[list[str]] | None,
               household: list[list[str]] | None = None, kingston: tuple[list[list[str]], list[list[str]]] | None = None) -> Path:
    """Both landlords' tenants (Richmond's with ``household`` more), and each council's register
    and council tax (Richmond's not submitted when None; Kingston's ``kingston``, else Michael's
    own registration and account at his home)."""
    ws = tmp_path / "ws"
    kingston_register, kingston_accounts = kingston or (KINGSTON_REGISTER, KINGSTON_ACCOUNTS)
    files = [("housing_tenants", "kingston", TENANTS, [MICHAEL["kingston"], *OTHERS["kingston"]]),
             ("housing_tenants", "richmond", TENANTS, [MICHAEL["richmond"], *(household or []), *OTHERS["richmond"]]),
             ("electoral_register", "kingston", ELECTORS, kingston_register),
             ("council_tax", "kingston", ACCOUNTS, kingston_accounts)]
    if richmond_register is not None:
        files.append(("electoral_register", "richmond", ELECTORS, richmond_register))
    if richmond_accounts is not None:
        files.append(("council_tax", "richmond", ACCOUNTS, richmond_accounts))
    for kind, body, header, rows in files:
        ingest_file(kind, write_csv(tmp_path / f"{kind}-{body}.csv", header, rows), body=body, workspace=ws)
    return ws


def test_a_tenancy_lived_in_by_others_makes_a_link_of_name_and_date_of_birth_an_inconsistency(tmp_path: Path) -> None:
    run = run_job(JOB, workspace=_workspace(tmp_path, STRANGERS, STRANGERS_ACCOUNT))
    assert _found(run.path, "pairs.parquet") == {("TP0012619", "RHP-P019251")}
    rows = _rows(run.path / "inconsistencies.parquet")
    assert {(r["owning_body"], r["left_record_id"], r["right_record_id"]) for r in rows} == {
        ("kingston", "TP0012619", "RHP-P019251"), ("richmond", "TP0012619", "RHP-P019251")}
    explanation = rows[0]["explanation"]
    assert "Shared besides the name" not in explanation  # nothing is, but the date of birth
    assert explanation.endswith("both tenancies are current (since 5 April 2026). At 4 ALBERT GARDENS (tenancy RHP0100962) "
                                "the electoral register and council tax name people the landlord's records do not, and "
                                "neither names the tenant.")
    # Nobody else's name is shown: the strangers are evidence, not subjects.
    assert "DEAN" not in explanation.upper() and "TAMSWORTH" not in explanation.upper()
    assert run.notes == []


def test_when_others_live_at_both_homes_one_sentence_names_both(tmp_path: Path) -> None:
    """Strangers at both tenancies: the tenant lives at neither, and both are let."""
    kingston = ([["KN1-1/0", "Rhys", "Okafor", "30 Derby Street", "KT3 4PJ", HOME]],
                [["CT1", "Rhys", "Okafor", "30 Derby Street", "KT3 4PJ", HOME, "2026-04-05"]])
    run = run_job(JOB, workspace=_workspace(tmp_path, STRANGERS, STRANGERS_ACCOUNT, kingston=kingston))
    (explanation,) = {r["explanation"] for r in _rows(run.path / "inconsistencies.parquet")}
    assert explanation.endswith("At 30 DERBY STREET (tenancy RA0103633) and at 4 ALBERT GARDENS (tenancy RHP0100962) the "
                                "electoral register and council tax name people the landlord's records do not, and neither "
                                "names the tenant.")


@pytest.mark.parametrize(
    ("register", "accounts", "household", "why"),
    [
        # His partner is registered and liable there, under his surname: it is his home, with his
        # family.
        ([["RA1-1/0", "Jane", "Ashbrook", "4 Albert Gardens", "TW1 3UL", LET]],
         [["RCT1", "Jane", "Ashbrook", "4 Albert Gardens", "TW1 3UL", LET, "2024-10-01"]], None, "family"),
        # Nobody is registered there (only elsewhere): an empty home, or one whose occupiers have
        # not registered, says nothing either way.
        ([["RA9-1/0", "Pat", "Hollis", "9 Kappa Road", "TW3 1AA", "100000000001"]], STRANGERS_ACCOUNT, None, "nobody registered"),
        # The register there spells his name another way: he is registered at the let himself.
        ([["RA1-1/0", "Michael", "Ashbrooke", "4 Albert Gardens", "TW1 3UL", LET], *STRANGERS[1:]], STRANGERS_ACCOUNT, None,
         "registered, spelt another way"),
        # He pays the council tax there himself.
        (STRANGERS, [["RCT1", "Michael", "Ashbrook", "4 Albert Gardens", "TW1 3UL", LET, "2024-10-01"]], None, "liable"),
        # The landlord knows of the others: Sam Dean is on the tenancy as a member of his
        # household, though the tenant is not registered there.
        (STRANGERS, STRANGERS_ACCOUNT,
         [["RHP-P019252", "RHP0100962", "N", "Mr", "Sam", "Dean", "1990-02-03", "4 Albert Gardens", "TW1 3UL", LET,
           "2024-09-22"]], "known household"),
        # Richmond has not submitted its register, or its council tax: the run goes ahead and says
        # which file to ingest, and what was not read is not taken to name nobody.
        (None, STRANGERS_ACCOUNT, None, "no register"),
        (STRANGERS, None, None, "no council tax"),
    ],
)
def test_otherwise_a_link_of_name_and_date_of_birth_alone_is_not_an_inconsistency(
    tmp_path: Path, register: list[list[str]] | None, accounts: list[list[str]] | None, household: list[list[str]] | None,
    why: str,
) -> None:
    """A namesake's records look the same: the link is kept, but it is not queued."""
    run = run_job(JOB, workspace=_workspace(tmp_path, register, accounts, household))
    assert _found(run.path, "pairs.parquet") == {("TP0012619", "RHP-P019251")}
    assert _found(run.path, "inconsistencies.parquet") == set(), why
    missing = "electoral_register" if register is None else "council_tax" if accounts is None else None
    if missing:
        assert any(missing in note and "richmond" in note for note in run.notes), run.notes


def test_a_tenant_without_a_date_of_birth_is_found_by_the_contact_details_both_landlords_hold(tmp_path: Path) -> None:
    """Richmond holds no date of birth for Philippa Thornscroft and Kingston no NI number; their
    addresses differ. She gave both the same email address and phone: blocking compares them."""
    kingston = ["TP0012933", "RA0103185", "Y", "", "Philippa", "Thornscroft", "1954-08-10", "42 Yew Road", "KT5 6HH", "",
                "2024-10-17"]
    richmond = ["RHP-P020933", "RHP0103185", "Y", "", "Philippa", "Thornscroft", "", "39 Weir Avenue", "TW11 4LH", "",
                "2015-08-10"]
    header = [*TENANTS, "email", "phone"]
    contact = ["philippathornscroft78@outlook.com", "02080576281"]
    ws = tmp_path / "ws"
    for body, row in (("kingston", kingston), ("richmond", richmond)):
        rows = [[*row, *contact], [*MICHAEL[body], "", ""], *([*other, "", ""] for other in OTHERS[body])]
        ingest_file("housing_tenants", write_csv(tmp_path / f"tenants-{body}.csv", header, rows), body=body, workspace=ws)
    run = run_job(JOB, workspace=ws)
    rows = [r for r in _rows(run.path / "inconsistencies.parquet") if r["left_record_id"] == "TP0012933"]
    assert {r["right_record_id"] for r in rows} == {"RHP-P020933"}
    assert "Shared besides the name: email address, phone number." in rows[0]["explanation"]
