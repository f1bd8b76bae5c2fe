"""Job configs: every standard job loads, and a broken config names the file, the key and the fix."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from matching.errors import ConfigError
from matching.jobs.config import jobs_dir, list_jobs, load_job, load_job_file
from matching.rules.check import FORBIDDEN_IN_PRIORITY
from matching.rules.compile import check_types

DOMAIN_JOBS = {
    "hb-to-payroll", "ctr-to-payroll", "hb-to-deceased", "ctr-to-deceased", "pensions-to-deceased",
    "blue-badges-to-deceased", "concessionary-travel-to-deceased", "spd-to-electoral-register",
    "spd-to-post16", "payroll-to-payroll", "payroll-to-creditors", "tenants-to-tenants",
    "hb-to-student-loans", "ctr-to-student-loans", "admissions-to-council-tax",
    "admissions-to-electoral-register", "fsm-to-payroll", "duplicate-payments", "person-link",
}

GOOD = """
include = "presets/person.toml"
title = "Test job"
[datasets]
left = "housing_benefit"
right = "deceased_persons"
[rule]
where = "coalesce(l.claim_end_date, as_at) > r.date_of_death"
explanation = "Claim {l.claim_ref} after death on {r.date_of_death:date}."
"""


# rule.not_if_also_linked, as a line of GOOD's [rule] table (a test appends it, then breaks it).
ALSO_AT = 'not_if_also_linked = "gamma_dob = 1"'


@pytest.fixture
def job_file(tmp_path: Path):
    """Write a job config in an analyst's own folder; its preset comes from configs/jobs."""

    def make(text: str) -> Path:
        path = tmp_path / "my-job.toml"
        path.write_text(text)
        return path

    return make


def test_every_match_type_in_domain_has_a_job() -> None:
    assert DOMAIN_JOBS <= set(list_jobs())


@pytest.mark.parametrize("name", sorted(DOMAIN_JOBS))
def test_standard_job_loads(name: str) -> None:
    job = load_job(name)
    assert job.title and job.description
    assert 0 < job.threshold < 1


@pytest.mark.parametrize("name", sorted(DOMAIN_JOBS))
def test_standard_job_snippets_bind_with_the_types_they_need(name: str) -> None:
    check_types(load_job(name), "2026-10-01")


def test_a_date_written_as_text_is_a_date(job_file) -> None:
    """A literal date in quotes converts whatever the records hold: it is not refused."""
    check_types(load_job_file(job_file(GOOD.replace("[rule]", '[priority]\nsince = "\'2024-04-01\'"\n[rule]'))), "2026-10-01")
    with pytest.raises(ConfigError, match="priority.since: gives a value of type VARCHAR, where a date is needed"):
        check_types(load_job_file(job_file(GOOD.replace("[rule]", '[priority]\nsince = "\'soon\'"\n[rule]'))), "2026-10-01")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("coalesce(l.claim_end_date, as_at) > r.date_of_death", "l.claim_end_date > r.surname"),
         r"rule.where: compares l.claim_end_date \(a date\) with r.surname \(text\)"),
        # DuckDB binds this one (it converts the text, for every pair, at the rule stage).
        (("coalesce(l.claim_end_date, as_at) > r.date_of_death", "l.surname = r.date_of_death"),
         r"rule.where: compares l.surname \(text\) with r.date_of_death \(a date\); DuckDB would convert"),
        (("coalesce(l.claim_end_date, as_at) > r.date_of_death", "l.claim_end_date > '2024-04-01' AND l.claim_end_date > CAST(r.surname AS DATE)"),
         None),
        (("coalesce(l.claim_end_date, as_at) > r.date_of_death", "date_diff('day', l.claim_end_date, r.date_of_death)"),
         r"rule.where: gives a value of type BIGINT, where a true/false condition is needed"),
        (("[rule]", '[priority]\nsince = "r.surname"\n[rule]'),
         r"priority.since: gives a value of type VARCHAR, where a date is needed"),
        (("[rule]", '[priority]\nmoney_pence = "l.claim_ref"\n[rule]'),
         r"priority.money_pence: gives a value of type VARCHAR, where a number \(of pence, for an amount\) is needed"),
        (("{l.claim_ref} after", "{l.claim_ref:days} after"),
         r"rule.explanation \{l.claim_ref:days\}: gives a value of type VARCHAR, where a whole number \(of days\) is needed"),
        (("{l.claim_ref} after", "{l.claim_end_date:number} after"),
         r"rule.explanation \{l.claim_end_date:number\}: gives a value of type DATE, where a number"),
        (("{r.date_of_death:date}", "{r.surname:date}"),
         r"rule.explanation \{r.surname:date\}: gives a value of type VARCHAR, where a date is needed"),
        (("[rule]", '[rule.values]\ngap = "r.date_of_death - l.surname"\n[rule]'),
         r"rule.values.gap: "),
    ],
)
def test_a_snippet_of_the_wrong_type_is_refused_before_anything_is_scored(job_file, change, message) -> None:
    """A rule comparing a date with a name, or a priority date that is text, is named with
    its key when the run starts, not found at the rule stage after every pair was scored."""
    job = load_job_file(job_file(GOOD.replace(*change)))
    if message is None:  # a literal date, or a conversion on purpose: the writer's choice
        check_types(job, "2026-10-01")
        return
    with pytest.raises(ConfigError, match=message) as caught:
        check_types(job, "2026-10-01")
    assert str(caught.value).startswith(f"{job.path}: ") and "Fix:" in str(caught.value)


