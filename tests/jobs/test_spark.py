"""The Spark backend: the same jobs on local Spark and on DuckDB give the same bundle.

Spark gets Jaro-Winkler from Splink's similarity jar and DuckDB has its own, and the two
differ slightly, so a pair whose Jaro-Winkler sits on a level's cut-off (0.92, 0.9, 0.8) can
take a different level on each backend and a different match probability. Such a pair may
be linked on one backend and not the other only if it is close to the threshold: within
``TOLERANCE`` of it on the backend that linked it. Every other pair is linked by both, with
the same comparison levels and the same probability, and every inconsistency is the same.

The tests that run Spark need pyspark (``pip install '.[spark]'``) and Java 17, and are
skipped, saying which is missing, without them. One SparkSession serves them all.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import importlib.util
import json
import os
import shutil
import time
import tomllib
import traceback
from pathlib import Path
from typing import Any

import duckdb
import pytest

from matching.errors import UserError
from matching.ingest import ingest_file
from matching.jobs.config import load_job
from matching.jobs.run import run_job
from matching.jobs.train import train_job
from matching.linkage import spark_backend
from matching.synth.exercise import generate
from matching.workspace import Workspace

# A pair linked on one backend only must have a match probability within this of the
# threshold there (0.95 to 0.99 for the standard jobs: about 2.4 match-weight bits, the size
# of one Jaro-Winkler level's difference in weight).
TOLERANCE = 0.04
# At most this share of the pairs may differ so (all within TOLERANCE); today none do.
MAX_DIFFERING_SHARE = 0.02
# One link, one across bodies, and one that compares a list column (household_surnames) and
# sets inconsistencies aside (not_if_also_linked).
# spd-to-electoral-register: its "same premises" level rewrites the address with a regular
# expression group, which Java writes differently (on Spark every house number once became "1").
# admissions-to-council-tax looks up both a single record (the child's census entry, by UPN or
# else by name and date of birth) and lists (every phone and email registered at the account's
# UPRN, and the dates of birth of the pupils there).
JOBS = ("hb-to-deceased", "payroll-to-payroll", "admissions-to-electoral-register", "spd-to-electoral-register",
        "admissions-to-council-tax")
# pupils: the school census, in which the admissions jobs look each child up (datasets.lookups).
KINDS = {"housing_benefit", "deceased_persons", "payroll", "school_admissions", "electoral_register", "council_tax", "pupils"}


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install '.[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if not ((java_home and (Path(java_home) / "bin" / "java").exists()) or shutil.which("java")):
        return "Java is not installed (apt-get install openjdk-17-jre-headless)"
    return None


MISSING = _missing()
needs_spark = pytest.mark.skipif(MISSING is not None, reason=f"Spark tests skipped: {MISSING}")


# A quick job to train on Spark: the standard preset, a small u sample.
TRAIN_JOB = """
include = "{preset}"
title = "Housing benefit claims to deceased persons (Spark training test)"
owning_body = "left"

[datasets]
left = "housing_benefit"
right = "deceased_persons"

[training]
u_max_pairs = 1e5

