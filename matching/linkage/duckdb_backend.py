"""Training and prediction with Splink on DuckDB."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from matching.jobs.config import JobConfig
from matching.linkage.inputs import linkage_tables
from matching.linkage.recipe import count_by_rule, refuse_too_many, run_recipe, untrained_levels
from matching.linkage.settings import (
    apply_model,
    build_settings,
    read_model,
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


def _linker(con: duckdb.DuckDBPyConnection, job: JobConfig, inputs: Any, settings: Any) -> Any:
    from splink import Linker

    return Linker(_register(con, job, inputs), settings)


def train(con: duckdb.DuckDBPyConnection, job: JobConfig, inputs: Any, verbose: bool = False) -> TrainResult:
    """The job's training recipe: prior, u by random sampling, m by EM on each blocking rule."""
    with splink_log(verbose) as log:
        model, sessions, notes = run_recipe(
            job, "duckdb", log, build_settings(job, "duckdb"),
            make_linker=lambda settings: _linker(con, job, inputs, settings),
            largest_input=lambda linker: _largest(con, linkage_names(linker)),
            session_failures=(ValueError, duckdb.Error),
        )
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


def _register(con: duckdb.DuckDBPyConnection, job: JobConfig, inputs: Any) -> list[Any]:
    from splink import DuckDBAPI

    db_api = DuckDBAPI(connection=con)
    return [db_api.register(name, dataset_display_name=display) for name, display in linkage_tables(con, job, inputs)]


def _count(con: duckdb.DuckDBPyConnection, job: JobConfig, sdfs: list[Any]) -> list[tuple[str, int]]:
    with splink_log():
        return count_by_rule(job, sdfs, "duckdb", _largest(con, [s.physical_name for s in sdfs]))


def count_comparisons(con: duckdb.DuckDBPyConnection, job: JobConfig, inputs: Any) -> list[tuple[str, int]]:
    """Comparisons each blocking rule adds (after earlier rules), counted before any scoring."""
    return _count(con, job, _register(con, job, inputs))


def predict(
    con: duckdb.DuckDBPyConnection,
    job: JobConfig,
    inputs: Any,
    model_path: Path,
    threshold: float,
    chunks: tuple[int, int] | None = None,
    max_comparisons: int = DEFAULT_MAX_COMPARISONS,
) -> tuple[str, list[tuple[str, int]]]:
    """Score every blocked pair with the trained model.

    Returns the DuckDB table of scored pairs and the comparisons each blocking rule added.
    Refuses, before scoring anything, a blocking that would make more than
    ``max_comparisons`` comparisons, naming the rules to tighten.
    """
    from splink import Linker

    settings = apply_model(job, settings_dict(job, "duckdb"), read_model(model_path), model_path)
    sdfs = _register(con, job, inputs)
    counts = _count(con, job, sdfs)
    refuse_too_many(job, counts, max_comparisons)
    with splink_log():
        linker = Linker(sdfs, settings)
        kwargs: dict[str, Any] = {"threshold_match_probability": threshold, "warning_mode": "never"}
        if chunks:
            kwargs["num_chunks_left"], kwargs["num_chunks_right"] = chunks
        df = linker.inference.predict(**kwargs)
    return str(df.physical_name), counts