@pytest.mark.parametrize("name", sorted(DOMAIN_JOBS))
def test_priority_never_uses_personal_characteristics(name: str) -> None:
    path = jobs_dir() / f"{name}.toml"
    data = tomllib.loads(path.read_text())
    priority = " ".join(str(v) for v in data.get("priority", {}).values()).lower()
    for word in FORBIDDEN_IN_PRIORITY:
        assert not re.search(rf"\b\w*{word}\w*\b", priority), f"{name}: priority mentions {word}"


def test_a_priority_that_uses_age_is_refused(job_file) -> None:
    path = job_file(GOOD + '[priority]\nsince = "r.date_of_death"\nmoney_pence = "l.weekly_amount * l.age_band"\n')
    with pytest.raises(ConfigError, match=r"priority.money_pence: 'l.age_band' is a personal characteristic"):
        load_job_file(path)


def test_a_named_value_cannot_carry_age_into_the_priority(job_file) -> None:
    values = """[rule.values]\nyears = "date_diff('year', l.dob, as_at)"\n"""
    path = job_file(GOOD + values + '[priority]\nsince = "r.date_of_death"\nmoney_pence = "l.weekly_amount * years"\n')
    with pytest.raises(ConfigError, match=r"priority.money_pence: 'l.dob' is a personal characteristic"):
        load_job_file(path)


def test_a_title_may_tell_two_people_apart_in_a_rule_but_never_weigh_priority(job_file) -> None:
    """spd-to-electoral-register reads titles (Mr against Miss) to tell the account holder from
    another adult; a title says a person's sex, so priority may not read it, even by a value."""
    values = """[rule.values]\ntitles_conflict = "coalesce((l.title = 'MR') <> (l.title = 'MRS'), false)"\n"""
    path = job_file(GOOD + values + '[priority]\nsince = "r.date_of_death"\nmoney_pence = "l.weekly_amount * CASE WHEN titles_conflict THEN 2 ELSE 1 END"\n')
    with pytest.raises(ConfigError, match=r"priority.money_pence: 'l.title' is a personal characteristic"):
        load_job_file(path)
    assert load_job_file(job_file(GOOD + values)).values["titles_conflict"]


