"""Training and prediction with Splink on Spark, through Splink's SparkAPI.

The same job config, the same standardised Parquet, the same run bundle as on DuckDB:

- settings are built for Spark from the job config (``build_settings(job, "spark")``) and the
  trained m and u probabilities are copied onto them (``apply_model``): a model JSON holds
  DuckDB SQL, which does not run on Spark. A model trained here is saved the same way, Spark's
  probabilities on settings built for DuckDB, so every model on disk is in DuckDB's dialect;
- Spark scores the pairs and writes them to Parquet in the workspace; the rule, explanation and
  priority then run on DuckDB over that Parquet (``matching.jobs.run.write_bundle_tables``), so
  rules behave identically whichever backend linked.

Jaro and Jaro-Winkler are not Spark SQL functions (3.5 nor 4.x): Splink registers them, with
Damerau-Levenshtein, from the similarity jar its wheel ships (``scala-udf-similarity``, in
``splink/internals/files/spark_jars/``), which the session loads from that local file through
``spark.jars``: nothing is fetched. The jar's Jaro-Winkler differs slightly from DuckDB's, so
pairs scored within a whisker of the threshold may fall on different sides of it.

pyspark is an optional extra (``pip install '.[spark]'``) and Spark needs Java 17: both are
checked before anything starts, with the fix in the message.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matching.errors import UserError
from matching.jobs.config import JobConfig, first_key_found, is_person_key
from matching.linkage.duckdb_backend import (
    EMSession,
    TrainResult,
    splink_log,
)
from matching.linkage.inputs import MAX_LIST, JobInputs, check_columns, side_projection
from matching.linkage.recipe import count_by_rule, refuse_too_many, run_recipe, untrained_levels
from matching.linkage.settings import (
    CARRIED_COLUMNS,
    apply_model,
    build_settings,
    linkage_columns,
    prediction_settings,
    settings_dict,
)
from matching.workspace import Workspace, claim, remove_at_exit

DEFAULT_MASTER = "local[2]"
DRIVER_MEMORY = os.environ.get("MATCHING_SPARK_DRIVER_MEMORY", "4g")
# Beyond this many comparisons a local Spark run would take hours: the same guard as DuckDB's.
DEFAULT_MAX_COMPARISONS = 3_000_000_000

_MASTER = re.compile(
    r"^(local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?"
    r"|local-cluster\[\d+,\s*\d+,\s*\d+\]"
    r"|yarn"
    r"|(spark|mesos)://[^\s/]+(,[^\s/]+)*"
    r"|k8s://\S+)$"
)
_SPARK_URL = re.compile(r"^spark://([^\s:/,]+):(\d+)$")


# ----------------------------------------------------------------------------- environment


def check_environment() -> None:
    """pyspark and Java are there, or a UserError saying how to install them."""
    if importlib.util.find_spec("pyspark") is None:
        raise UserError(
            "The Spark backend needs pyspark, which is not installed.\n"
            "  Fix: install the spark extra: pip install '.[spark]'"
        )
    java_home = os.environ.get("JAVA_HOME")
    if java_home and not any((Path(java_home) / "bin" / name).exists() for name in ("java", "java.exe")):
        # Spark starts $JAVA_HOME/bin/java when JAVA_HOME is set, whatever PATH holds.
        raise UserError(
            f"JAVA_HOME is {java_home}, which holds no bin/java: Spark starts Java from JAVA_HOME before PATH.\n"
            "  Fix: point JAVA_HOME at a Java 17 installation (e.g. /usr/lib/jvm/java-17-openjdk-amd64), or unset it."
        )
    if not (java_home or shutil.which("java")):
        raise UserError(
            "The Spark backend needs Java, and no java is on PATH (nor in $JAVA_HOME).\n"
            "  Fix: install Java 17 (apt-get install openjdk-17-jre-headless)"
        )


def java_used() -> str:
    """The java Spark will start: $JAVA_HOME's, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    return str(Path(java_home) / "bin" / "java") if java_home else (shutil.which("java") or "java")


