"""Running a job: the bundle a reviewer and the case store rely on, atomic and repeatable."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import duckdb
import pytest

from matching.errors import ConfigError, NotAnOwnerError, UserError
from matching.ingest import ingest_file
from matching.jobs import run as run_module
from matching.jobs.run import run_job
from matching.jobs.train import train_job
from matching.synth.exercise import generate

# A quick version of hb-to-deceased: same preset and rule, smaller u sample so tests are fast.
JOB = """
include = "{preset}"
title = "Housing benefit claims to deceased persons (test)"
description = "Claims still in payment after a matched death."
owning_body = "left"

[datasets]
left = "housing_benefit"
right = "deceased_persons"

[training]
u_max_pairs = 2e5

[rule]
where = "coalesce(l.claim_end_date, as_at) > r.date_of_death AND l.claim_start_date <= r.date_of_death"
explanation = "Claim {{l.claim_ref}} was in payment {{days_after}} days after a matched death on {{r.date_of_death:date}}."
values = {{ days_after = "date_diff('day', r.date_of_death, coalesce(l.claim_end_date, as_at))" }}

[priority]
since = "r.date_of_death"
money_pence = "l.weekly_amount * greatest(date_diff('day', r.date_of_death, coalesce(l.claim_end_date, as_at)), 0) / 7"
"""
PRESET = Path(__file__).resolve().parents[2] / "configs" / "jobs" / "presets" / "person.toml"


@pytest.fixture(scope="module")
def exercise(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exercise")
    generate(people=4000, seed=99, out=out, fmt="csv")
    return out


@pytest.fixture(scope="module")
def trained(exercise: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A workspace with the two kinds ingested and the test job trained. Its path holds
    quotes, as a council's share (``O'Brien's cases``) may: no path is pasted into SQL."""
    ws = tmp_path_factory.mktemp("ws") / "o'brien's \"cases\""
    manifest = tomllib.loads((exercise / "manifest.toml").read_text())
    extract = manifest["exercise"]["exercise_date"]
    import datetime as dt

    for f in manifest["files"]:
        if f["kind"] in ("housing_benefit", "deceased_persons"):
            ingest_file(f["kind"], exercise / f["file"], body=f["body"], workspace=ws, extract_date=dt.date.fromisoformat(str(extract)))
    job = tmp_path_factory.mktemp("jobs") / "test-hb-deceased.toml"
    job.write_text(JOB.format(preset=PRESET))
    train_job(str(job), workspace=ws)
    return ws, job


def read(path: Path) -> list[dict]:
    rel = duckdb.connect().execute("SELECT * FROM read_parquet(?)", [str(path)])
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def finished_runs(ws: Path) -> list[Path]:
    runs = ws / "runs"
    return sorted(p for p in runs.iterdir() if not p.name.startswith(".")) if runs.is_dir() else []


def test_the_bundle_has_pairs_inconsistencies_and_a_manifest(trained: tuple[Path, Path]) -> None:
    ws, job = trained
    result = run_job(str(job), workspace=ws)
    bundle = result.path
    assert sorted(p.name for p in bundle.iterdir()) == ["inconsistencies.parquet", "manifest.json", "pairs.parquet"]
    pairs = read(bundle / "pairs.parquet")
    assert pairs and all(p["match_probability"] >= 0.95 for p in pairs)
    assert {"left_kind", "left_body", "left_submission_id", "left_record_id", "right_record_id", "match_weight", "mw_dob", "mw_surname"} <= set(pairs[0])
    found = read(bundle / "inconsistencies.parquet")
    assert 0 < len(found) <= len(pairs)
    scores = [f["priority_score"] for f in found]
    assert scores == sorted(scores, reverse=True)
    for f in found:
        assert f["owning_body"] == f["left_body"] == "dwp"
        # The documented bands (configs/jobs/README.md): high from 80, medium from 65, else low.
        score = f["priority_score"]
        assert f["priority_band"] == ("high" if score >= 80 else "medium" if score >= 65 else "low"), score
        assert f["explanation"].startswith(f"Claim {json.loads(f['left_record'])['claim_ref']} was in payment ")
        assert "fraud" not in f["explanation"].lower()
        left = json.loads(f["left_record"])
        if left["ni_number"]:
            assert left["ni_number"].startswith("••••••") and len(left["ni_number"]) == 9
        contributions = json.loads(f["contributions"])
        weights = [c["match_weight"] for c in contributions]
        assert weights == sorted(weights, reverse=True)
        assert {c["comparison"] for c in contributions} >= {"forename", "surname", "dob"}
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["job"] == "test-hb-deceased"
    assert manifest["counts"]["inconsistencies"] == len(found)
    assert manifest["counts"]["pairs"] == len(pairs)
    assert manifest["as_at"] == "2026-10-01"  # the exercise's extract date, not today's
    assert {i["kind"] for i in manifest["inputs"]} == {"housing_benefit", "deceased_persons"}
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert len(manifest["config"]["sha256"]) == 64 and len(manifest["model"]["sha256"]) == 64