def test_a_date_of_birth_may_date_when_an_inconsistency_began(job_file) -> None:
    """spd-to-post16: a single person discount became an inconsistency the day the other
    person turned 18."""
    job = load_job_file(job_file(GOOD + '[priority]\nsince = "r.dob + INTERVAL 18 YEAR"\n'))
    assert job.since == "r.dob + INTERVAL 18 YEAR"


def test_the_good_config_loads(job_file) -> None:
    job = load_job_file(job_file(GOOD))
    assert job.left.kind == "housing_benefit" and job.right.kind == "deceased_persons"
    assert job.owning_body == "left"
    assert job.also_linked is None and job.compiled.also_linked is None
    job = load_job_file(job_file(GOOD + ALSO_AT + "\n"))
    assert job.also_linked == "gamma_dob = 1" and job.compiled.also_linked is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("left = \"housing_benefit\"", "left = \"housing_benfit\""), r"datasets.left: unknown dataset kind 'housing_benfit'\n  Fix: did you mean 'housing_benefit'\?"),
        (("where = \"coalesce(l.claim_end_date, as_at) > r.date_of_death\"", "where = \"l.claim_end > r.date_of_death\""), r"rule.where: unknown column 'l.claim_end' \(left\). Did you mean 'claim_end_date'\?\n  Columns: .*claim_ref"),
        (("where = \"coalesce(l.claim_end_date, as_at) > r.date_of_death\"", "where = \"l.claim_ref IN (SELECT 1)\""), r"rule.where: subqueries and statements are not allowed"),
        (("where = \"coalesce(l.claim_end_date, as_at) > r.date_of_death\"", "where = \"1 = 1; DROP TABLE x\""), r"rule.where: must be a single expression, found 2 statements"),
        (("where = \"coalesce(l.claim_end_date, as_at) > r.date_of_death\"", "where = \"read_csv('/etc/passwd') IS NOT NULL\""), r"rule.where: function 'READ_CSV' is not allowed"),
        (("where = \"coalesce(l.claim_end_date, as_at) > r.date_of_death\"", "where = \"x.claim_ref = 1\""), r"only l. \(left record\) and r. \(right record\) exist"),
        (("{r.date_of_death:date}", "{r.date_of_deth:date}"), r"rule.explanation \{r.date_of_deth\}: unknown column 'r.date_of_deth'"),
        (("title = \"Test job\"", "title = \"Test job\"\nowning_bdy = \"left\""), r"owning_bdy: unknown setting\n  Fix: did you mean 'owning_body'\?"),
        (("right = \"deceased_persons\"", "right = \"deceased_persons\"\nwithin_body = \"false\""), r"datasets.within_body: 'false' is not true or false\n  Fix: within_body = true \(unquoted\)"),
        (("right = \"deceased_persons\"", "right = \"housing_benefit\""), r"datasets: left and right are both housing_benefit: say which of its records to compare\n  Fix: across_bodies = true"),
        (("[rule]", "[training]\nseed = \"abc\"\n[rule]"), r"training.seed: 'abc' is not a whole number\n  Fix: seed = 42"),
        (("[rule]", "[training]\nrecall = 1.5\n[rule]"), r"training.recall: 1.5 is not between 0 and 1"),
        (("[rule]", "[training]\nu_max_pairs = \"1e7\"\n[rule]"), r"training.u_max_pairs: '1e7' is not a number"),
        (("[rule]", "[linkage]\nsubject = \"people\"\n[rule]"), r"linkage.subject: 'people' is not one of person, property, transaction"),
        ((ALSO_AT, ALSO_AT.replace("gamma_dob = 1", "gamma_dobb = 1")), r"rule.not_if_also_linked: unknown column 'gamma_dobb' \(pair\). Did you mean 'gamma_dob'\?"),
        ((ALSO_AT, ALSO_AT.replace("gamma_dob = 1", "r.uprn IN (SELECT 1)")), r"rule.not_if_also_linked: subqueries and statements are not allowed"),
        ((ALSO_AT, "not_if_also_linked = { where = \"gamma_dob = 1\" }"), r"rule.not_if_also_linked: must be a SQL condition over the other link\n  Fix: not_if_also_linked = "),
        ((ALSO_AT, ALSO_AT + "\nset_aside_unless = \"l.ni_numbr = r.ni_number\""), r"rule.set_aside_unless: unknown column 'l.ni_numbr'"),
        ((ALSO_AT, ALSO_AT + "\nset_aside_unless = 1"), r"rule.set_aside_unless: must be a SQL condition over the inconsistency's own records\n  Fix: set_aside_unless = "),
        ((ALSO_AT, 'set_aside_unless = "l.ni_number = r.ni_number"'), r"rule.set_aside_unless: says when not to set an inconsistency aside, but nothing sets one aside\n  Fix: add rule.not_if_also_linked"),
        (("{r.date_of_death:date}", "{r.date_of_death:dat}"), r"rule.explanation \{r.date_of_death:dat\}: ':dat' is not a format.\n  Fix: write \{r.date_of_death:date\}"),
        (("{r.date_of_death:date}", "{r.date_of_death:date} {oops"), r"rule.explanation: a '\{' or '\}' is not part of a \{placeholder\}"),
        (("title = \"Test job\"", "title = \"Test job\"\nowning_body = \"Bad Body'\""), r"owning_body: \"Bad Body'\" is neither left, right nor a body name"),
    ],
)
def test_config_errors_name_the_file_the_key_and_the_fix(job_file, change: tuple[str, str], message: str) -> None:
    old, new = change
    good = GOOD + ALSO_AT + "\n" if old == ALSO_AT else GOOD
    assert old in good
    path = job_file(good.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_job_file(path)
    text = str(info.value)
    assert text.startswith(str(path))
    assert re.search(message, text), text


@pytest.mark.parametrize("content", [b'title = "Caf\xe9"\n', b'include = "presets"\n'])
def test_a_job_config_that_cannot_be_read_is_named(job_file, content: bytes) -> None:
    path = job_file("")
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=r"(not UTF-8 text|is a folder, not a job config).*\n  Fix: "):
        load_job_file(path)


