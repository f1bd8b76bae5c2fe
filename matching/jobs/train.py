"""Training a job's model on the latest submissions, and saving Splink's model JSON."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matching.errors import UserError
from matching.ingest.pipeline import connect
from matching.jobs.config import load_job
from matching.linkage.duckdb_backend import EMSession, train
from matching.linkage.inputs import (
    damaged_inputs_named,
    load_records,
    lookup_notes,
    select_inputs,
    stale_ingest_notes,
)
from matching.specs import configs_dir
from matching.workspace import Workspace, write_json_atomic


@dataclass
class TrainReport:
    job: str
    model_path: Path
    prior: float
    em_sessions: list[EMSession]
    untrained: list[str]
    notes: list[str]
    parameters: list[dict[str, Any]]
    seconds: float

    @property
    def not_converged(self) -> list[EMSession]:
        return [s for s in self.em_sessions if not s.converged]


def parameter_table(model: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per comparison level: m, u and the match weight log2(m/u)."""
    rows = []
    for comp in model["comparisons"]:
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            weight = math.log2(m / u) if isinstance(m, float | int) and isinstance(u, float | int) and m > 0 and u > 0 else None
            rows.append({"comparison": comp["output_column_name"], "level": lv.get("label_for_charts"), "m": m, "u": u, "match_weight": weight})
    return rows


def reproducible(model: dict[str, Any], config_hash: str) -> dict[str, Any]:
    """The model as saved: the same inputs give the same bytes.

    Splink names each model with a random ``linker_uid``, and summing over threads moves the
    last digit of some probabilities from one training to the next; so the uid comes from the
    job's config and probabilities keep ten significant figures (far finer than anything
    estimated from data).
    """

    def tidy(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: tidy(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [tidy(v) for v in value]
        if isinstance(value, float) and (key.endswith("probability") or key == "probability_two_random_records_match"):
            return float(f"{value:.10g}")
        return value

    out: dict[str, Any] = tidy(model)
    out["linker_uid"] = f"m{config_hash[:7]}"  # eight characters, as Splink makes them
    return out


def train_job(
    job_name: str,
    *,
    workspace: str | os.PathLike[str] | Workspace | None = None,
    ship: bool = False,
    memory_limit: str | None = None,
    verbose: bool = False,
    backend: str = "duckdb",
    spark_master: str | None = None,
) -> TrainReport:
    """Train with the job's recipe and save the model to the workspace (or configs/models).

    ``backend="spark"`` trains on Spark (u by random sampling, m by EM, as on DuckDB). The
    model is saved in DuckDB's dialect, as every model is; ``run`` on either backend takes only
    its probabilities (``apply_model``), so it serves both.
    """
    if backend not in ("duckdb", "spark"):
        raise UserError(f"--backend {backend}: not a backend.\n  Fix: use duckdb or spark.")
    if backend == "spark" and memory_limit:
        raise UserError(
            "--memory-limit sets DuckDB's memory, and training on Spark does not use DuckDB.\n"
            "  Fix: leave out --memory-limit; give Spark memory with spark-submit --driver-memory and --executor-memory."
        )
    if backend == "spark":
        from matching.linkage import spark_backend

        spark_backend.preflight(spark_master)
    ws = workspace if isinstance(workspace, Workspace) else Workspace.at(workspace)
    job = load_job(job_name)
    inputs = select_inputs(ws, job)
    t0 = time.perf_counter()
    with damaged_inputs_named(job, inputs):
        if backend == "spark":
            spark = spark_backend.session(ws, spark_master)
            result = spark_backend.train(spark, ws, job, inputs, verbose=verbose)
        else:
            with connect(ws, memory_limit) as con:
                load_records(con, inputs)
                stale = stale_ingest_notes(con, job, inputs)
                result = train(con, job, inputs, verbose=verbose)
                result.notes[:0] = stale
    result.notes[:0] = lookup_notes(job, inputs)
    path = (configs_dir() / "models" if ship else ws.models) / f"{job.job}.json"
    write_json_atomic(path, reproducible(result.model, job.config_hash))
    return TrainReport(
        job=job.job,
        model_path=path,
        prior=result.prior,
        em_sessions=result.em_sessions,
        untrained=result.untrained,
        notes=result.notes,
        parameters=parameter_table(result.model),
        seconds=time.perf_counter() - t0,
    )
