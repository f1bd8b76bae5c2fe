"""The analysts' Python tools (``matching.evaluate``) as a notebook uses them: what they
report, and what they leave alone, on the sample exercise."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tomllib
from pathlib import Path

import pyarrow as pa
import pytest

from matching.errors import UserError
from matching.evaluate import blocking, thresholds
from matching.evaluate.labels import accuracy_table, register_labels
from matching.evaluate.session import analysis_workspace, open_session, scratch_workspace
from matching.ingest import ingest_file
from matching.jobs.config import load_job
from matching.jobs.run import run_job
from matching.specs import configs_dir
from tests.conftest import written_files

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
KINDS = ("housing_benefit", "deceased_persons", "trade_creditor_payments")


@pytest.fixture(scope="module")
def sample_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample exercise's housing benefit, deaths and supplier payments, ingested."""
    ws = tmp_path_factory.mktemp("analyst") / "workspace"
    manifest = tomllib.loads((SAMPLE / "manifest.toml").read_text(encoding="utf-8"))
    extract = dt.date.fromisoformat(str(manifest["exercise"]["exercise_date"]))
    for f in manifest["files"]:
        if f["kind"] in KINDS:
            ingest_file(f["kind"], SAMPLE / f["file"], body=f["body"], workspace=ws, extract_date=extract)
    return ws


def snapshot(ws: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(ws)): (p.stat().st_size, p.stat().st_mtime_ns) for p in written_files(ws)}


# Exploratory work happens in a scratch workspace -------------------------------------------


def test_runs_models_and_ingests_in_a_scratch_workspace_leave_the_workspace_as_it_was(sample_ws: Path) -> None:
    before = snapshot(sample_ws)
    scratch = scratch_workspace(sample_ws)
    run = run_job("hb-to-deceased", workspace=scratch, threshold=0.2)
    with open_session("hb-to-deceased", workspace=scratch) as session:
        saved = session.save_model()
    ingest_file("deceased_persons", SAMPLE / "dwp" / "deceased_persons.csv", body="dwp", workspace=scratch, force=True)

    assert snapshot(sample_ws) == before  # no run to publish, no model for later runs, no submission
    assert not (sample_ws / "runs").exists() and not (sample_ws / "models").exists()
    assert run.path.parent == scratch.runs and saved == scratch.models / "hb-to-deceased.json"
    # The model is named after the job's config, as `matching train` names it.
    assert json.loads(saved.read_text())["linker_uid"] == f"m{load_job('hb-to-deceased').config_hash[:7]}"
    # The scratch workspace reads the workspace's submissions.
    assert {p.name for p in scratch.submissions.iterdir()} >= {p.name for p in (sample_ws / "submissions").iterdir()}