def test_a_broken_comparison_is_named(job_file) -> None:
    path = job_file(GOOD + '\n[[linkage.comparisons]]\nname = "x"\ncomparison = "NameComparsion"\ncolumn = "surname"\n')
    with pytest.raises(ConfigError, match=r"linkage.comparisons\[0\].comparison: unknown comparison 'NameComparsion'\n  Fix: did you mean 'NameComparison'\?"):
        load_job_file(path)


@pytest.mark.parametrize(
    ("level", "message"),
    [
        ('{ sql = "dob_l IS NULL", label = "missing", null = "yes" }', r"levels\[0\].null: 'yes' is not true or false"),
        ('{ sql = "dob_l = dob_r", label = "exact", tf_column = "dob", tf_weight = 2 }', r"levels\[0\].tf_weight: 2 is not between 0 and 1"),
    ],
)
def test_a_broken_level_is_named(job_file, level: str, message: str) -> None:
    comparison = f'\n[[linkage.comparisons]]\nname = "dob"\ncomparison = "custom"\nlevels = [{level}, {{ else = true, label = "other" }}]\n'
    with pytest.raises(ConfigError, match=r"linkage.comparisons\[0\]." + message):
        load_job_file(job_file(GOOD + comparison))


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("l.ni_number = ", r"is not valid SQL: .*\n  Fix: correct the condition: l.ni_number ="),
        ("l.dob = r.dob; DROP TABLE x", r"must be a single condition, found 2 statements"),
        ("l.surname IN (SELECT surname FROM x)", r"subqueries and statements are not allowed"),
        ("read_csv('/etc/passwd') IS NOT NULL", r"function 'read_csv' reads outside the records"),
        ("getenv('HOME') = l.surname", r"function 'getenv' reads outside the records"),
    ],
)
def test_blocking_and_level_sql_is_checked_on_load(job_file, sql: str, message: str) -> None:
    """Splink runs these as they are written: bad SQL is named on load, not met as a traceback."""
    blocking = GOOD + f'[linkage]\nblocking_rules = ["l.dob = r.dob", "{sql}"]\n'
    with pytest.raises(ConfigError, match=r"linkage.blocking_rules\[1\]: " + message):
        load_job_file(job_file(blocking))
    level = sql.replace("l.", "").replace("r.", "")
    comparison = f'\n[[linkage.comparisons]]\nname = "x"\ncomparison = "custom"\nlevels = [{{ sql = "{level}", label = "x" }}, {{ else = true, label = "other" }}]\n'
    with pytest.raises(ConfigError, match=r"linkage.comparisons\[0\].levels\[0\].sql: "):
        load_job_file(job_file(GOOD + comparison))


