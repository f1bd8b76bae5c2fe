"""Training and prediction with Splink on DuckDB."""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from matching.errors import UserError
from matching.ingest.standardise.sql import literal
from matching.jobs.config import JobConfig
from matching.linkage.blocking import (
    compute_blocked_pairs,
    estimate_comparisons,
    most_pairs,
    table_sizes,
)
from matching.linkage.hoist import hoist, level_sql, restore
from matching.linkage.inputs import linkage_tables, with_per_record
from matching.linkage.recipe import refuse_too_many, run_recipe, untrained_levels
from matching.linkage.settings import (
    prediction_settings,
    settings_dict,
)


@dataclass
class EMSession:
    blocking_rule: str
    converged: bool
    iterations: int


@dataclass
class TrainResult:
    model: dict[str, Any]
    prior: float
    em_sessions: list[EMSession] = field(default_factory=list)
    untrained: list[str] = field(default_factory=list)  # "comparison: level" never observed
    notes: list[str] = field(default_factory=list)


class _SplinkLog(logging.Handler):
    """Collects what Splink logs so training can report convergence plainly."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def splink_log(verbose: bool = False) -> Iterator[_SplinkLog]:
    logger = logging.getLogger("splink")
    handler = _SplinkLog()
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = verbose
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def train(con: duckdb.DuckDBPyConnection, job: JobConfig, inputs: Any, verbose: bool = False) -> TrainResult:
    """The job's training recipe: prior, u by random sampling, m by EM on each blocking rule.

    It trains on the comparisons' per-record parts worked out once per record (``hoist``):
    u's ten million random pairs would otherwise run each regular expression on both records
    of every pair, in every level that names it. The model saved reads the records' own
    columns, as the job config writes them.
    """
    settings = settings_dict(job, "duckdb")
    written = level_sql(settings)
    per_record = hoist(settings)
    with splink_log(verbose) as log:
        model, sessions, notes = run_recipe(
            job, "duckdb", log, settings,
            make_linker=lambda s: _linker(con, job, inputs, s, per_record),
            largest_input=lambda linker: _largest(con, linkage_names(linker)),
            session_failures=(ValueError, duckdb.Error),
        )
    model = restore(model, written)
    return TrainResult(
        model=model, prior=float(model["probability_two_random_records_match"]),
        em_sessions=[EMSession(*s) for s in sessions], untrained=untrained_levels(model), notes=notes,
    )


def linkage_names(linker: Any) -> list[str]:
    return [sdf.physical_name for sdf in linker._input_tables_dict.values()]


def _largest(con: duckdb.DuckDBPyConnection, tables: list[str]) -> int:
    return max(int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in tables)


# Beyond this many comparisons a run would take hours on one machine: refuse before starting.
DEFAULT_MAX_COMPARISONS = 3_000_000_000


def _linker(con: duckdb.DuckDBPyConnection, job: JobConfig, inputs: Any, settings: Any, per_record: dict[str, str]) -> Any:
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=con)
    tables = with_per_record(con, linkage_tables(con, job, inputs), per_record)
    return Linker([db_api.register(name, dataset_display_name=display) for name, display in tables], settings)


def _pruned_input(linker: Any, pairs: Any, side: str) -> Any:
    """The records of the ``side`` of a chunk's ``pairs``, materialised: Splink's
    ``_materialise_pruned_predict_input``, joined on the integer id (see ``score_blocked_pairs``)."""
    from splink.internals.pipeline import CTEPipeline
    from splink.internals.vertically_concatenate import vertically_concatenate_sql

    column_info = linker._settings_obj.column_info_settings
    concat_sql = vertically_concatenate_sql(
        linker._input_tables_dict, source_dataset_input_column=column_info.source_dataset_input_column
    )
    uid = column_info.unique_id_input_column.name
    pipeline = CTEPipeline()
    pipeline.enqueue_sql(
        f"select source.* from ({concat_sql}) as source semi join {pairs.physical_name} as pairs "
        f"on source.{uid} = pairs.join_key_{side}",
        f"__splink__df_pruned_predict_input_{side}",
    )
    return linker._db_api.sql_pipeline_to_splink_dataframe(pipeline)


def score_blocked_pairs(linker: Any, pairs: Any, threshold: float, prune: bool) -> Any:
    """Splink's scoring of blocked ``pairs`` (its predict after blocking), built from Splink's
    own SQL, with three differences:

    - each comparison's level (gamma) is kept even where the settings drop the values
      compared (Splink's predict keeps it only with them);
    - a pair's records are joined on their integer ids (``matching.linkage.blocking``), where
      Splink builds and joins text keys of dataset name and id: the ids are unique across the
      linkage tables, so the same records are joined; at a million a side the text keys'
      two joins took 3.0 s of the scoring's 9.0 s of CPU;
    - a chunk's pairs are joined to both inputs pruned to the records they name (as Splink
      does for a chunk), a whole prediction's to the inputs as they are (as Splink does for
      its own blocked pairs).
    """
    from splink.internals.comparison_vector_values import (
        compute_comparison_vector_values_from_id_pairs_sqls,
    )
    from splink.internals.dialects import SplinkDialect
    from splink.internals.duckdb.pruned_prediction import _enqueue_pruned_inputs_with_tf
    from splink.internals.pipeline import CTEPipeline
    from splink.internals.predict import predict_from_comparison_vectors_sqls
    from splink.internals.vertically_concatenate import enqueue_df_concat_with_tf

    s = linker._settings_obj
    inputs = [_pruned_input(linker, pairs, side) for side in ("l", "r")] if prune else []
    try:
        pipeline = CTEPipeline([pairs, *inputs])
        if inputs:
            names = _enqueue_pruned_inputs_with_tf(linker, pipeline, *inputs)
        else:
            enqueue_df_concat_with_tf(linker, pipeline)
            names = ("__splink__df_concat_with_tf", "__splink__df_concat_with_tf")
        pipeline.enqueue_list_of_sqls(compute_comparison_vector_values_from_id_pairs_sqls(
            s._columns_to_select_for_blocking,
            s._columns_to_select_for_comparison_vector_values,
            input_tablename_l=names[0],
            input_tablename_r=names[1],
            source_dataset_input_column=None,  # the integer id alone is the key
            unique_id_input_column=s.column_info_settings.unique_id_input_column,
            link_type=s._link_type,
            sql_dialect_str="duckdb",
        ))
        pipeline.enqueue_list_of_sqls(predict_from_comparison_vectors_sqls(
            unique_id_input_columns=s.column_info_settings.unique_id_input_columns,
            core_model_settings=s.core_model_settings,
            sql_dialect=SplinkDialect.from_string("duckdb"),
            threshold_match_probability=threshold,
            retain_matching_columns=s._retain_matching_columns,
            retain_intermediate_calculation_columns=s._retain_intermediate_calculation_columns,
            training_mode=True,  # keeps each comparison's gamma: all it changes
            additional_columns_to_retain=s._additional_columns_to_retain,
        ))
        return linker._db_api.sql_pipeline_to_splink_dataframe(pipeline)
    finally:
        for table in inputs:
            table.drop_table_from_database_and_remove_from_cache()


# A chunk of about this many comparisons keeps DuckDB's working set (and its spill) to a few GiB.
CHUNK_COMPARISONS = 25_000_000


def auto_chunks(comparisons: int, per_chunk: int = CHUNK_COMPARISONS) -> tuple[int, int]:
    """Chunks (left, right) for a prediction of ``comparisons``: one chunk while it fits,
    else a near-square grid with no more than ``per_chunk`` comparisons in each cell."""
    needed = max(1, math.ceil(comparisons / per_chunk))
    left = math.ceil(math.sqrt(needed))
    return left, math.ceil(needed / left)


def predict(
    con: duckdb.DuckDBPyConnection,
    job: JobConfig,
    inputs: Any,
    model_path: Path,
    threshold: float,
    chunks: tuple[int, int] | None = None,
    max_comparisons: int = DEFAULT_MAX_COMPARISONS,
    spill_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[str, list[tuple[str, int]], tuple[int, int]]:
    """Score every blocked pair with the trained model.

    Returns the DuckDB table (or view) of scored pairs, the comparisons each blocking rule
    added (counted exactly as they were scored), and the chunk grid scored. Refuses, before
    scoring anything, a blocking whose estimated comparisons exceed ``max_comparisons``,
    naming the rules to tighten.

    A prediction too big for one pass (``auto_chunks``, or ``chunks`` given as (left, right))
    is scored a chunk at a time: each chunk's pairs above the threshold are written to
    Parquet in ``spill_dir`` and its tables dropped before the next, so neither memory nor
    DuckDB's temp directory ever holds more than one chunk's comparisons.

    ``timings["scoring"]`` gets the seconds spent finding and scoring the blocked pairs (the
    rest of the stage builds the tables, guards memory and writes chunks).
    """
    from splink import DuckDBAPI, Linker

    settings = prediction_settings(job, "duckdb", model_path)
    # The rule stage reads whole records itself: scored pairs need each record's identity and
    # each comparison's level and weight, not the values compared (a third of the width).
    settings["retain_matching_columns"] = False
    db_api = DuckDBAPI(connection=con)
    tables = linkage_tables(con, job, inputs, row_ids=True)
    # Only a count near the limit, or one needing more than one chunk, needs the pairs estimated;
    # none does when every pair of records would be fewer (the estimate took 40 ms of
    # hb-to-deceased's 0.33 s at 100,000 people).
    enough = max_comparisons if chunks else min(max_comparisons, CHUNK_COMPARISONS)
    sizes = table_sizes(con, tables)
    estimated = most_pairs(job, tables, sizes)
    if estimated > enough:
        counts = estimate_comparisons(con, job, tables, enough=enough)
        refuse_too_many(job, counts, max_comparisons)
        estimated = sum(n for _, n in counts)
    # Each record's parts of the comparisons (its house numbers, say) are worked out once per
    # record, where there are more comparisons than records to pay for it: hb-to-deceased's
    # 9,400 comparisons of 70,000 records at a million people took 55 ms longer with them.
    per_record = hoist(settings) if estimated > sum(sizes) else {}
    sdfs = [db_api.register(name, dataset_display_name=display) for name, display in with_per_record(con, tables, per_record)]
    left, right = chunks or auto_chunks(estimated)
    if left < 1 or right < 1:
        raise UserError(f"--chunks {left},{right}: each side needs at least one chunk.\n  Fix: e.g. --chunks 3,3.")
    scored = [0] * len(job.blocking_rules)

    def score(linker: Any, cell: tuple[tuple[int, int], tuple[int, int]]) -> Any:
        """Score one cell's blocked pairs, found by the engine (``matching.linkage.blocking``)
        and counted exactly by rule: the count made before scoring was an estimate, good
        enough for the guard."""
        started = time.perf_counter()
        for rule, n in compute_blocked_pairs(con, job, tables, "blocked_pairs", cell).items():
            scored[rule] += n
        pairs = db_api.table_to_splink_dataframe("__splink__blocked_id_pairs", "blocked_pairs")
        df = score_blocked_pairs(linker, pairs, threshold, prune=cell != ((1, 1), (1, 1)))
        con.execute("DROP TABLE blocked_pairs")
        if timings is not None:
            timings["scoring"] = timings.get("scoring", 0.0) + time.perf_counter() - started
        return df

    def by_rule() -> list[tuple[str, int]]:
        return list(zip(job.blocking_rules, scored, strict=True))

    with splink_log():
        # Splink's settings validation only logs, and what it checks has been checked: the
        # config on load, its columns against the inputs (linkage_tables), the model against it.
        linker = Linker(sdfs, settings, validate_settings=False)
        if (left, right) == (1, 1):
            return str(score(linker, ((1, 1), (1, 1))).physical_name), by_rule(), (1, 1)
        if spill_dir is None:
            raise ValueError("a chunked prediction needs a spill_dir for its chunks' pairs")
        spill_dir.mkdir(parents=True, exist_ok=True)
        cells = list(itertools.product(range(1, left + 1), range(1, right + 1)))
        started = time.perf_counter()
        for i, (a, b) in enumerate(cells, start=1):
            df = score(linker, ((a, left), (b, right)))
            con.execute(f"COPY {df.physical_name} TO {literal(str(spill_dir / f'chunk-{i:04d}.parquet'))} (FORMAT parquet)")
            # Nothing of a cell stays in DuckDB once its pairs are on disk.
            df.drop_table_from_database_and_remove_from_cache()
            if progress:
                elapsed = time.perf_counter() - started
                progress(f"{job.job}: scored chunk {i} of {len(cells)} ({elapsed / i * (len(cells) - i):.0f} s to go)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW scored_pairs AS SELECT * FROM read_parquet({literal(str(spill_dir / 'chunk-*.parquet'))})")
    return "scored_pairs", by_rule(), (left, right)