def check_master(master: str) -> None:
    """A master URL Spark understands, and for a standalone cluster one that answers."""
    if not _MASTER.match(master):
        raise UserError(
            f"--spark-master {master!r} is not a Spark master URL.\n"
            "  Fix: use local[2] (this machine, 2 cores), local[*], spark://HOST:7077, yarn or k8s://https://HOST:PORT."
        )
    if master == "yarn" and not (os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")):
        raise UserError(
            "--spark-master yarn: Spark finds YARN through HADOOP_CONF_DIR or YARN_CONF_DIR, and neither is set.\n"
            "  Fix: export HADOOP_CONF_DIR=/etc/hadoop/conf (the cluster's client configuration), or use spark-submit."
        )
    # A master that does not answer makes Spark retry for a minute and hang (standalone,
    # YARN) or print hundreds of lines of Java stack traces (Kubernetes): try it first.
    m = _SPARK_URL.match(master)
    if m:
        _answers(master, m.group(1), int(m.group(2)), "start the Spark master (sbin/start-master.sh), or check the host and port")
    elif master.startswith("k8s://"):
        api = master[len("k8s://"):]
        url = urllib.parse.urlsplit(api if "://" in api else "https://" + api)
        try:
            port = url.port or (80 if url.scheme == "http" else 443)
        except ValueError:
            port = None
        if not url.hostname or port is None:
            raise UserError(
                f"--spark-master {master!r} is not a Spark master URL: the Kubernetes API server's address is not HOST:PORT.\n"
                "  Fix: use k8s://https://HOST:PORT (kubectl cluster-info shows it)."
            )
        _answers(master, url.hostname, port, "check the Kubernetes API server's address (kubectl cluster-info)")
    elif master == "yarn":
        where = _resource_manager()
        if where:
            _answers(master, *where, "check that the YARN ResourceManager runs, and HADOOP_CONF_DIR or YARN_CONF_DIR")


def _answers(master: str, host: str, port: int, fix: str) -> None:
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise UserError(
            f"--spark-master {master}: nothing answers at {host}:{port} ({exc.strerror or exc}).\n  Fix: {fix}."
        ) from None


def _resource_manager() -> tuple[str, int] | None:
    """The YARN ResourceManager's address from the client configuration (yarn-site.xml), as
    Hadoop reads it: yarn.resourcemanager.address, else its hostname and port 8032."""
    import xml.etree.ElementTree as ET

    props: dict[str, str] = {}
    for var in ("YARN_CONF_DIR", "HADOOP_CONF_DIR"):
        folder = os.environ.get(var)
        try:
            root = ET.parse(Path(folder) / "yarn-site.xml").getroot() if folder else None
        except (OSError, ET.ParseError):
            root = None
        if root is not None:
            props = {p.findtext("name", "").strip(): p.findtext("value", "").strip() for p in root.iter("property")}
            break
    address = props.get("yarn.resourcemanager.address", "")
    host = props.get("yarn.resourcemanager.hostname", "")
    if "${" in address:  # ${yarn.resourcemanager.hostname}:8032
        address = address.replace("${yarn.resourcemanager.hostname}", host)
    if address and ":" in address and "${" not in address:
        h, _, port = address.rpartition(":")
        return (h, int(port)) if port.isdigit() else None
    return (host, 8032) if host else None


def preflight(master: str | None) -> None:
    """Everything that can be checked before reading any data: pyspark, Java, the master URL."""
    check_environment()
    if master is not None:
        if under_spark_submit():
            raise UserError(
                f"--spark-master {master}: under spark-submit, the master is spark-submit's own (--master).\n"
                "  Fix: leave out --spark-master, and give spark-submit --master instead."
            )
        check_master(master)


def under_spark_submit() -> bool:
    """True when this process is a PySpark driver launched by spark-submit."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def jar_path() -> str:
    """Splink's similarity UDF jar for the installed Spark, from Splink's own wheel."""
    from splink.backends.spark import similarity_jar_location

    path = similarity_jar_location()
    if not Path(path).exists():
        raise UserError(f"Splink's similarity jar is missing from its wheel ({path}).\n  Fix: reinstall splink.")
    return path


# Spark's logging while it starts (then ERROR, by setLogLevel): warnings, but not the two
# it always gives on one machine, nor a stack trace for an expression too big to compile
# (Spark then interprets it). The root at WARN is also what keeps PySpark from printing a
# banner about the default log level.
_LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
logger.native.name = org.apache.hadoop.util.NativeCodeLoader
logger.native.level = error
logger.codegen.name = org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator
logger.codegen.level = off
"""


def session(ws: Workspace, master: str | None = None) -> Any:
    """The SparkSession the jobs run on: the active one if there is one, else a new one.

    Locally (the default, ``local[2]``) it is sized for one machine: small shuffles, no web UI,
    scratch space under ``workspace/tmp/spark``, and Splink's similarity jar from the wheel.
    Under spark-submit, the master, memory and jars are spark-submit's (pass the jar with
    ``--jars``). One session serves every job a process runs.
    """
    check_environment()
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        if master and active.sparkContext.master != master:
            raise UserError(
                f"--spark-master {master}: this process already runs Spark on {active.sparkContext.master}.\n"
                "  Fix: leave out --spark-master, or run in a new process."
            )
        return active
    submitted = under_spark_submit()
    if submitted and master:
        preflight(master)  # refuses it: spark-submit's --master decides
    if master is None and not submitted:
        master = DEFAULT_MASTER
    if master is not None:
        check_master(master)
    scratch = ws.tmp / "spark"
    scratch.mkdir(parents=True, exist_ok=True)
    # This process's own: Spark's shuffle and spill files and the JVM's temporary files, named
    # after it so that what a killed driver leaves is found (workspace.remove_leftovers).
    own = scratch / f"local-{claim(ws)}-{uuid.uuid4().hex[:8]}"
    own.mkdir()
    remove_at_exit(own)
    builder = SparkSession.builder.appName("matching")
    conf: dict[str, str] = {
        # The comparison stage's generated code (every level of every comparison in one
        # projection) outgrows the JVM's 64 KB method limit, so Spark compiles it for seconds,
        # fails, and falls back to interpreting it: skip the whole-stage compile from the start.
        "spark.sql.codegen.wholeStage": "false",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": (scratch / "warehouse").as_uri(),
    }
    if not submitted:
        local = master is not None and master.startswith("local")
        log4j = scratch / "log4j2.properties"
        log4j.write_text(_LOG4J, encoding="utf-8")
        conf |= {"spark.jars": jar_path(), "spark.driver.memory": DRIVER_MEMORY}
        if not re.search(r"\s", str(scratch)):  # Java options are split on spaces
            conf["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={log4j.as_uri()} -Djava.io.tmpdir={own}"
        if local:
            # Two cores: a few partitions, not Spark's 200 (each one a task that costs ~10 ms).
            cores = master[len("local[") : -1].split(",")[0] if master and "[" in master else "1"
            n = (os.cpu_count() or 2) if cores == "*" else int(cores)
            conf |= {"spark.sql.shuffle.partitions": str(2 * n), "spark.default.parallelism": str(2 * n)}
            # Spark's shuffle and spill space in the workspace (the variable, not spark.local.dir,
            # which Spark warns a cluster manager overrides), and no warning that the host name
            # resolves to a loopback address.
            # (a value inherited from a parent process's session is that process's folder)
            if "SPARK_LOCAL_DIRS" not in os.environ or Path(os.environ["SPARK_LOCAL_DIRS"]).name.startswith("local-"):
                os.environ["SPARK_LOCAL_DIRS"] = str(own)
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            # Any Python worker Spark starts runs this interpreter (the venv), not the system's.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.master(master)  # type: ignore[arg-type]
    for key, value in conf.items():
        if not (submitted and SparkConf().contains(key)):  # spark-submit's --conf wins
            builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # py4j / pyspark errors: a wrong master, no JVM, no memory
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"Spark did not start on {master or 'the spark-submit master'}: {first}\n"
            f"  Fix: check --spark-master, and that Java 17 runs ({java_used()} -version)."
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    _quiet(spark)
    return spark


def _quiet(spark: Any) -> None:
    """No stack trace when Spark falls back from compiling an expression too big to compile."""
    try:
        jvm = spark.sparkContext._jvm
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            "org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator", jvm.org.apache.logging.log4j.Level.OFF
        )
    except Exception:  # log4j 1 on an old cluster, or no access to the JVM (Spark Connect)
        pass


def stop() -> None:
    """Stop the active SparkSession, if any (tests' at the end; a CLI process's ends with it)."""
    if importlib.util.find_spec("pyspark") is None:
        return
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


@dataclass
class Scratch:
    """One job's scratch folder under workspace/tmp/spark, removed when the job ends."""

    path: Path


@contextmanager
def job_scratch(ws: Workspace, spark: Any) -> Iterator[Scratch]:
    """Checkpoints (Splink breaks lineage by writing Parquet) and outputs for one job."""
    path = ws.tmp / "spark" / f"job-{claim(ws)}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True, exist_ok=True)
    spark.sparkContext.setCheckpointDir((path / "checkpoints").as_uri())
    views_before = set(_temp_views(spark))
    try:
        yield Scratch(path)
    finally:
        # One session serves many jobs: drop this job's cached tables and views.
        spark.catalog.clearCache()
        for name in set(_temp_views(spark)) - views_before:
            spark.catalog.dropTempView(name)
        shutil.rmtree(path, ignore_errors=True)


def _temp_views(spark: Any) -> list[str]:
    return [r[1] for r in spark.sql("SHOW VIEWS").collect() if r[2]]


# ----------------------------------------------------------------------------- inputs


def _parquet(spark: Any, files: list[str]) -> Any:
    # file:// URIs: on a cluster whose default filesystem is HDFS, a bare path would be read there.
    return spark.read.option("mergeSchema", "true").parquet(*[Path(f).resolve().as_uri() for f in files])


def _read(spark: Any, subs: tuple[Any, ...], lookups: list[tuple[Any, list[str]]]) -> Any:
    """The submissions of one side, with unique_id = body/record id, and the columns its
    lookups add from each record's own body's records (as
    :func:`matching.linkage.inputs.records_sql` on DuckDB)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    df = _parquet(spark, [s.dataset_path for s in subs]).selectExpr("concat(body, '/', record_id) AS unique_id", "*")
    for i, (lookup, files) in enumerate(lookups):
        source = _parquet(spark, files) if files else None
        keys = [key for key in lookup.keys
                if source is not None and all(o in df.columns and t in source.columns for o, t in key)]
        if source is None or not keys:
            df = df.selectExpr("*", *[f"CAST(NULL AS {spark_type(t)}) AS `{c}`" for c, t in lookup.column_types().items()])
            continue
        types = dict(zip(lookup.columns, lookup.column_types().values(), strict=True))
        present = [c for c in lookup.columns if c in source.columns]
        found_as = []
        for j, key in enumerate(keys):
            tag = f"_lookup_{i}_{j}"
            theirs = [t for _, t in key]
            found = source.where(" AND ".join(f"`{t}` IS NOT NULL" for t in theirs))
            if lookup.list:  # every record's distinct values, sorted; NULL when none holds one, or too many records do
                lists = [F.array_sort(F.collect_set(c)).alias(c) for c in present]
                found = found.groupBy(*theirs, "body").agg(F.count(F.lit(1)).alias("_records"), *lists)
                taken = [f"CASE WHEN size(`{c}`) > 0 AND _records <= {MAX_LIST} THEN `{c}` END AS `{tag}_{c}`" for c in present]
            else:
                latest = [F.col(lookup.latest_by).desc_nulls_last()] if lookup.latest_by in found.columns else []
                window = Window.partitionBy(*theirs, "body").orderBy(*latest, F.col("record_id"))
                found = found.withColumn("_n", F.row_number().over(window))
                if is_person_key(key):  # two people of one name and date of birth: neither is taken
                    group, rk = Window.partitionBy(*theirs, "body"), F.col(lookup.spec.record_key)
                    found = found.withColumn("_one", F.min(rk).over(group) == F.max(rk).over(group)).where("_one")
                found = found.where("_n = 1")
                taken = [f"`{c}` AS `{tag}_{c}`" for c in present]
            found = found.selectExpr(*[f"`{t}` AS {tag}_key_{n}" for n, t in enumerate(theirs)], f"body AS {tag}_body", *taken)
            on = df["body"] == found[f"{tag}_body"]
            for n, (o, _) in enumerate(key):
                on = on & (df[o] == found[f"{tag}_key_{n}"])
            df = df.join(found, on, "left").drop(*[f"{tag}_key_{n}" for n in range(len(key))])
            found_as.append(tag)
        when = first_key_found(keys, [f"{tag}_body IS NOT NULL" for tag in found_as], lambda c: f"`{c}`")
        values = []
        for c in lookup.columns:
            if c not in present:
                values.append(f"CAST(NULL AS {spark_type(types[c])}) AS `{lookup.prefix}{c}`")
                continue
            cases = " ".join(f"WHEN {w} THEN `{tag}_{c}`" for w, tag in zip(when, found_as, strict=True))
            values.append(f"CASE {cases} END AS `{lookup.prefix}{c}`")
        df = df.selectExpr("*", *values).drop(*[f"{tag}_body" for tag in found_as],
                                             *[f"{tag}_{c}" for tag in found_as for c in present])
    return df


def spark_type(duckdb_type: str) -> str:
    """A DuckDB type name (as ingest types columns) in Spark SQL."""
    from sqlglot import exp

    return exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect="spark")


def linkage_tables(spark: Any, job: JobConfig, inputs: JobInputs, prefix: str) -> list[tuple[str, str]]:
    """Spark views of both sides projected onto the linkage columns: (view, display name) pairs.

    The same projection as :func:`matching.linkage.inputs.linkage_tables` on DuckDB: a column
    that one side lacks is NULL there, typed as on the other side (or as ingest types it).
    """
    needed = linkage_columns(job)
    frames = {"left": _read(spark, inputs.left, inputs.side_lookups("left"))}
    frames["right"] = frames["left"] if inputs.right == inputs.left else _read(spark, inputs.right, inputs.side_lookups("right"))
    types = {side: {f.name: f.dataType.simpleString() for f in df.schema.fields} for side, df in frames.items()}
    known = check_columns(job, needed, types)

    def project(side: str) -> Any:
        return frames[side].selectExpr(*side_projection(needed, types, known, side, quote="`", ingest_type=spark_type))

    tables: list[tuple[str, str]] = []

    def view(df: Any, suffix: str, display: str) -> None:
        name = f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', suffix)}"
        df.createOrReplaceTempView(name)
        tables.append((name, display))

    if job.within_body:
        view(project("left"), "all", "all")
    elif job.across_bodies:
        left = project("left")
        for s in inputs.left:
            view(left.where(left.body == s.body), s.body, s.body)
    else:
        for side in ("left", "right"):
            view(project(side), side, side)
    return tables


def _register(spark: Any, job: JobConfig, inputs: JobInputs) -> tuple[Any, list[Any]]:
    from splink.backends.spark import SparkAPI

    # Splink materialises its intermediate tables to cut Spark's lineage: in memory (spilling
    # to spark.local.dir) on one machine; as Parquet in the checkpoint folder on a cluster.
    local = spark.sparkContext.master.startswith("local")
    db_api = SparkAPI(spark_session=spark, break_lineage_method="persist" if local else "parquet")
    if not spark.catalog.functionExists("jaro_winkler"):
        raise UserError(
            "Splink's similarity functions (jaro_winkler, damerau_levenshtein) are not registered on this Spark.\n"
            f"  Fix: pass Splink's jar to spark-submit: --jars {jar_path()}"
        )
    prefix = f"matching_{uuid.uuid4().hex[:8]}"
    sdfs = [db_api.register(name, dataset_display_name=display) for name, display in linkage_tables(spark, job, inputs, prefix)]
    return db_api, sdfs


# ----------------------------------------------------------------------------- training


def train(spark: Any, ws: Workspace, job: JobConfig, inputs: JobInputs, verbose: bool = False) -> TrainResult:
    """The job's training recipe on Spark: prior, u by random sampling, m by EM on each rule.

    The same recipe as on DuckDB (:mod:`matching.linkage.recipe`), but u in one pass over the
    sample: Splink's default of ten chunks per comparison (to stop early on one machine's
    memory) is a hundred small Spark jobs, four times slower here. The model returned is in
    DuckDB's dialect (Spark's probabilities on settings built for DuckDB), so it is used like
    any other model by either backend.
    """
    from splink import Linker

    def make_linker(settings: Any) -> Any:
        return Linker(_register(spark, job, inputs)[1], settings)

    with job_scratch(ws, spark), splink_log(verbose) as log:
        trained, sessions, notes = run_recipe(
            job, "spark", log, build_settings(job, "spark"), make_linker,
            largest_input=lambda linker: max(
                spark.table(s.physical_name).count() for s in linker._input_tables_dict.values()),
            u_kwargs={"num_chunks": 1},
        )
    # Saved in DuckDB's dialect, as every shipped and workspace model is: anything that loads
    # the JSON straight into a DuckDB linker (a notebook, a bare Splink script) still can, and
    # a Spark run takes only the probabilities, through apply_model, as it does from DuckDB's.
    model = {"sql_dialect": "duckdb"} | apply_model(job, settings_dict(job, "duckdb"), trained, job.path)
    return TrainResult(
        model=model, prior=float(model["probability_two_random_records_match"]),
        em_sessions=[EMSession(*s) for s in sessions], untrained=untrained_levels(model), notes=notes,
    )


# ----------------------------------------------------------------------------- prediction


def _count(spark: Any, job: JobConfig, sdfs: list[Any]) -> tuple[list[tuple[str, int]], float]:
    """Comparisons each blocking rule adds, and the share of records they were counted on
    (a sample beyond ``EXACT_COUNT_ROWS``: counting a cluster's inputs exactly would cost a
    join of its own)."""
    largest = max(spark.table(s.physical_name).count() for s in sdfs)
    with splink_log():
        return count_by_rule(job, sdfs, "spark", largest)


def predict(
    spark: Any,
    job: JobConfig,
    inputs: JobInputs,
    model_path: Path,
    threshold: float,
    out: Path,
    max_comparisons: int = DEFAULT_MAX_COMPARISONS,
) -> tuple[str, list[tuple[str, int]], float]:
    """Score every blocked pair on Spark and write them to Parquet files in the folder ``out``.

    Returns a glob of the Parquet files (for DuckDB's read_parquet), the comparisons each
    blocking rule added, and the share of records they were counted on (``_count``). Only
    the columns the rule stage reads are written: both ids, the source datasets, each
    record's identity (``CARRIED_COLUMNS``), the scores, and each comparison's gamma and
    match weight.
    """
    from splink import Linker

    settings = prediction_settings(job, "spark", model_path)
    _, sdfs = _register(spark, job, inputs)
    counts, proportion = _count(spark, job, sdfs)
    refuse_too_many(job, counts, max_comparisons)
    with splink_log():
        linker = Linker(sdfs, settings)
        df = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        pairs = df.as_spark_dataframe()
    keep = [
        c for c in pairs.columns
        if c in ("unique_id_l", "unique_id_r", "source_dataset_l", "source_dataset_r", "match_probability", "match_weight")
        or c.startswith(("gamma_", "mw_"))
        or c.removesuffix("_l").removesuffix("_r") in CARRIED_COLUMNS
    ]
    pairs.select(*[f"`{c}`" for c in keep]).write.mode("overwrite").parquet(out.as_uri())
    files = sorted(out.glob("*.parquet"))
    if not files:  # Spark writes no part file for an empty result on some versions
        import pyarrow as pa
        import pyarrow.parquet as pq
        from pyspark.sql.pandas.types import to_arrow_schema

        pq.write_table(pa.Table.from_pylist([], schema=to_arrow_schema(pairs.select(*[f"`{c}`" for c in keep]).schema)), out / "part-empty.parquet")
    return str(out / "*.parquet"), counts, proportion

