"""Training and prediction with Splink on DuckDB."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from matching.errors import UserError
from matching.jobs.config import JobConfig
from matching.linkage.inputs import linkage_tables
from matching.linkage.settings import (
    apply_model,
    blocking_rule,
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
    from splink.internals.exceptions import EMTrainingException

    settings = build_settings(job, "duckdb")
    t = job.training
    with splink_log(verbose) as log:
        linker = _linker(con, job, inputs, settings)
        notes: list[str] = []
        if t.deterministic_rules:
            linker.training.estimate_probability_two_random_records_match(
                [blocking_rule(job.scoped(r), "duckdb") for r in t.deterministic_rules], recall=t.recall
            )
            # Splink keeps the prior on its settings object; no public setter exists.
            prior = linker._settings_obj._probability_two_random_records_match
            if not 0 < prior < 1:
                fallback = t.probability_two_random_records_match or _fallback_prior(con, linkage_names(linker))
                linker._settings_obj._probability_two_random_records_match = fallback
                notes.append(
                    f"The deterministic rules found no pairs, so the prior was set to {fallback:.3g}; "
                    "set training.probability_two_random_records_match to choose it."
                )
        linker.training.estimate_u_using_random_sampling(max_pairs=t.u_max_pairs, seed=t.seed)
        sessions = []
        for rule in t.em_blocking_rules:
            start = len(log.messages)
            kwargs: dict[str, Any] = {"estimate_without_term_frequencies": True}
            if t.em_max_pairs:
                kwargs["max_pairs"] = t.em_max_pairs
            snapshot = linker.misc.save_model_to_json(None)
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    blocking_rule(job.scoped(rule), "duckdb"), **kwargs
                )
            except EMTrainingException:
                raise UserError(
                    f"{job.path}: training.em_blocking_rules: '{rule}' produced no pairs of records in this data, "
                    "so EM cannot learn from it.\n  Fix: choose a rule on columns these datasets fill."
                ) from None
            except (ValueError, duckdb.Error) as exc:
                # Splink 5 refuses an m probability that EM drives to exactly zero (a level
                # no matching pair shows, usually in small data), and a session whose pairs
                # are all matches makes it write an infinite weight DuckDB cannot bind; keep
                # the other sessions.
                if isinstance(exc, ValueError) and "m_probability" not in str(exc) and "u_probability" not in str(exc):
                    raise
                notes.append(
                    f"EM on {rule} stopped: its pairs gave a level a probability of zero or one (too few, or "
                    "only matching, pairs in this data); estimates from the other sessions are kept. "
                    "Train on more data, or choose another training.em_blocking_rules entry."
                )
                sessions.append(EMSession(rule, False, sum(1 for m in log.messages[start:] if m.startswith("Iteration "))))
                # The failed session leaves the linker's model half-updated: start again
                # from the model as it stood before the session.
                linker = _linker(con, job, inputs, snapshot)
                continue
            msgs = log.messages[start:]
            iterations = sum(1 for m in msgs if m.startswith("Iteration "))
            converged = any("EM converged" in m for m in msgs)
            sessions.append(EMSession(rule, converged, iterations))
        model = linker.misc.save_model_to_json(None)
    untrained = [
        f"{c['output_column_name']}: {lv.get('label_for_charts')}"
        for c in model["comparisons"]
        for lv in c["comparison_levels"]
        if not lv.get("is_null_level") and not isinstance(lv.get("m_probability"), int | float)
    ]
    return TrainResult(
        model=model, prior=float(model["probability_two_random_records_match"]), em_sessions=sessions,
        untrained=untrained, notes=notes,
    )


def linkage_names(linker: Any) -> list[str]:
    return [sdf.physical_name for sdf in linker._input_tables_dict.values()]


def _fallback_prior(con: duckdb.DuckDBPyConnection, tables: list[str]) -> float:
    """One true match per record of the larger input: a conservative prior."""
    sizes = [int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in tables]
    return 1.0 / max(max(sizes), 2)


# Beyond this many comparisons a run would take hours on one machine: refuse before starting.
DEFAULT_MAX_COMPARISONS = 3_000_000_000
EXACT_COUNT_ROWS = 50_000  # below this many records a side, count comparisons exactly (else a 5% sample)


def _register(con: duckdb.DuckDBPyConnection, job: JobConfig, inputs: Any) -> list[Any]:
    from splink import DuckDBAPI

    db_api = DuckDBAPI(connection=con)
    return [db_api.register(name, dataset_display_name=display) for name, display in linkage_tables(con, job, inputs)]


def _count(con: duckdb.DuckDBPyConnection, job: JobConfig, sdfs: list[Any]) -> list[tuple[str, int]]:
    """Comparisons each blocking rule adds after the rules before it (estimated on big inputs)."""
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    largest = max(int(con.execute(f"SELECT count(*) FROM {s.physical_name}").fetchall()[0][0]) for s in sdfs)
    with splink_log(), warnings.catch_warnings():
        # A small sample of a narrow rule is a rough estimate; that is enough to catch a
        # blocking that would explode, which is all the guard is for.
        warnings.simplefilter("ignore", UserWarning)
        records = count_comparisons_from_blocking_rules(
            sdfs,
            blocking_rules=[blocking_rule(job.scoped(r), "duckdb") for r in job.blocking_rules],
            link_type=job.link_type,  # type: ignore[arg-type]
            record_sample_proportion=1.0 if largest <= EXACT_COUNT_ROWS else 0.05,
        )
    return [(rule, int(r["marginal_comparison_count"])) for rule, r in zip(job.blocking_rules, records, strict=True)]


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
    total = sum(n for _, n in counts)
    if total > max_comparisons:
        worst = sorted(counts, key=lambda rn: -rn[1])
        lines = "\n".join(f"    {n:>15,}  {rule}" for rule, n in worst)
        raise UserError(
            f"Job '{job.job}': its blocking rules would make about {total:,} comparisons, more than this "
            f"run allows ({max_comparisons:,}).\n  Comparisons added by each rule:\n{lines}\n"
            f"  Fix: tighten the largest rules in {job.path} (linkage.blocking_rules), or raise --max-comparisons."
        )
    with splink_log():
        linker = Linker(sdfs, settings)
        kwargs: dict[str, Any] = {"threshold_match_probability": threshold, "warning_mode": "never"}
        if chunks:
            kwargs["num_chunks_left"], kwargs["num_chunks_right"] = chunks
        df = linker.inference.predict(**kwargs)
    return str(df.physical_name), counts