def test_training_again_on_the_same_inputs_saves_the_same_bytes(trained: tuple[Path, Path]) -> None:
    ws, job = trained
    model = ws / "models" / "test-hb-deceased.json"
    before = model.read_bytes()
    train_job(str(job), workspace=ws)
    assert model.read_bytes() == before
    assert json.loads(before)["linker_uid"].startswith("m")


def test_the_same_inputs_give_the_same_bundle(trained: tuple[Path, Path]) -> None:
    ws, job = trained
    a = run_job(str(job), workspace=ws).path
    b = run_job(str(job), workspace=ws).path
    for name in ("pairs.parquet", "inconsistencies.parquet"):
        assert read(a / name) == read(b / name)
    ma, mb = (json.loads((p / "manifest.json").read_text()) for p in (a, b))
    for volatile in ("run_id", "created_at", "timings"):
        ma.pop(volatile), mb.pop(volatile)
    assert ma == mb


def test_scoring_in_chunks_gives_the_same_bundle_and_leaves_no_chunks(trained: tuple[Path, Path]) -> None:
    ws, job = trained
    whole = run_job(str(job), workspace=ws)
    chunked = run_job(str(job), workspace=ws, chunks=(2, 3))
    assert whole.counts["scoring_chunks"] == [1, 1] and chunked.counts["scoring_chunks"] == [2, 3]
    for name in ("pairs.parquet", "inconsistencies.parquet"):
        assert read(chunked.path / name) == read(whole.path / name)
    assert sorted(p.name for p in chunked.path.iterdir()) == ["inconsistencies.parquet", "manifest.json", "pairs.parquet"]


def test_a_big_prediction_is_chunked_automatically() -> None:
    from matching.linkage.duckdb_backend import CHUNK_COMPARISONS, auto_chunks

    assert auto_chunks(2_500_000) == (1, 1)
    assert auto_chunks(CHUNK_COMPARISONS) == (1, 1)
    assert auto_chunks(CHUNK_COMPARISONS + 1) == (2, 1)
    left, right = auto_chunks(175_000_000)
    assert left * right * CHUNK_COMPARISONS >= 175_000_000 and abs(left - right) <= 1


