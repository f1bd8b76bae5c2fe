"""The single person discount jobs tell the account holder from another adult at the property.
A parent and child often share a first name or an initial, and a family a surname: names alone
must not make someone else the account holder."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.ingest import ingest_file
from matching.jobs.run import run_job
from tests.ingest.test_ingest import write_csv
from tests.jobs.test_also_linked import _found

HOME = "100080011897"
ACCOUNTS = ["account_ref", "title", "forenames", "surname", "dob", "address_line_1", "postcode", "uprn", "band",
            "liable_from_date", "discount_type", "discount_start_date"]
# Neighbours' accounts, without a discount, so the property is one among many.
NEIGHBOURS = [[f"N{i:03d}", "MR", "Alan", f"Neighbour{chr(65 + i % 26)}", "", f"{i} Elm Road", "SL6 4AB", f"1000800{i:05d}", "C",
               "2015-01-01", "", ""] for i in range(1, 60)]


def _workspace(tmp_path: Path, account: list[str], kind: str, header: list[str], rows: list[list[str]]) -> Path:
    ws = tmp_path / "ws"
    ingest_file("council_tax", write_csv(tmp_path / "council_tax.csv", ACCOUNTS, [account, *NEIGHBOURS]), body="windsor-maidenhead",
                workspace=ws)
    ingest_file(kind, write_csv(tmp_path / f"{kind}.csv", header, rows), body="windsor-maidenhead", workspace=ws)
    return ws


ELECTORS = ["elector_number", "title", "forenames", "surname", "address_line_1", "postcode", "uprn", "registered_date"]
SHELSGATE = ["00032861", "MR", "D", "Shelsgate", "", "Top Floor Flat 49 Wellington Gardens", "SL6 3TZ", HOME, "C", "2025-11-25",
             "SPD", "2026-04-27"]


@pytest.mark.parametrize(
    ("elector", "flagged"),
    [
        # His daughter: the same initial, but Miss against his Mr.
        (["WA1-34/0", "MISS", "Delia", "Shelsgate", "Top Floor Flat 49 Wellington Gardens", "SL6 3TZ", HOME, "2026-02-06"], True),
        # Mr David Shelsgate, registered soon after he moved in: the account holder himself.
        (["WA1-35/0", "MR", "David", "Shelsgate", "Top Floor Flat 49 Wellington Gardens", "SL6 3TZ", HOME, "2025-12-01"], False),
        # No titles to tell them apart: the same initial is taken to be him.
        (["WA1-36/0", "", "Delia", "Shelsgate", "Top Floor Flat 49 Wellington Gardens", "SL6 3TZ", HOME, "2026-02-06"], False),
    ],
)
def test_an_elector_of_the_account_holders_initial_and_the_other_sexs_title_is_another_adult(
    tmp_path: Path, elector: list[str], flagged: bool,
) -> None:
    run = run_job("spd-to-electoral-register", workspace=_workspace(tmp_path, SHELSGATE, "electoral_register", ELECTORS,
                                                                    [elector]))
    assert ("00032861", elector[0]) in _found(run.path, "pairs.parquet")
    assert (("00032861", elector[0]) in _found(run.path, "inconsistencies.parquet")) is flagged


LEARNERS = ["learner_ref", "forenames", "surname", "dob", "ni_number", "address_line_1", "postcode", "uprn", "provider", "mode",
            "course_start_date"]
NORTHSCOTT = ["500010537", "MS", "Celia", "Northscott", "", "Ground Floor Flat 53 Park Road", "SL6 2SE", HOME, "C", "2013-09-13",
              "SPD", "2020-09-02"]


@pytest.mark.parametrize(
    ("account_dob", "flagged"),
    [
        # Her daughter Celia O'Brien turned 18 in 2026, six years into the discount: she was 12
        # when it began, so she is not the liable person, whose first name she shares.
        ("", True),
        # The account gives the learner's own date of birth: the records say one person (the
        # dates are then wrong somewhere), so no other adult is shown.
        ("2008-09-16", False),
    ],
)
def test_a_learner_who_shares_the_account_holders_first_name_but_turned_18_during_the_discount_is_another_adult(
    tmp_path: Path, account_dob: str, flagged: bool,
) -> None:
    account = [*NORTHSCOTT[:4], account_dob, *NORTHSCOTT[5:]]
    learner = ["L0010470", "Celia", "O'Brien", "2008-09-16", "QQ123456C", "Ground Floor Flat 53 Park Road", "SL6 2SE", HOME,
               "Windsor College", "FT", "2024-09-01"]
    run = run_job("spd-to-post16", workspace=_workspace(tmp_path, account, "post16_learners", LEARNERS, [learner]))
    assert ("500010537", "L0010470") in _found(run.path, "pairs.parquet")
    assert (("500010537", "L0010470") in _found(run.path, "inconsistencies.parquet")) is flagged


@pytest.mark.parametrize(
    ("forename", "flagged"),
    [
        # Colette Evans took on the home, alone, on her 18th birthday: she is the account holder.
        ("Colette", False),
        # Her twin sister, who turned 18 the same day, is another adult there.
        ("Mabel", True),
    ],
)
def test_a_learner_who_took_on_the_home_on_their_18th_birthday_is_the_account_holder_by_name(
    tmp_path: Path, forename: str, flagged: bool,
) -> None:
    account = ["CT00018752", "MISS", "Colette", "Evans", "", "Flat 2 Mill House", "SL6 7QQ", HOME, "A", "2026-07-13", "SPD",
               "2026-07-13"]
    learner = ["00018524", forename, "Evans", "2008-07-13", "QQ654321C", "Flat 2 Mill House", "SL6 7QQ", HOME,
               "Windsor College", "FT", "2024-09-01"]
    run = run_job("spd-to-post16", workspace=_workspace(tmp_path, account, "post16_learners", LEARNERS, [learner]))
    assert ("CT00018752", "00018524") in _found(run.path, "pairs.parquet")
    assert (("CT00018752", "00018524") in _found(run.path, "inconsistencies.parquet")) is flagged