[rule]
where = "coalesce(l.claim_end_date, as_at) > r.date_of_death AND l.claim_start_date <= r.date_of_death"
explanation = "Claim {{l.claim_ref}} was in payment after a matched death on {{r.date_of_death:date}}."
"""
PRESET = Path(__file__).resolve().parents[2] / "configs" / "jobs" / "presets" / "person.toml"


def _lookups_on_both(root: Path) -> dict[str, Any]:
    """tests/jobs/test_lookups.py's records (a UPN that wins over a later pupil of the same name,
    a name and date of birth two pupils share, a UPN the census lacks, lists of phones and of
    pupils' dates of birth), each side's looked-up columns read on DuckDB and on Spark."""
    from matching.linkage.inputs import load_records, select_inputs
    from tests.jobs.test_lookups import JOB, UNFOUND, _workspace

    root.mkdir()
    ws = Workspace.at(_workspace(root, census=("kingston",), applications=UNFOUND))
    job = load_job(JOB)
    inputs = select_inputs(ws, job)
    con = duckdb.connect()
    load_records(con, inputs)
    spark = spark_backend.session(ws)
    def plain(v: Any) -> Any:  # as JSON keeps it (the results are shared between test workers)
        return [plain(x) for x in v] if isinstance(v, list) else v.isoformat() if isinstance(v, dt.date) else v

    out: dict[str, Any] = {}
    for side, subs in (("left", inputs.left), ("right", inputs.right)):
        cols = [lk.prefix + c for lk in job.lookups if lk.applies_to(side) for c in lk.columns]
        rel = con.execute(f"SELECT record_id, {', '.join(cols)} FROM {side}_records")
        duck = {r[0]: {c: plain(v) for c, v in zip(cols, r[1:], strict=True)} for r in rel.fetchall()}
        frame = spark_backend._read(spark, subs, inputs.side_lookups(side)).select("record_id", *cols)
        spk = {r[0]: {c: plain(v) for c, v in zip(cols, r[1:], strict=True)} for r in frame.collect()}
        out[side] = {"duckdb": duck, "spark": spk}
    return out


def _spark_work(root: Path) -> dict[str, Any]:
    """Everything the Spark tests check, on one local[2] SparkSession, stopped at the end.

    A synthetic exercise of 20,000 people; each job run on DuckDB then on Spark; a job
    trained on Spark and run on both. Failures are kept per item, for its test to report.
    """
    out, ws = root / "exercise", root / "workspace"
    generate(people=20_000, seed=99, out=out, fmt="parquet")
    manifest = tomllib.loads((out / "manifest.toml").read_text())
    extract = dt.date.fromisoformat(str(manifest["exercise"]["exercise_date"]))
    for f in manifest["files"]:
        if f["kind"] in KINDS:
            ingest_file(f["kind"], out / f["file"], body=f["body"], workspace=ws, extract_date=extract)
    results: dict[str, Any] = {}
    t0 = time.perf_counter()
    spark_backend.session(Workspace.at(ws))
    results["start_spark_s"] = round(time.perf_counter() - t0, 1)
    try:
        for job in JOBS:
            try:
                t0 = time.perf_counter()
                duck = run_job(job, workspace=ws)
                t1 = time.perf_counter()
                spk = run_job(job, workspace=ws, backend="spark")
                t2 = time.perf_counter()
                results[job] = {"duckdb": str(duck.path), "spark": str(spk.path), "duckdb_s": round(t1 - t0, 1), "spark_s": round(t2 - t1, 1)}
            except Exception:
                results[job] = {"error": traceback.format_exc()}
        try:
            path = root / "spark-train-test.toml"
            path.write_text(TRAIN_JOB.format(preset=PRESET))
            t0 = time.perf_counter()
            report = train_job(str(path), workspace=ws, backend="spark")
            seconds = round(time.perf_counter() - t0, 1)
            results["train"] = {
                "model_path": str(report.model_path), "expected_path": str(ws / "models" / "spark-train-test.json"),
                "prior": report.prior, "seconds": seconds,
                "em_sessions": [s.blocking_rule for s in report.em_sessions],
                "parameters": report.parameters,
                "pairs_on_spark": run_job(str(path), workspace=ws, backend="spark").counts["pairs"],
                "pairs_on_duckdb": run_job(str(path), workspace=ws).counts["pairs"],
            }
        except Exception:
            results["train"] = {"error": traceback.format_exc()}
        try:
            results["lookups"] = _lookups_on_both(root / "lookups")
        except Exception:
            results["lookups"] = {"error": traceback.format_exc()}
    finally:
        spark_backend.stop()
    return results


@pytest.fixture(scope="session")
def spark_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Spark work, done once per test session even across xdist workers.

    Two JVMs on two cores would each take twice as long, so the first worker to get here
    does the work under a file lock and leaves the results for the others.
    """
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "spark-tests"
    root.mkdir(exist_ok=True)
    done = root / "results.json"
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            done.write_text(json.dumps(_spark_work(root)))
    return dict(json.loads(done.read_text()))


def read(path: Path) -> list[dict[str, Any]]:
    rel = duckdb.connect().execute(f"SELECT * FROM read_parquet('{path}')")
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def schema(path: Path) -> list[tuple[str, str]]:
    return [(n, t) for n, t, *_ in duckdb.connect().execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]