def test_a_bad_chunk_grid_is_refused_with_the_fix(trained: tuple[Path, Path], run_cli) -> None:
    ws, job = trained
    r = run_cli("--workspace", str(ws), "run", str(job), "--chunks", "2,x")
    assert r.exit_code == 2
    assert "--chunks 2,x: not a chunk grid" in r.stderr and "--chunks 3,3" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_run_killed_midway_leaves_nothing_that_looks_finished(trained: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    ws, job = trained
    before = finished_runs(ws)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "write_bundle_tables", killed)
    with pytest.raises(KeyboardInterrupt):
        run_job(str(job), workspace=ws)
    assert finished_runs(ws) == before
    assert not [p for p in (ws / "runs").iterdir() if p.name.startswith(".partial")]
    monkeypatch.undo()
    assert run_job(str(job), workspace=ws).path.exists()


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_a_run_stopped_with_sigterm_or_ctrl_c_removes_its_partial_bundle(trained: tuple[Path, Path], stop: str) -> None:
    """kill (or a scheduler's timeout) unwinds like Ctrl-C: nothing half-written is left behind,
    and Ctrl-C (inside a DuckDB query or not) says so, without a traceback."""
    import signal
    import subprocess
    import sys
    import time

    sig = getattr(signal, stop)
    ws, job = trained
    for _ in range(3):
        before = finished_runs(ws)
        proc = subprocess.Popen(
            [sys.executable, "-m", "matching", "--workspace", str(ws), "run", str(job)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 120
        while not list((ws / "runs").glob(".partial-*")):
            assert proc.poll() is None, "the run finished before it could be stopped"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=120)
        if finished_runs(ws) == before:
            break
        # On a loaded machine this test can be held up between seeing the run's folder and
        # stopping it, long enough for the run to finish: that is not the case it is about.
    assert proc.returncode == 128 + sig
    assert "Traceback" not in stderr
    if sig == signal.SIGINT:
        assert "Interrupted: nothing half-written was left behind." in stderr
    assert not list((ws / "runs").glob(".partial-*"))
    assert finished_runs(ws) == before


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_a_stop_as_the_run_folder_is_made_leaves_nothing(
    trained: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, stop: str,
) -> None:
    """A stop arriving just after the partial folder is made, before the run knows it made it:
    seen on a loaded machine, it left the folder behind."""
    import pathlib
    import signal

    from matching.cli import _stop_on_sigterm

    ws, job = trained
    before = finished_runs(ws)
    real = pathlib.Path.mkdir

    def stopped_just_after(self: Path, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        if self.name.startswith(".partial-"):
            signal.raise_signal(getattr(signal, stop))

    monkeypatch.setattr(pathlib.Path, "mkdir", stopped_just_after)
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with pytest.raises((SystemExit, KeyboardInterrupt)):
            run_job(str(job), workspace=ws)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not list((ws / "runs").glob(".partial-*"))
    assert finished_runs(ws) == before


def test_body_keeps_only_that_bodys_inconsistencies(trained: tuple[Path, Path], exercise: Path, tmp_path: Path) -> None:
    """A body running a job for itself gets exactly its own inconsistencies: none of another
    body's, and none of its own left out."""
    import csv
    import datetime as dt

    ws, job = trained
    everyone = run_job(str(job), workspace=ws).counts["inconsistencies"]
    assert run_job(str(job), workspace=ws, body="dwp").counts["inconsistencies"] == everyone > 0
    with pytest.raises(NotAnOwnerError, match="owned by dwp"):
        run_job(str(job), workspace=ws, body="kingston")  # it submitted neither side's data
    # Kingston registers some of the same deaths too, and the body that registered a death owns
    # its inconsistency: dwp owns some, kingston others.
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy, ignore=shutil.ignore_patterns("runs", "tmp"))
    manifest = tomllib.loads((exercise / "manifest.toml").read_text())
    (deaths,) = (f for f in manifest["files"] if f["kind"] == "deceased_persons")
    with open(exercise / deaths["file"], encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    with open(tmp_path / "kingston_deaths.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows[::2]])
    extract = dt.date.fromisoformat(str(manifest["exercise"]["exercise_date"]))
    ingest_file("deceased_persons", tmp_path / "kingston_deaths.csv", body="kingston", workspace=copy, extract_date=extract)
    by_registrar = tmp_path / "test-hb-deceased.toml"
    by_registrar.write_text(job.read_text().replace('owning_body = "left"', 'owning_body = "right"'))
    found = read(run_job(str(by_registrar), workspace=copy).path / "inconsistencies.parquet")
    own = {(f["left_record_id"], f["right_record_id"]) for f in found if f["owning_body"] == "kingston"}
    assert 0 < len(own) < len(found)
    kept = read(run_job(str(by_registrar), workspace=copy, body="kingston").path / "inconsistencies.parquet")
    assert all(f["owning_body"] == f["right_body"] == "kingston" for f in kept)
    assert {(f["left_record_id"], f["right_record_id"]) for f in kept} == own


def test_a_copied_workspace_reads_its_own_files(trained: tuple[Path, Path], tmp_path: Path) -> None:
    """Submission records name the files where they were written; a workspace copied or moved
    elsewhere must read (and purge) its own, not the original's."""
    import pyarrow.parquet as pq

    ws, job = trained
    copy = tmp_path / "moved"
    shutil.copytree(ws, copy, ignore=shutil.ignore_patterns("runs", "tmp"))
    for f in (copy / "datasets" / "deceased_persons").rglob("*.parquet"):
        pq.write_table(pq.read_table(f).slice(0, 0), f)  # the copy has no deaths
    assert run_job(str(job), workspace=ws).counts["inconsistencies"] > 0
    assert run_job(str(job), workspace=copy).counts["inconsistencies"] == 0


@pytest.mark.parametrize("damage", ["cut short", "damaged inside", "deleted"])
def test_a_damaged_workspace_file_is_named_with_how_to_replace_it(trained: tuple[Path, Path], tmp_path: Path, damage: str) -> None:
    """A dataset file cut short, damaged or deleted since it was ingested stops run and train
    with the submission named and the fix, never a traceback, and leaves no run behind."""
    ws, job = trained
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy, ignore=shutil.ignore_patterns("runs", "tmp"))
    (parquet,) = (copy / "datasets" / "deceased_persons").rglob("*.parquet")
    data = bytearray(parquet.read_bytes())
    if damage == "cut short":
        parquet.write_bytes(data[:3000])
    elif damage == "damaged inside":
        data[len(data) // 3: len(data) // 3 + 400] = b"U" * 400
        parquet.write_bytes(data)
    else:
        parquet.unlink()
    for command in (run_job, train_job):
        with pytest.raises(UserError) as caught:
            command(str(job), workspace=copy)
        message = caught.value.message
        assert "a file in the workspace cannot be read" in message
        assert "deceased_persons from " in message and "(submission " in message
        assert "\n  Fix: ingest the body's file again, as before: matching ingest deceased_persons " in message
        assert " --extract-date " in message and "--force (with the same --mapping file, if one was used)." in message
    assert not list((copy / "runs").glob("*"))


def test_a_fault_in_one_job_does_not_stop_the_others(trained: tuple[Path, Path], run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, job = trained
    real = run_module.run_job

    def faulty(name: str, **kwargs: Any) -> Any:
        if name == "first":
            raise RuntimeError("something unforeseen")
        return real(str(job), **kwargs)

    monkeypatch.setattr(run_module, "run_job", faulty)
    r = run_cli("--workspace", str(ws), "run", "first", "second")
    assert r.exit_code == 2
    assert "first: failed: RuntimeError: something unforeseen" in r.stderr
    assert "Fix: run it alone (matching run first) for the details" in r.stderr
    assert "Run bundles in" in r.stdout  # the second job ran
    assert "Traceback" not in r.stderr


def test_body_must_be_one_that_can_own_the_jobs_inconsistencies(trained: tuple[Path, Path], run_cli) -> None:
    """--body is checked, never pasted into the rule: a quote once widened the filter to
    every body (and past the rule), and an unknown body ran an empty job."""
    ws, job = trained
    before = finished_runs(ws)
    injected = run_cli("--workspace", str(ws), "run", str(job), "--body", "dwp' OR '1'='1")
    assert injected.exit_code == 2
    assert "is not a valid body name" in injected.stderr
    unknown = run_cli("--workspace", str(ws), "run", str(job), "--body", "camden")
    assert unknown.exit_code == 2
    assert "owned by dwp" in unknown.stderr and "camden owns none" in unknown.stderr
    # Several jobs named: each one the body does not own is reported, and none stops the rest.
    several = run_cli("--workspace", str(ws), "run", str(job), "hb-to-deceased", "--body", "kingston")
    assert several.exit_code == 2
    assert f"{job}: --body kingston" in several.stderr and "hb-to-deceased: --body kingston" in several.stderr
    assert finished_runs(ws) == before


def test_a_memory_limit_is_taken_as_duckdb_takes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from matching.ingest import pipeline
    from matching.ingest.pipeline import check_memory_limit

    monkeypatch.setattr(pipeline, "machine_memory", lambda: 64 * 2**30)
    assert [check_memory_limit(v) for v in ("8GB", "8g", "2.5GiB", "500000000")] == ["8GB", "8G", "2.5GIB", "500000000B"]
    assert check_memory_limit("50%").endswith("MB")


def test_a_memory_limit_beyond_the_machine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond the machine's memory DuckDB never spills, and the kernel kills the run instead."""
    from matching.ingest import pipeline

    monkeypatch.setattr(pipeline, "machine_memory", lambda: 8 * 2**30)
    assert pipeline.check_memory_limit("8GiB") == "8GIB" and pipeline.check_memory_limit("100%") == "8192MB"
    for limit in ("9GB", "101%"):
        with pytest.raises(UserError, match=rf"(?s)--memory-limit {limit}: more than this machine has \(8.0 GiB\).*Fix: give at most 8192MB"):
            pipeline.check_memory_limit(limit)
    assert pipeline.default_memory_limit() == "6144MB"


@pytest.mark.parametrize("limit", ["garbage", "0", "1KB", "60MB", "0.1%", "8GB'; SELECT 1; --", "200%", "1000TB"])
def test_a_memory_limit_that_is_not_one_is_refused_before_anything_runs(trained: tuple[Path, Path], run_cli, limit: str) -> None:
    ws, job = trained
    before = finished_runs(ws)
    r = run_cli("--workspace", str(ws), "run", str(job), "--memory-limit", limit)
    assert r.exit_code == 2
    assert f"--memory-limit {limit}:" in r.stderr and "Fix: give" in r.stderr
    assert finished_runs(ws) == before and not list((ws / "runs").glob(".partial-*"))


def test_a_job_whose_datasets_are_not_ingested_says_what_to_ingest(tmp_path: Path, run_cli) -> None:
    r = run_cli("run", "pensions-to-deceased")  # (run_cli names its workspace, not the default)
    assert r.exit_code == 2
    assert "needs pensions and deceased_persons, which have not been ingested" in r.stderr
    assert f"matching --workspace {tmp_path / 'workspace'} ingest pensions FILE --body BODY" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_model_that_does_not_fit_the_config_is_refused(trained: tuple[Path, Path], tmp_path: Path) -> None:
    ws, job = trained
    changed = tmp_path / "test-hb-deceased.toml"
    changed.write_text(job.read_text().replace('u_max_pairs = 2e5', 'u_max_pairs = 2e5\n[[linkage.comparisons]]\ncomparison = "ExactMatch"\ncolumn = "uprn"'))
    with pytest.raises(UserError, match=r"the model has no comparison 'uprn'.*\n  Fix: retrain with 'matching train test-hb-deceased'"):
        run_job(str(changed), workspace=ws)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("not UTF-8", "not a readable model"),
        ("prior 5", "probability_two_random_records_match is 5, not a probability between 0 and 1"),
        ("m as text", "m_probability is 'abc', not a probability (above 0, at most 1)"),
        ("u below zero", "u_probability is -3, not a probability (above 0, at most 1)"),
    ],
)
def test_a_damaged_model_is_refused_with_the_fix(trained: tuple[Path, Path], tmp_path: Path, damage: str, said: str) -> None:
    """A model edited by hand or damaged on disk is named, with the fix, before anything runs."""
    ws, job = trained
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy, ignore=shutil.ignore_patterns("runs", "tmp"))
    (path,) = (copy / "models").glob("*.json")
    model = json.loads(path.read_text())
    level = next(lv for c in model["comparisons"] for lv in c["comparison_levels"] if not lv.get("is_null_level") and not lv.get("fix_m_probability"))
    if damage == "not UTF-8":
        path.write_bytes(b"\xff\xfe{}")
    else:
        if damage == "prior 5":
            model["probability_two_random_records_match"] = 5
        elif damage == "m as text":
            level["m_probability"] = "abc"
        else:
            level["u_probability"] = -3
        path.write_text(json.dumps(model))
    with pytest.raises(UserError) as caught:
        run_job(str(job), workspace=copy)
    assert str(path) in caught.value.message and said in caught.value.message
    assert "\n  Fix: " in caught.value.message and "matching train test-hb-deceased" in caught.value.message


@pytest.mark.parametrize(("as_at", "said"), [("1900-01-01", "is before any of the job's data was extracted (the first, "),
                                               ("2999-01-01", "is in the future")])
def test_an_as_at_date_the_data_cannot_speak_for_is_refused(trained: tuple[Path, Path], as_at: str, said: str) -> None:
    """A mistyped --as-at once judged claims as in payment -46,043 days after a death."""
    import datetime as dt

    ws, job = trained
    before = sorted(p.name for p in (ws / "runs").glob("*"))
    with pytest.raises(UserError) as caught:
        run_job(str(job), workspace=ws, as_at=dt.date.fromisoformat(as_at))
    assert caught.value.message.startswith(f"--as-at {as_at}: {said}")
    assert "\n  Fix: leave out --as-at (the run then judges as at the newest extract date, " in caught.value.message
    assert sorted(p.name for p in (ws / "runs").glob("*")) == before


def test_a_named_owner_with_no_data_here_is_noted_with_the_likely_name(trained: tuple[Path, Path], tmp_path: Path) -> None:
    """A misspelt body as owner once published its matches to a new body nobody reviews for;
    a body that reviews without submitting is legitimate, so the run says so, not refuses."""
    ws, job = trained
    owned = tmp_path / "test-hb-deceased.toml"
    owned.write_text(job.read_text().replace('owning_body = "left"', 'owning_body = "rigth"'))
    (note,) = [n for n in run_job(str(owned), workspace=ws).notes if "owning_body" in n]
    assert note.startswith("test-hb-deceased.toml: owning_body 'rigth' is no body whose data is in this workspace (bodies: ")
    assert note.endswith("publishing queues its inconsistencies for a body of that name. Did you mean 'right'? "
                         "Fix: correct owning_body if it is misspelt.")
    dwp = tmp_path / "dwp" / "test-hb-deceased.toml"
    dwp.parent.mkdir()
    dwp.write_text(job.read_text().replace('owning_body = "left"', 'owning_body = "dwp"'))
    result = run_job(str(dwp), workspace=ws)
    assert not [n for n in result.notes if "owning_body" in n]
    assert {f["owning_body"] for f in read(result.path / "inconsistencies.parquet")} == {"dwp"}


def test_a_rule_naming_an_unknown_column_lists_the_columns(trained: tuple[Path, Path], tmp_path: Path) -> None:
    ws, job = trained
    bad = tmp_path / "test-hb-deceased.toml"
    bad.write_text(job.read_text().replace("l.claim_start_date <= r.date_of_death", "l.claim_start <= r.date_of_death"))
    with pytest.raises(ConfigError, match=r"unknown column 'l.claim_start' \(left\). Did you mean 'claim_start_date'\?\n  Columns: .*claim_ref"):
        run_job(str(bad), workspace=ws)


def test_blocking_that_would_make_too_many_comparisons_is_refused_before_scoring(trained: tuple[Path, Path]) -> None:
    ws, job = trained
    before = finished_runs(ws)
    with pytest.raises(UserError) as info:
        run_job(str(job), workspace=ws, max_comparisons=10)
    message = str(info.value)
    assert "its blocking rules would make about" in message and "more than this run allows (10)" in message
    assert "l.ni_number = r.ni_number" in message
    # The test job's rules are the person preset's, which every person job includes: the fix
    # says so, and how to change them for this job alone.
    assert f"Fix: the rules come from {PRESET}, which other jobs include too" in message
    assert f"give this job its own linkage.blocking_rules in {job}" in message
    assert finished_runs(ws) == before
    own = job.with_name("own-rules.toml")
    own.write_text(job.read_text().replace("[training]", '[linkage]\nblocking_rules = ["l.dob = r.dob"]\n\n[training]'))
    from matching.jobs.config import load_job_file
    from matching.linkage.recipe import refuse_too_many

    with pytest.raises(UserError, match=rf"Fix: tighten the largest rules in {re.escape(str(own))} \(linkage.blocking_rules\)"):
        refuse_too_many(load_job_file(own), [("l.dob = r.dob", 100)], 10)


def test_the_manifest_counts_comparisons_by_blocking_rule(trained: tuple[Path, Path]) -> None:
    ws, job = trained
    counts = run_job(str(job), workspace=ws).counts
    assert counts["comparisons"] == sum(counts["comparisons_by_rule"].values()) >= counts["pairs"]
    assert counts["comparisons_counted"] == "exactly"


def test_beyond_the_exact_count_the_manifest_says_the_comparisons_were_estimated() -> None:
    """Spark counts a big job's comparisons on a sample of its records, and says so."""
    from matching.linkage.recipe import EXACT_COUNT_ROWS, counted, sample_proportion

    assert counted(sample_proportion(EXACT_COUNT_ROWS)) == "exactly"
    assert counted(sample_proportion(EXACT_COUNT_ROWS + 1)) == "estimated from a 5% sample of the records"


def test_evaluate_reports_accuracy_blocking_recall_and_a_threshold_table(trained: tuple[Path, Path], exercise: Path) -> None:
    from matching.evaluate import evaluate_run

    ws, job = trained
    bundle = run_job(str(job), workspace=ws).path
    truth_dir = exercise / "truth"
    # The test job shares hb-to-deceased's rule, so it is judged against that job's truth.
    (truth_dir / "inconsistencies.csv").write_text(
        (truth_dir / "inconsistencies.csv").read_text().replace("\nhb-to-deceased,", "\ntest-hb-deceased,")
    )
    report = evaluate_run(bundle, exercise)
    inc, link, blocking = report["inconsistencies"], report["linkage"], report["blocking"]
    assert inc["actual"] > 0 and inc["predicted"] > 0
    assert 0.8 <= inc["recall"] <= 1.0 and 0.6 <= inc["precision"] <= 1.0
    # Precision is the share of those found that are true, recall the share of the true found.
    assert 0 < inc["true_positives"] <= min(inc["predicted"], inc["actual"])
    assert inc["precision"] == pytest.approx(inc["true_positives"] / inc["predicted"], abs=1e-4)
    assert inc["recall"] == pytest.approx(inc["true_positives"] / inc["actual"], abs=1e-4)
    assert inc["f1"] == pytest.approx(2 * inc["precision"] * inc["recall"] / (inc["precision"] + inc["recall"]), abs=1e-3)
    assert link["actual"] >= inc["actual"]
    assert blocking["recall"] >= 0.95 and blocking["true_pairs"] == link["actual"]
    assert set(blocking["by_rule"]) == set(load_job_rules(job))
    # Each row counts the inconsistencies the run found at that match probability or above.
    table = report["threshold_table"]
    assert [row["threshold"] for row in table] == [report["threshold"], 0.99, 0.999]
    probabilities = [f["match_probability"] for f in read(bundle / "inconsistencies.parquet")]
    found = [row["inconsistencies_predicted"] for row in table]
    assert found == [sum(p >= row["threshold"] for p in probabilities) for row in table]
    assert found[0] == inc["predicted"]


def test_evaluate_counts_precision_recall_and_the_threshold_table_from_the_run_and_the_truth(
    trained: tuple[Path, Path], exercise: Path, tmp_path: Path,
) -> None:
    """The exercise's run finds every true inconsistency and nothing else, at probabilities all
    above 0.999, so its figures are all 1 and its threshold table all one count. Against a truth
    that leaves out 4 of those found and holds 2 never found, and with two found less certain,
    each figure is the one a reviewer would count by hand."""
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    from matching.evaluate import evaluate_run

    ws, job = trained
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy, ignore=shutil.ignore_patterns("runs", "tmp"))
    bundle = run_job(str(job), workspace=copy).path
    path = bundle / "inconsistencies.parquet"
    found = sorted(read(path), key=lambda f: (f["left_record_id"], f["right_record_id"]))
    n = len(found)
    assert n >= 6
    # found[0] (not true) at 0.97 and found[4] (true) at 0.995; the rest stay above 0.999.
    doubtful = {(found[0]["left_record_id"], found[0]["right_record_id"]): 0.97,
                (found[4]["left_record_id"], found[4]["right_record_id"]): 0.995}
    table = pq.read_table(path)
    at = table.schema.get_field_index("match_probability")
    probabilities = [doubtful.get((lid, rid), p) for lid, rid, p in zip(
        table["left_record_id"].to_pylist(), table["right_record_id"].to_pylist(), table["match_probability"].to_pylist(), strict=True)]
    pq.write_table(table.set_column(at, table.schema.field(at), pa.array(probabilities, table.schema.field(at).type)), path)
    truth = tmp_path / "exercise"
    shutil.copytree(exercise, truth)
    columns = ["job", "left_kind", "left_body", "left_record_id", "right_kind", "right_body", "right_record_id"]
    true = [["test-hb-deceased", *(f[c] for c in columns[1:])] for f in found[4:]]
    never_found = [[*true[0][:-1], f"NOT-FOUND-{i}"] for i in (1, 2)]
    with open(truth / "truth" / "inconsistencies.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([columns, *true, *never_found])
    report = evaluate_run(bundle, truth)
    assert report["inconsistencies"] == {
        "true_positives": n - 4, "predicted": n, "actual": n - 2,
        "precision": round((n - 4) / n, 4), "recall": round((n - 4) / (n - 2), 4),
        "f1": round(2 * (n - 4) / (2 * n - 2), 4),
    }
    rows = [(r["threshold"], r["inconsistencies_predicted"], r["inconsistencies_precision"], r["inconsistencies_recall"])
            for r in report["threshold_table"]]
    assert rows == [
        (report["threshold"], n, round((n - 4) / n, 4), round((n - 4) / (n - 2), 4)),
        (0.99, n - 1, round((n - 4) / (n - 1), 4), round((n - 4) / (n - 2), 4)),
        (0.999, n - 2, round((n - 5) / (n - 2), 4), round((n - 5) / (n - 2), 4)),
    ]


def load_job_rules(job: Path) -> list[str]:
    from matching.jobs.config import load_job

    return list(load_job(str(job)).blocking_rules)


@pytest.mark.parametrize("damage", ["manifest {}", "manifest gone", "inconsistencies truncated", "pairs gone", "truth columns"])
def test_evaluate_of_a_damaged_bundle_or_truth_names_the_file(trained: tuple[Path, Path], exercise: Path, tmp_path: Path,
                                                              run_cli, damage: str) -> None:
    ws, job = trained
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy, ignore=shutil.ignore_patterns("tmp"))
    bundle = copy / "runs" / run_job(str(job), workspace=copy).path.name
    truth = exercise
    what, how = damage.split(" ", 1)
    if what == "manifest":
        file = bundle / "manifest.json"
        file.write_text("{}") if how == "{}" else file.unlink()
    elif what == "truth":
        truth = tmp_path / "truth-of-another-kind"
        (truth / "truth").mkdir(parents=True)
        file = truth / "truth" / "inconsistencies.csv"
        file.write_text("a,b\n1,2\n")
        (truth / "truth" / "entities.csv").write_text("a\n1\n")
    else:
        file = bundle / f"{what}.parquet"
        file.write_bytes(file.read_bytes()[:100]) if how == "truncated" else file.unlink()
    r = run_cli("--workspace", str(copy), "evaluate", bundle.name, "--truth", str(truth))
    assert r.exit_code == 2
    assert f"{file}:" in r.stderr and "Fix:" in r.stderr


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # A value of the wrong type shows only on the data: at the rule stage, after scoring.
        ('since = "r.date_of_death"', 'since = "CAST(l.claim_ref AS DATE)"',
         "{bad}: the job's rule could not be applied to the data: Conversion Error"),
        # A rule comparing a date with a name is found when the run starts, before scoring.
        ("l.claim_start_date <= r.date_of_death", "l.claim_start_date <= r.surname",
         "{bad}: rule.where: compares l.claim_start_date (a date) with r.surname (text)"),
    ],
)
def test_a_rule_of_the_wrong_type_is_a_message_and_leaves_no_run(
    trained: tuple[Path, Path], tmp_path: Path, run_cli, old: str, new: str, message: str,
) -> None:
    ws, job = trained
    bad = tmp_path / "test-hb-deceased.toml"
    bad.write_text(job.read_text().replace(old, new))
    before = finished_runs(ws)
    r = run_cli("--workspace", str(ws), "run", str(bad))
    assert r.exit_code == 2
    assert message.format(bad=bad) in " ".join(r.stderr.split()) and "Fix:" in r.stderr
    assert finished_runs(ws) == before and not list((ws / "runs").glob(".partial-*"))