def test_unknown_job_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match="Unknown job 'hb-to-deceasd'. Did you mean 'hb-to-deceased'?"):
        load_job("hb-to-deceasd")


def test_not_if_also_linked_needs_a_left_and_a_right_dataset(job_file) -> None:
    across = GOOD.replace('left = "housing_benefit"\nright = "deceased_persons"', 'left = "payroll"\nright = "payroll"\nacross_bodies = true')
    across = across.replace("l.claim_end_date, as_at) > r.date_of_death", "l.date_left, as_at) > r.date_started").replace("{l.claim_ref}", "{l.employee_ref}").replace("{r.date_of_death:date}", "{r.date_started:date}")
    assert load_job_file(job_file(across)).across_bodies
    with pytest.raises(ConfigError, match=r"rule.not_if_also_linked: needs a left and a right dataset: across or within bodies"):
        load_job_file(job_file(across + ALSO_AT + "\n"))


def _explain(job, rows: list[tuple]) -> list[str]:
    """The job's explanation for (claim_ref, claim_end_date, date_of_death) rows."""
    import duckdb

    sql = job.compiled.explanation_sql("2026-10-01")
    con = duckdb.connect()
    con.execute("CREATE TABLE t (claim_ref VARCHAR, claim_end_date DATE, date_of_death DATE)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    return [r[0] for r in con.execute(
        f"SELECT {sql} FROM (SELECT claim_ref, claim_end_date, rowid AS k FROM t) l JOIN (SELECT date_of_death, rowid AS k FROM t) r USING (k) ORDER BY k"
    ).fetchall()]


def test_an_optional_part_of_the_explanation_is_left_out_when_a_value_in_it_is_missing(job_file) -> None:
    import datetime as dt

    text = GOOD.replace(
        'explanation = "Claim {l.claim_ref} after death on {r.date_of_death:date}."',
        'explanation = "Claim {l.claim_ref} was paid[ until {l.claim_end_date:date}] after a death on {r.date_of_death:date}."',
    )
    job = load_job_file(job_file(text))
    assert _explain(job, [("C1", dt.date(2026, 3, 1), dt.date(2026, 1, 2)), (None, None, None)]) == [
        "Claim C1 was paid until 1 March 2026 after a death on 2 January 2026.",
        "Claim not recorded was paid after a death on not recorded.",
    ]
    for broken in ("paid[ until {l.claim_end_date:date}", "paid[[ until]]", "paid] until"):
        with pytest.raises(ConfigError, match=r"rule.explanation: a '\[' or '\]' does not pair up"):
            _ = load_job_file(job_file(text.replace("paid[ until {l.claim_end_date:date}]", broken))).compiled