def key(row: dict[str, Any]) -> tuple[str, str, str, str]:
    return (row["left_body"], row["left_record_id"], row["right_body"], row["right_record_id"])


def gammas(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k.startswith("gamma_")}


@pytest.mark.spark
@needs_spark
@pytest.mark.parametrize("job_name", JOBS)
def test_spark_finds_the_same_inconsistencies_as_duckdb(job_name: str, spark_results: dict[str, Any]) -> None:
    result = spark_results[job_name]
    assert "error" not in result, result.get("error")
    duck, spk = Path(result["duckdb"]), Path(result["spark"])
    threshold = load_job(job_name).threshold

    manifests = {b: json.loads((p / "manifest.json").read_text()) for b, p in (("duckdb", duck), ("spark", spk))}
    assert manifests["duckdb"]["backend"] == "duckdb" and manifests["spark"]["backend"] == "spark"
    assert manifests["spark"]["spark"]["master"] == "local[2]"
    assert manifests["spark"]["versions"]["pyspark"]
    assert manifests["spark"]["counts"]["comparisons_by_rule"] == manifests["duckdb"]["counts"]["comparisons_by_rule"]
    assert manifests["spark"]["counts"]["comparisons_counted"] == manifests["duckdb"]["counts"]["comparisons_counted"] == "exactly"
    for name in ("pairs.parquet", "inconsistencies.parquet"):  # the same bundle, column for column
        assert schema(duck / name) == schema(spk / name)
    files = sorted(p.name for p in spk.iterdir())
    assert files == sorted(p.name for p in duck.iterdir())
    assert {"inconsistencies.parquet", "manifest.json", "pairs.parquet"} <= set(files)
    if load_job(job_name).lookups:  # the lookup's records were read on Spark, and decide pairs there
        assert any(i["side"] == "lookup" for i in manifests["spark"]["inputs"])
        assert any(r["gamma_census_home"] == 1 for r in read(spk / "pairs.parquet"))
        if job_name == "admissions-to-council-tax":  # a list of phones, and a list of pupils' dates of birth
            assert any(r["gamma_home_contact"] == 1 for r in read(spk / "pairs.parquet"))
            assert any(r["gamma_census_child"] == 1 for r in read(spk / "pairs.parquet"))
        assert manifests["spark"]["notes"] == manifests["duckdb"]["notes"] == []
    if load_job(job_name).also_linked:
        assert "set_aside.parquet" in files
        assert {key(r) for r in read(duck / "set_aside.parquet")} == {key(r) for r in read(spk / "set_aside.parquet")}

    figures: dict[str, Any] = {"job": job_name, "duckdb_s": result["duckdb_s"], "spark_s": result["spark_s"]}
    for name in ("pairs", "inconsistencies"):
        a = {key(r): r for r in read(duck / f"{name}.parquet")}
        b = {key(r): r for r in read(spk / f"{name}.parquet")}
        assert a, f"{job_name} linked nothing on DuckDB: the comparison would prove nothing"
        only = [(k, a[k]) for k in a.keys() - b.keys()] + [(k, b[k]) for k in b.keys() - a.keys()]
        far = [(k, r["match_probability"]) for k, r in only if r["match_probability"] - threshold > TOLERANCE]
        assert not far, f"{name} linked by one backend only, far above the threshold {threshold}: {far}"
        assert len(only) <= MAX_DIFFERING_SHARE * len(a), f"{len(only)} of {len(a)} {name} differ between the backends"
        common = a.keys() & b.keys()
        level_changes = [k for k in common if name == "pairs" and gammas(a[k]) != gammas(b[k])]
        for k in common:
            if k in level_changes:
                continue  # a Jaro-Winkler level taken differently: a different weight, by design
            assert a[k]["match_probability"] == pytest.approx(b[k]["match_probability"], abs=1e-9), k
            if name == "inconsistencies":
                for col in ("explanation", "priority_score", "priority_band", "left_record", "right_record", "owning_body"):
                    assert a[k][col] == b[k][col], (k, col)
        assert len(level_changes) <= MAX_DIFFERING_SHARE * len(a)
        figures[name] = {"duckdb": len(a), "spark": len(b), "one_backend_only": len(only), "level_changes": len(level_changes)}
    print(f"\nspark-vs-duckdb {json.dumps(figures)}")  # shown with -s: the figures the README quotes