def test_evaluate_against_another_exercises_truth_is_refused(trained: tuple[Path, Path], exercise: Path, tmp_path: Path, run_cli) -> None:
    """Another exercise's record ids follow the same pattern: its truth would score every run
    as nought and look like a result. Its files are not the ones the run linked."""
    ws, job = trained
    bundle = run_job(str(job), workspace=ws).path
    other = tmp_path / "another-exercise"
    shutil.copytree(exercise, other)
    for f in other.glob("*/*.csv"):
        f.write_bytes(f.read_bytes() + b"\n")  # other bytes: another exercise's files
    r = run_cli("--workspace", str(ws), "evaluate", bundle.name, "--truth", str(other))
    assert r.exit_code == 2 and "so its truth is another exercise's" in r.stderr
    # An exercise whose files have other names (another exercise's, or FEBRL's) holds none of
    # the run's files at all: refused too, once for --latest, not once a run.
    for f in other.glob("*/*.csv"):
        if f.parent.name != "truth":
            f.rename(f.with_name("renamed-" + f.name))
    run_job(str(job), workspace=ws)
    r = run_cli("--workspace", str(ws), "evaluate", "--latest", "--truth", str(other))
    assert r.exit_code == 2 and "holds none of the files run" in r.stderr
    assert r.stderr.count("Error") == 1 and "Accuracy against truth" not in r.stdout
    assert run_cli("--workspace", str(ws), "evaluate", bundle.name, "--truth", str(exercise)).exit_code == 0