def test_days_and_numbers_read_as_a_reviewer_writes_them(job_file) -> None:
    """"1 day", not "1 days"; "1,234 days", not "1234 days"."""
    import datetime as dt

    text = GOOD.replace(
        'explanation = "Claim {l.claim_ref} after death on {r.date_of_death:date}."',
        'explanation = "Claim {l.claim_ref} was paid {gap:days} after the death ({gap:number} of them)."',
    ) + "[rule.values]\ngap = \"date_diff('day', r.date_of_death, l.claim_end_date)\"\n"
    job = load_job_file(job_file(text))
    death = dt.date(2020, 1, 1)
    assert _explain(job, [("C1", dt.date(2020, 1, 2), death), ("C2", dt.date(2023, 5, 19), death), ("C3", None, death)]) == [
        "Claim C1 was paid 1 day after the death (1 of them).",
        "Claim C2 was paid 1,234 days after the death (1,234 of them).",
        "Claim C3 was paid not recorded after the death (not recorded of them).",
    ]
    import duckdb

    number = load_job_file(job_file(text.replace("{gap:number} of them", "{l.weekly_amount:number} a week"))).compiled
    sql = number.explanation_sql("2026-10-01").replace("l.weekly_amount", "w").replace("r.date_of_death", "DATE '2020-01-01'")
    sql = sql.replace("l.claim_end_date", "DATE '2020-01-02'").replace("l.claim_ref", "'C4'")
    shown = [duckdb.sql(f"SELECT {sql} FROM (SELECT {w} AS w)").fetchall()[0][0] for w in ("37.0::DOUBLE", "37.5::DOUBLE")]
    assert shown == ["Claim C4 was paid 1 day after the death (37 a week).", "Claim C4 was paid 1 day after the death (37.5 a week)."]


def test_priority_duration_ends_when_the_inconsistency_ended(job_file) -> None:
    """A claim that ended 39 days after the death scores less for duration than one still
    in payment 200 days after, however long ago the first death was."""
    import duckdb

    text = GOOD + '[priority]\nsince = "r.date_of_death"\nuntil = "l.claim_end_date"\nstrong_identifiers = []\n'
    job = load_job_file(job_file(text))
    score, _ = job.compiled.priority_sql("2026-10-01")
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (DATE '2024-01-01', DATE '2024-02-09'), (DATE '2026-03-15', NULL)) v(d, e)")
    rows = con.execute(
        f"SELECT {score} FROM (SELECT e AS claim_end_date, rowid AS k FROM t) l "
        "JOIN (SELECT d AS date_of_death, rowid AS k, 10.0 AS match_weight FROM t) r USING (k) ORDER BY k"
    ).fetchall()
    ended, going = rows[0][0], rows[1][0]
    assert ended < going  # 39 days against 200
    with pytest.raises(ConfigError, match="priority.until: says when the inconsistency ended, but nothing says when it began"):
        _ = load_job_file(job_file(GOOD + '[priority]\nuntil = "l.claim_end_date"\n')).compiled


def test_a_blank_amount_is_unknown_money_not_nothing(job_file) -> None:
    """A claim whose weekly amount is blank scores the money part at the middle, as a job
    without money does, not as nothing at stake (which put it below every job without money)."""
    import duckdb

    text = GOOD + '[priority]\nmoney_pence = "l.weekly_amount * 52"\nstrong_identifiers = []\n'
    job = load_job_file(job_file(text))
    score, _ = job.compiled.priority_sql("2026-10-01")
    no_money = load_job_file(job_file(GOOD + "[priority]\nstrong_identifiers = []\n")).compiled.priority_sql("2026-10-01")[0]
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (NULL::BIGINT), (0::BIGINT), (10000::BIGINT)) v(w)")
    blank, nothing, hundred = (r[0] for r in con.execute(
        f"SELECT {score} FROM (SELECT w AS weekly_amount, rowid AS k FROM t) l "
        "JOIN (SELECT rowid AS k, 10.0 AS match_weight FROM t) r USING (k) ORDER BY k").fetchall())
    without = con.execute(f"SELECT {no_money} FROM (SELECT 10.0 AS match_weight) r").fetchone()[0]
    assert nothing < blank == without < hundred


