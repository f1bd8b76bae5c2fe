"""Job configs: every standard job loads, and a broken config names the file, the key and the fix."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from matching.errors import ConfigError
from matching.jobs.config import jobs_dir, list_jobs, load_job, load_job_file
from matching.rules.check import FORBIDDEN_IN_PRIORITY

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
ALSO_AT = 'not_if_also_linked = { where = "gamma_dob = 1", threshold = 0.5 }'


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


def test_the_good_config_loads(job_file) -> None:
    job = load_job_file(job_file(GOOD))
    assert job.left.kind == "housing_benefit" and job.right.kind == "deceased_persons"
    assert job.owning_body == "left"
    assert job.also_linked is None and job.scoring_threshold(0.95) == 0.95


def test_not_if_also_linked_scores_down_to_its_threshold(job_file) -> None:
    job = load_job_file(job_file(GOOD + ALSO_AT + "\n"))
    assert job.also_linked is not None and job.also_linked.where == "gamma_dob = 1"
    assert job.scoring_threshold(0.95) == 0.5 and job.scoring_threshold(0.3) == 0.3


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
        ((ALSO_AT, ALSO_AT.replace("0.5", "1.5")), r"rule.not_if_also_linked.threshold: 1.5 is not a probability between 0 and 1\n  Fix: not_if_also_linked = "),
        ((ALSO_AT, ALSO_AT.replace("threshold", "treshold")), r"rule.not_if_also_linked.treshold: unknown setting\n  Fix: did you mean 'threshold'\?"),
        ((ALSO_AT, ALSO_AT.replace("gamma_dob = 1", "gamma_dobb = 1")), r"rule.not_if_also_linked.where: unknown column 'gamma_dobb' \(pair\). Did you mean 'gamma_dob'\?"),
        ((ALSO_AT, ALSO_AT.replace("gamma_dob = 1", "r.uprn IN (SELECT 1)")), r"rule.not_if_also_linked.where: subqueries and statements are not allowed"),
        ((ALSO_AT, 'not_if_also_linked = "gamma_dob = 1"'), r"rule.not_if_also_linked: must be a table"),
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


def test_a_broken_comparison_is_named(job_file) -> None:
    path = job_file(GOOD + '\n[[linkage.comparisons]]\nname = "x"\ncomparison = "NameComparsion"\ncolumn = "surname"\n')
    with pytest.raises(ConfigError, match=r"linkage.comparisons\[0\].comparison: unknown comparison 'NameComparsion'\n  Fix: did you mean 'NameComparison'\?"):
        load_job_file(path)


def test_unknown_job_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match="Unknown job 'hb-to-deceasd'. Did you mean 'hb-to-deceased'?"):
        load_job("hb-to-deceasd")