def test_evaluate_gives_no_blocking_recall_for_rules_changed_since_the_run(trained: tuple[Path, Path], exercise: Path,
                                                                         tmp_path: Path, run_cli) -> None:
    """Blocking recall is worked out again from the job's rules: after the config is edited it
    would describe the new rules (a rule added after the run would count pairs the run never
    compared), so it is not given, and the report says why. A config moved away since is named,
    with the run, rather than taken for a mistyped job."""
    from matching.evaluate import evaluate_run

    ws, job = trained
    copy = tmp_path / job.name
    shutil.copy(job, copy)
    bundle = run_job(str(copy), workspace=ws).path
    before = evaluate_run(bundle, exercise)
    assert before["blocking"]["recall"] is not None and "note" not in before
    text = copy.read_text()
    copy.write_text(text.replace("[training]", '[linkage]\nblocking_rules = ["l.surname = r.surname"]\n\n[training]'))
    assert copy.read_text() != text
    after = evaluate_run(bundle, exercise)
    assert after["blocking"]["recall"] is None and after["linkage"] == before["linkage"]
    assert "has changed since run" in after["note"] and "Run the job again" in after["note"]
    shown = run_cli("--workspace", str(ws), "evaluate", bundle.name, "--truth", str(exercise))
    assert shown.exit_code == 0 and "has changed since run" in shown.stdout
    copy.rename(tmp_path / "moved.toml")
    gone = run_cli("--workspace", str(ws), "evaluate", bundle.name, "--truth", str(exercise))
    assert gone.exit_code == 2 and f"Run {bundle.name}: its job 'test-hb-deceased' (its config was {copy}" in gone.stderr
    assert "Traceback" not in gone.stderr


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_comparison_limit_below_one_is_refused(trained: tuple[Path, Path], run_cli, value: str) -> None:
    """0 used to mean the default of three billion, and -5 refused every job as too big."""
    ws, job = trained
    r = run_cli("--workspace", str(ws), "run", str(job), "--max-comparisons", value)
    assert r.exit_code == 2 and f"Invalid value for '--max-comparisons': {value} is not in the range x>=1" in r.stderr
    with pytest.raises(UserError, match=f"--max-comparisons {value}: a run needs at least one comparison"):
        run_job(str(job), workspace=ws, max_comparisons=int(value))