def test_a_scratch_workspace_starts_with_the_workspaces_own_models(sample_ws: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(sample_ws, ws)
    (ws / "models").mkdir()
    shutil.copy(configs_dir() / "models" / "hb-to-deceased.json", ws / "models" / "hb-to-deceased.json")
    scratch = scratch_workspace(ws)
    assert (scratch.models / "hb-to-deceased.json").read_bytes() == (ws / "models" / "hb-to-deceased.json").read_bytes()


# MATCHING_WORKSPACE in a notebook ------------------------------------------------------------


def test_a_relative_matching_workspace_is_taken_from_the_project_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make notebook` starts Jupyter in notebooks/: workspace/demo still means the project's."""
    (tmp_path / "workspace" / "demo").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setattr("matching.evaluate.session.project_root", lambda: tmp_path)
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setenv("MATCHING_WORKSPACE", "workspace/demo")
    assert analysis_workspace().root == (tmp_path / "workspace" / "demo").resolve()


def test_a_matching_workspace_that_does_not_exist_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("matching.evaluate.session.project_root", lambda: tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MATCHING_WORKSPACE", "workspace/dmeo")
    with pytest.raises(UserError) as caught:
        analysis_workspace()
    message = str(caught.value)
    assert f"MATCHING_WORKSPACE=workspace/dmeo: there is no workspace at {tmp_path.resolve() / 'workspace' / 'dmeo'}" in message
    assert "relative path is taken from the project folder" in message and "Fix:" in message
    assert not (tmp_path / "workspace").exists()


# Blocking recall from labels -------------------------------------------------------------------


def _labels(pairs: list[tuple[str, str, float, str]]) -> pa.Table:
    return pa.table({
        "source_dataset_l": ["left"] * len(pairs), "unique_id_l": [p[0] for p in pairs],
        "source_dataset_r": ["right"] * len(pairs), "unique_id_r": [p[1] for p in pairs],
        "clerical_match_score": [p[2] for p in pairs], "job": [p[3] for p in pairs],
    })


def test_blocking_recall_from_a_labels_file_of_several_jobs_counts_only_the_jobs_pairs(sample_ws: Path) -> None:
    with open_session("hb-to-deceased", workspace=sample_ws) as session:
        truth = blocking.true_pairs_from_truth(session, SAMPLE).to_pylist()
        from_truth = blocking.blocking_recall(session, blocking.true_pairs_from_truth(session, SAMPLE))[-1]
        # Every true pair labelled "same", and as many "same" labels of another job, whose
        # records (payroll) are not this job's.
        labels = _labels([(p["unique_id_l"], p["unique_id_r"], 1.0, "hb-to-deceased") for p in truth]
                         + [(f"dwp/HB{i:08d}", f"kingston/E{i:06d}", 1.0, "hb-to-payroll") for i in range(len(truth))])
        recall = blocking.blocking_recall(session, blocking.true_pairs_from_labels(labels))[-1]
    assert len(truth) == 26
    assert recall["known_pairs"] == 26 and recall["true_pairs_so_far"] == 26
    assert recall["recall"] == from_truth["recall"] == 1.0


def test_comparison_counts_and_blocking_recall_merge_into_one_readable_table(sample_ws: Path) -> None:
    with open_session("hb-to-deceased", workspace=sample_ws) as session:
        counts = blocking.comparison_counts(session)
        recall = blocking.blocking_recall(session, blocking.true_pairs_from_truth(session, SAMPLE))
    shared = set(counts[0]) & set(recall[0])
    assert shared == {"rule"}  # no cumulative_x / cumulative_y once merged on the rule


# "Not sure" labels -------------------------------------------------------------------------------


def test_a_not_sure_label_is_left_out_of_accuracy(sample_ws: Path) -> None:
    """One same, one not sure, one not the same (three pairs the model scores as matches): the
    not sure is neither a true nor a false positive."""
    with open_session("hb-to-deceased", workspace=sample_ws) as session:
        a, b, c = sorted((p["unique_id_l"], p["unique_id_r"]) for p in blocking.true_pairs_from_truth(session, SAMPLE).to_pylist())[:3]
        table = register_labels(session, _labels([(*a, 1.0, "hb-to-deceased"), (*b, 0.5, "hb-to-deceased"),
                                                  (*c, 0.0, "hb-to-deceased")]))
        figures = accuracy_table(session, table, 0.5)
    assert (figures["labels"], figures["tp"], figures["fp"], figures["fn"]) == (2, 1, 1, 0)
    assert figures["precision"] == 0.5


# Thresholds for a job within one body --------------------------------------------------------------


def test_threshold_tools_work_for_a_job_within_one_body(sample_ws: Path) -> None:
    """duplicate-payments links a body's payments to each other (no sides): its true pairs are
    the truth's duplicate payments, and the accuracy table, the errors listed and the figures
    at a threshold agree."""
    with open_session("duplicate-payments", workspace=sample_ws) as session:
        true_pairs = blocking.true_pairs_from_truth(session, SAMPLE)
        labels = thresholds.labels_from_truth(session, true_pairs)
        rows = thresholds.accuracy_rows(session, labels)
        errors = thresholds.errors_at(session, true_pairs, 0.9, limit=1000)
    assert true_pairs.num_rows == 15
    at = thresholds.figures_at(rows, 0.9)
    assert (at["tp"], at["fp"], at["fn"]) == (15, 3, 0)
    assert len(errors["false_links"]) == at["fp"] and len(errors["missed"]) == at["fn"]
    assert all(link["match_probability"] >= 0.9 for link in errors["false_links"])


@pytest.mark.parametrize("job", ["hb-to-deceased", "duplicate-payments"])
def test_the_figures_at_the_chosen_threshold_are_what_a_run_at_it_finds(sample_ws: Path, job: str) -> None:
    """The accuracy table has a row per score a pair has (not per match weight rounded to a
    tenth, Splink's default), and the threshold chosen from it is rounded down: so the
    figures notebook 03 prints for it are those of a run at it."""
    from matching.evaluate import evaluate_run

    scratch = scratch_workspace(sample_ws)
    with open_session(job, workspace=scratch) as session:
        true_pairs = blocking.true_pairs_from_truth(session, SAMPLE)
        rows = thresholds.accuracy_rows(session, thresholds.labels_from_truth(session, true_pairs))
        scores = {round(p, 12) for (p,) in session.con.execute(
            f"SELECT match_probability FROM {session.predict().physical_name}").fetchall()}
    assert {round(r["match_probability"], 12) for r in rows} <= scores
    for probability in sorted({r["match_probability"] for r in rows if 0.5 <= r["match_probability"] < 0.999})[:5]:
        chosen = thresholds.choose_threshold(probability)
        assert chosen <= probability
        at = thresholds.figures_at(rows, chosen)
        run = run_job(job, workspace=scratch, threshold=chosen)
        assert run.counts["pairs"] == at["tp"] + at["fp"], (job, chosen)  # every pair the run links
        report = evaluate_run(run.path, SAMPLE)
        if "linkage" in report:  # (a person job: its true pairs among them)
            assert report["linkage"]["true_positives"] == at["tp"], (job, chosen)


def test_another_exercises_truth_is_refused_naming_the_workspace_analysed(sample_ws: Path, tmp_path: Path) -> None:
    """A notebook's truth defaults to the sample's: against another exercise's workspace its
    record ids (of the same pattern) would give every figure as nought, as `matching evaluate`
    refuses. The message names the workspace the analyst chose, not the scratch copy."""
    other = tmp_path / "another-exercise"
    shutil.copytree(SAMPLE, other)
    for f in other.glob("*/*.csv"):
        f.write_bytes(f.read_bytes() + b"\n")  # other bytes: another exercise's files
    with open_session("hb-to-deceased", workspace=scratch_workspace(sample_ws)) as session:
        with pytest.raises(UserError, match="none of its files is one hb-to-deceased's inputs in") as refused:
            blocking.true_pairs_from_truth(session, other)
        assert str(sample_ws) in refused.value.message and "MATCHING_TRUTH" in refused.value.message
        assert blocking.true_pairs_from_truth(session, SAMPLE).num_rows > 0


def test_a_scratch_copy_of_a_workspace_without_the_inputs_names_the_workspace_and_its_fix(tmp_path: Path) -> None:
    import shlex

    empty = tmp_path / "o'brien's \"cases\""  # quoted in the fix, as a shell needs it
    empty.mkdir()
    with pytest.raises(UserError) as refused:
        open_session("hb-to-deceased", workspace=scratch_workspace(empty))
    message = refused.value.message
    assert f"not been ingested into {empty}" in message and f"matching --workspace {shlex.quote(str(empty))} ingest" in message
    assert "matching-scratch" not in message


@pytest.mark.parametrize(("best", "chosen"), [(0.82962, 0.829), (0.831, 0.831), (0.8299999999, 0.829), (0.2, 0.5), (0.99995, 0.999)])
def test_a_threshold_is_chosen_at_or_below_the_best_score(best: float, chosen: float) -> None:
    assert thresholds.choose_threshold(best) == chosen


def test_the_best_f1_and_the_chosen_threshold_each_have_their_own_figures() -> None:
    """The best F1 may be below the lowest threshold a job may use: the figures printed for the
    chosen threshold are its own, not the best's."""
    rows = [
        {"match_probability": 0.159, "tp": 208, "fp": 5, "fn": 2, "p": 210, "f1": 2 * 208 / (2 * 208 + 5 + 2)},
        {"match_probability": 0.517, "tp": 205, "fp": 3, "fn": 5, "p": 210, "f1": 2 * 205 / (2 * 205 + 3 + 5)},
        {"match_probability": 0.990, "tp": 150, "fp": 0, "fn": 60, "p": 210, "f1": 2 * 150 / (2 * 150 + 60)},
    ]
    assert thresholds.best_f1(rows)["match_probability"] == 0.159
    chosen = thresholds.figures_at(rows, 0.5)
    assert (chosen["tp"], chosen["fp"], chosen["fn"]) == (205, 3, 5)
    assert chosen["f1"] == pytest.approx(0.9808612)
    assert thresholds.figures_at(rows, 0.999) == {"threshold": 0.999, "tp": 0, "fp": 0, "fn": 210,
                                                  "precision": None, "recall": 0.0, "f1": 0.0}


# A model is its job's ---------------------------------------------------------------------------------


def test_a_model_trained_for_another_job_is_refused_naming_both(sample_ws: Path) -> None:
    other = configs_dir() / "models" / "hb-to-payroll.json"
    with pytest.raises(UserError) as caught:
        open_session("hb-to-deceased", workspace=sample_ws, model=other)
    message = str(caught.value)
    assert f"{other}: this model was trained for the job 'hb-to-payroll', not 'hb-to-deceased'" in message
    assert "Fix: use hb-to-deceased's own model: train it with 'matching train hb-to-deceased'" in message


def test_a_run_refuses_another_jobs_model_in_the_workspace(sample_ws: Path, run_cli, tmp_path: Path) -> None:
    scratch = scratch_workspace(sample_ws)
    scratch.models.mkdir(exist_ok=True)
    shutil.copy(configs_dir() / "models" / "hb-to-payroll.json", scratch.models / "hb-to-deceased.json")
    with pytest.raises(UserError, match=r"trained for the job 'hb-to-payroll', not 'hb-to-deceased'"):
        run_job("hb-to-deceased", workspace=scratch)
    assert scratch.run_folders() == []


def test_a_model_of_the_same_job_is_judged_by_its_comparisons_as_before(sample_ws: Path, tmp_path: Path) -> None:
    """An edited copy of a job's config is the same job: a model from before the edit is
    accepted while its comparisons fit, and refused with 'retrain' when they do not."""
    shipped = configs_dir() / "models" / "hb-to-deceased.json"
    text = (configs_dir() / "jobs" / "hb-to-deceased.toml").read_text(encoding="utf-8")
    folder = tmp_path / "jobs"
    folder.mkdir()
    edited = folder / "hb-to-deceased.toml"
    edited.write_text(text + "\n# edited\n", encoding="utf-8")  # its presets come from configs/jobs
    with open_session(str(edited), workspace=sample_ws, model=shipped) as session:
        assert session.model is not None
    edited.write_text(edited.read_text(encoding="utf-8").replace("[rule]", '[[linkage.comparisons]]\ncomparison = "ExactMatch"\ncolumn = "uprn"\n\n[rule]', 1),
                      encoding="utf-8")
    with pytest.raises(UserError, match=r"the model has no comparison 'uprn'.*\n  Fix: retrain with 'matching train hb-to-deceased'"):
        open_session(str(edited), workspace=sample_ws, model=shipped)


# evaluate_run takes paths as strings ------------------------------------------------------------------


def test_evaluate_run_takes_str_paths(sample_ws: Path) -> None:
    from matching.evaluate import evaluate_run

    run = run_job("hb-to-deceased", workspace=scratch_workspace(sample_ws))
    report = evaluate_run(str(run.path), str(SAMPLE))
    assert report["job"] == "hb-to-deceased"
    assert report["blocking"]["true_pairs"] == 26 and report["linkage"]["recall"] == 1.0


# labels export does not create a workspace --------------------------------------------------------------


def test_labels_export_refuses_a_workspace_that_does_not_exist(workspace: Path, run_cli, tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    result = run_cli("labels", "export", "--out", str(out))
    assert result.exit_code == 2
    assert f"There is no workspace at {workspace}, so nothing to read." in result.stderr
    assert "--workspace DIR" in result.stderr and "Traceback" not in result.stderr
    assert not workspace.exists() and not out.exists()