def test_certain_matches_are_ordered_by_what_is_at_stake_not_by_more_certainty(job_file) -> None:
    """Once two records are all but certainly one person (odds of 10,000 to 1), more agreement
    does not outrank money: a £22,000 duplicate matched at weight 15 comes before a £16 one
    matched at weight 30. A doubtful match (weight 4, p 0.94) still comes after a certain one
    with the same money at stake."""
    import duckdb

    text = GOOD + '[priority]\nmoney_pence = "l.weekly_amount"\nstrong_identifiers = []\n'
    score, _ = load_job_file(job_file(text)).compiled.priority_sql("2026-10-01")
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1600::BIGINT, 30.0), (2200000::BIGINT, 15.0), (2200000::BIGINT, 4.0)) v(w, mw)")
    small_certain, large_certain, large_doubtful = (r[0] for r in con.execute(
        f"SELECT {score} FROM (SELECT w AS weekly_amount, rowid AS k FROM t) l "
        "JOIN (SELECT rowid AS k, mw AS match_weight FROM t) r USING (k) ORDER BY k").fetchall())
    assert large_certain > small_certain
    assert large_certain > large_doubtful


def test_a_listing_piped_to_a_file_is_not_cut_to_80_columns(tmp_path: Path) -> None:
    """`matching jobs > jobs.txt` (or a cron job's log) keeps every job's name whole, where a
    terminal of 80 columns would fold it; $COLUMNS, when set, still rules."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    listing = subprocess.run([sys.executable, "-m", "matching", "jobs"], capture_output=True, text=True, env=env,
                             cwd=tmp_path, check=True).stdout
    for name in ("admissions-to-electoral-register", "concessionary-travel-to-deceased"):
        assert f" {name} " in listing
    assert "…" not in listing
    narrow = subprocess.run([sys.executable, "-m", "matching", "jobs"], capture_output=True, text=True,
                            env=env | {"COLUMNS": "60"}, cwd=tmp_path, check=True).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 60


def test_a_jobs_config_hash_covers_the_preset_it_includes(job_file, tmp_path: Path) -> None:
    """A preset's blocking rules and comparisons are the job's: an edit to the preset is a new
    config, for the model trained on it and for evaluate's check of a run. A job without a
    preset is named by its file's own SHA-256, as before."""
    import hashlib
    import shutil

    path = job_file(GOOD)
    job = load_job_file(path)
    assert job.included is not None and job.included.name == "person.toml"
    own = tmp_path / "presets"
    own.mkdir()
    shutil.copy(job.included, own / "person.toml")  # the preset beside the job is the one it includes
    mine = load_job_file(path)
    assert mine.included == (own / "person.toml").resolve() and mine.config_hash == job.config_hash
    (own / "person.toml").write_text((own / "person.toml").read_text() + "\n# tightened\n")
    assert load_job_file(path).config_hash != job.config_hash
    plain = load_job("duplicate-payments")  # includes no preset
    assert plain.included is None and plain.config_hash == hashlib.sha256(plain.path.read_bytes()).hexdigest()


def test_a_job_may_add_blocking_rules_to_its_presets(job_file) -> None:
    """tenants-to-tenants adds contact details to presets/person.toml's rules without copying
    them, so a change to the preset reaches it too."""
    preset = load_job_file(job_file(GOOD))
    added = load_job_file(job_file(GOOD + '[linkage]\nmore_blocking_rules = ["l.email = r.email"]\n'))
    assert added.blocking_rules == (*preset.blocking_rules, "l.email = r.email")
    assert added.blocking_rules_from == preset.blocking_rules_from  # still the preset's, to tighten there
    again = GOOD + f'[linkage]\nmore_blocking_rules = ["{preset.blocking_rules[0]}"]\n'
    with pytest.raises(ConfigError, match=r"linkage.more_blocking_rules: .* is a blocking rule already"):
        load_job_file(job_file(again))
    with pytest.raises(ConfigError, match=r"linkage.more_blocking_rules: must be a non-empty list of SQL strings"):
        load_job_file(job_file(GOOD + '[linkage]\nmore_blocking_rules = "l.email = r.email"\n'))