def test_a_run_starting_in_the_same_second_leaves_the_other_runs_work_alone(trained: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs of the same inputs in the same second (two users, a retry) would take one
    name: the second takes the next, and never deletes the first's folder."""
    from matching.jobs import run as run_module

    ws, job = trained
    monkeypatch.setattr(run_module, "_run_id", lambda *a: "20261130T090000-test-hb-deceased-0badc0de")
    other = ws / "runs" / ".partial-20261130T090000-test-hb-deceased-0badc0de"
    (other / ".scored").mkdir(parents=True)
    (other / ".scored" / "chunk-0001.parquet").write_bytes(b"the other run's pairs")
    try:
        result = run_job(str(job), workspace=ws)
        assert result.run_id == "20261130T090000-test-hb-deceased-0badc0de-2"
        assert (other / ".scored" / "chunk-0001.parquet").read_bytes() == b"the other run's pairs"
    finally:
        shutil.rmtree(other, ignore_errors=True)


def test_runs_before_anything_is_published_lists_them_as_unpublished(trained: tuple[Path, Path]) -> None:
    """`matching runs --unpublished` is most useful before the first publish, when there is
    no case store yet: it lists the runs instead of asking for one."""
    import os
    import subprocess
    import sys

    ws, job = trained
    made = run_job(str(job), workspace=ws).run_id
    assert not (ws / "casework.sqlite3").exists()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MATCHING_WORKSPACE")}
    listed = subprocess.run([sys.executable, "-m", "matching", "--workspace", str(ws), "runs", "--unpublished", "--json"],
                            capture_output=True, text=True, env=env)
    assert listed.returncode == 0, listed.stderr
    assert made in [r["run_id"] for r in json.loads(listed.stdout)]
    assert not (ws / "casework.sqlite3").exists()  # listing made no case store


def test_inputs_extracted_far_apart_are_named_in_the_runs_notes(trained: tuple[Path, Path], exercise: Path, tmp_path: Path) -> None:
    """A file ingested without its exercise's --extract-date takes today's: the run says so,
    with each input's date and the fix, instead of quietly judging all as at the latest."""
    import datetime as dt

    ws, job = trained
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy)
    manifest = tomllib.loads((exercise / "manifest.toml").read_text())
    deaths = next(f for f in manifest["files"] if f["kind"] == "deceased_persons")
    ingest_file("deceased_persons", exercise / deaths["file"], body=deaths["body"], workspace=copy,
                extract_date=dt.date(2026, 11, 30), force=True)
    notes = run_job(str(job), workspace=copy).notes
    (note,) = [n for n in notes if n.startswith("The inputs were extracted on dates")]
    assert "deceased_persons from dwp on 30 November 2026" in note and "--extract-date" in note
    assert not [n for n in run_job(str(job), workspace=ws).notes if "extracted on dates" in n]  # one exercise: no note


def test_evaluate_latest_says_a_truth_that_fits_no_run_once(tmp_path: Path, run_cli, monkeypatch) -> None:
    """A truth folder wrong for the whole workspace is one mistake: said once, with no empty table."""
    import matching.evaluate as evaluate
    from matching.errors import UserError

    runs = [tmp_path / "runs" / f"2026110{n}T000000-job{n}-0000000{n}" for n in (1, 2, 3)]
    monkeypatch.setattr(evaluate, "latest_runs", lambda _ws: runs)

    def refuse(_run, truth):
        raise UserError(f"{truth}: no truth/inconsistencies.csv.")

    monkeypatch.setattr(evaluate, "evaluate_run", refuse)
    r = run_cli("--workspace", str(tmp_path), "evaluate", "--latest", "--truth", str(tmp_path))
    assert r.exit_code == 2
    assert r.stderr.count("no truth/inconsistencies.csv") == 1 and "Accuracy against truth" not in r.stdout