@pytest.mark.spark
@needs_spark
def test_spark_looks_up_the_same_records_as_duckdb(spark_results: dict[str, Any]) -> None:
    """Each key in order, a person's name and date of birth two pupils share, and lists: the
    same looked-up values on both backends, record by record."""
    result = spark_results["lookups"]
    assert "error" not in result, result.get("error")
    for side in ("left", "right"):
        assert result[side]["spark"] == result[side]["duckdb"], side
    homes = {r: v["census_address_single"] for r, v in result["left"]["spark"].items()}
    assert homes == {"APP4": "6 IOTA ROAD", "APP5": None, "APP6": "7 SIGMA ROAD", "APP7": None, "APP8": None, "APP9": None}
    assert result["right"]["spark"]["CT13"]["pupils_dob"] == ["2021-03-24"]
    assert result["right"]["spark"]["CT8"]["electors_phone"] == ["07700900123", "07700900456"]


@needs_spark
def test_a_model_trained_on_spark_runs_on_both_backends(spark_results: dict[str, Any]) -> None:
    result = spark_results["train"]
    assert "error" not in result, result.get("error")
    assert result["model_path"] == result["expected_path"]
    model = json.loads(Path(result["model_path"]).read_text())
    # Saved in DuckDB's dialect like every model, so a DuckDB linker loads it as it is.
    assert model["sql_dialect"] == "duckdb"
    assert "jaro_winkler_similarity(forename_l, forename_r) >= 0.92" in json.dumps(model)
    assert 0 < result["prior"] < 1
    assert result["em_sessions"] == ["l.ni_number = r.ni_number", "l.dob = r.dob AND l.postcode = r.postcode"]
    learnt = {(p["comparison"], p["level"]): p for p in result["parameters"]}
    assert isinstance(learnt[("dob", "exact match")]["m"], float) and isinstance(learnt[("dob", "exact match")]["u"], float)
    # Both backends take only its probabilities.
    assert result["pairs_on_spark"] > 0
    assert abs(result["pairs_on_spark"] - result["pairs_on_duckdb"]) <= MAX_DIFFERING_SHARE * result["pairs_on_duckdb"] + 1
    print(f"\nspark-training {json.dumps({'seconds': result['seconds'], 'start_spark_s': spark_results['start_spark_s']})}")


# ----------------------------------------------------------------------------- no Spark needed


def test_without_pyspark_the_message_says_to_install_the_extra(monkeypatch: pytest.MonkeyPatch, run_cli: Any) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a))
    r = run_cli("run", "hb-to-deceased", "--backend", "spark")
    assert r.exit_code == 2
    assert "install the spark extra: pip install '.[spark]'" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    r = run_cli("train", "hb-to-deceased", "--backend", "spark")
    assert r.exit_code == 2 and "pip install '.[spark]'" in r.stderr


def test_without_java_the_message_says_to_install_it(monkeypatch: pytest.MonkeyPatch, run_cli: Any) -> None:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed: the pyspark message comes first")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    r = run_cli("run", "hb-to-deceased", "--backend", "spark")
    assert r.exit_code == 2
    assert "install Java 17 (apt-get install openjdk-17-jre-headless)" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


@pytest.mark.parametrize("master", ["bogus", "local[0]", "spark//host:7077", "http://example.org"])
def test_a_bad_master_url_is_refused_before_spark_starts(master: str) -> None:
    with pytest.raises(UserError, match="is not a Spark master URL"):
        spark_backend.check_master(master)


@pytest.mark.parametrize("master", ["local", "local[2]", "local[*]", "local[4,2]", "yarn", "k8s://https://10.0.0.1:6443"])
def test_good_master_urls_pass(master: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HADOOP_CONF_DIR", "/etc/hadoop/conf")
    monkeypatch.setattr(spark_backend, "_answers", lambda *a: None)  # no cluster here to answer
    spark_backend.check_master(master)


def test_a_kubernetes_or_yarn_master_that_does_not_answer_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Spark would print hundreds of lines of Java stack traces (Kubernetes) or hang (YARN)."""
    with socket_free_port() as port, pytest.raises(UserError, match=f"nothing answers at 127.0.0.1:{port}.*\n  Fix: check the Kubernetes"):
        spark_backend.check_master(f"k8s://https://127.0.0.1:{port}")
    conf = tmp_path / "hadoop-conf"
    conf.mkdir()
    monkeypatch.delenv("YARN_CONF_DIR", raising=False)
    monkeypatch.setenv("HADOOP_CONF_DIR", str(conf))
    with socket_free_port() as port:
        (conf / "yarn-site.xml").write_text(
            "<configuration><property><name>yarn.resourcemanager.hostname</name><value>127.0.0.1</value></property>"
            f"<property><name>yarn.resourcemanager.address</name><value>${{yarn.resourcemanager.hostname}}:{port}</value></property>"
            "</configuration>"
        )
        with pytest.raises(UserError, match=f"--spark-master yarn: nothing answers at 127.0.0.1:{port}.*\n  Fix: check that the YARN ResourceManager runs"):
            spark_backend.check_master("yarn")


def test_a_java_home_without_java_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Spark starts $JAVA_HOME/bin/java whatever PATH holds: a java on PATH does not help."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed: the pyspark message comes first")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(UserError, match=f"JAVA_HOME is {tmp_path / 'no-jdk'}, which holds no bin/java"):
        spark_backend.preflight(None)


def test_under_spark_submit_the_master_is_spark_submits(monkeypatch: pytest.MonkeyPatch, run_cli: Any) -> None:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed: the pyspark message comes first")
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "12345")  # as spark-submit sets for its driver
    r = run_cli("run", "hb-to-deceased", "--backend", "spark", "--spark-master", "local[2]")
    assert r.exit_code == 2
    assert "under spark-submit, the master is spark-submit's own (--master)" in r.stderr and "Traceback" not in r.stderr


def test_training_on_spark_refuses_a_duckdb_memory_limit(run_cli: Any) -> None:
    r = run_cli("train", "hb-to-deceased", "--backend", "spark", "--memory-limit", "4GB")
    assert r.exit_code == 2
    assert "--memory-limit sets DuckDB's memory, and training on Spark does not use DuckDB" in r.stderr


def test_yarn_without_its_configuration_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HADOOP_CONF_DIR", raising=False)
    monkeypatch.delenv("YARN_CONF_DIR", raising=False)
    with pytest.raises(UserError, match="HADOOP_CONF_DIR or YARN_CONF_DIR"):
        spark_backend.check_master("yarn")


def test_a_standalone_master_that_does_not_answer_is_named() -> None:
    with socket_free_port() as port, pytest.raises(UserError, match=f"nothing answers at 127.0.0.1:{port}"):
        spark_backend.check_master(f"spark://127.0.0.1:{port}")


def test_spark_master_without_the_spark_backend_is_refused(run_cli: Any) -> None:
    r = run_cli("run", "hb-to-deceased", "--spark-master", "local[2]")
    assert r.exit_code == 2
    assert "--spark-master applies only with --backend spark" in r.stderr


def test_a_regular_expression_group_in_a_replacement_is_written_as_java_reads_it() -> None:
    from matching.linkage.settings import translate

    assert translate(r"regexp_replace(a_l, '^F?([0-9]+) ', '\1 ')", "spark") == r"REGEXP_REPLACE(a_l, '^F?([0-9]+) ', '$1 ')"
    assert translate(r"regexp_replace(a_l, 'x', 'cost $5')", "spark") == r"REGEXP_REPLACE(a_l, 'x', 'cost \\$5')"


def test_jaro_winkler_becomes_the_jar_function_on_spark() -> None:
    from matching.linkage.settings import translate

    sql = translate("jaro_winkler_similarity(surname_l, surname_r) >= 0.92 AND jaro_similarity(a_l, a_r) > 0.5", "spark")
    assert sql == "JARO_WINKLER(surname_l, surname_r) >= 0.92 AND JARO_SIM(a_l, a_r) > 0.5"


class socket_free_port:
    """A local TCP port with nothing listening on it."""

    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
        s.close()
        return port

    def __exit__(self, *exc: object) -> None:
        return None
