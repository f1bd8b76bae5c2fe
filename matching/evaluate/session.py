"""An analyst's Splink session over one job: its inputs registered, its model applied.

    from matching.evaluate.session import open_session
    with open_session("hb-to-deceased", workspace="workspace/demo") as s:
        s.linker.visualisations.match_weights_chart()

The session's tables and ``unique_id`` values are those the engine links (``load_records``
and ``linkage_tables``), so labels exported from the case store join to them, and every
Splink chart and method works on exactly what ``matching run`` scores.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matching.errors import UserError
from matching.jobs.config import JobConfig, load_job
from matching.linkage.inputs import JobInputs, linkage_tables, load_records, select_inputs
from matching.workspace import Workspace, write_json_atomic

Model = str | os.PathLike[str] | Mapping[str, Any] | None


@dataclass
class JobSession:
    """A DuckDB connection with the job's records loaded and a Splink linker over them."""

    job: JobConfig
    workspace: Workspace
    con: Any
    inputs: JobInputs
    db_api: Any
    tables: list[Any]
    linker: Any
    model: dict[str, Any] | None
    _stack: contextlib.ExitStack = field(repr=False, default_factory=contextlib.ExitStack)

    def __enter__(self) -> JobSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def use_model(self, model: Model) -> None:
        """A new linker over the same tables with ``model``: "trained" (the workspace's, else the
        shipped one), a path, a model dict, or None for the job's untrained settings."""
        from splink import Linker

        from matching.linkage.settings import apply_model, build_settings, read_model, settings_dict

        if model is None:
            self.model = None
            self.linker = Linker(self.tables, build_settings(self.job, "duckdb"))
            return
        if isinstance(model, Mapping):
            data, where = dict(model), Path(f"<model of {self.job.job}>")
        else:
            if model == "trained":
                from matching.jobs.run import model_path

                where = model_path(self.workspace, self.job.job)
            else:
                where = Path(model)
            data = read_model(where)
        self.model = data
        self.linker = Linker(self.tables, apply_model(self.job, settings_dict(self.job, "duckdb"), data, where))

    def predict(self, threshold: float | None = None) -> Any:
        """Every blocked pair scored (a SplinkDataFrame), at or above ``threshold`` if given."""
        from matching.linkage.duckdb_backend import splink_log

        with splink_log():
            return self.linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")

    def train(self, *, save: bool = False, verbose: bool = False) -> Any:
        """Train with the job's recipe (as ``matching train``) and keep the training linker, so
        ``parameter_estimate_comparisons_chart`` shows each EM session; ``save`` writes the
        model to the workspace's models folder, as ``matching train`` does."""
        from unittest import mock

        from matching.linkage import duckdb_backend

        made: list[Any] = []
        build = duckdb_backend._linker

        def keep(*args: Any) -> Any:
            linker = build(*args)
            made.append(linker)
            return linker

        # duckdb_backend.train builds its linker internally and returns only the model;
        # keep the linker it trained so its EM sessions can be charted.
        with mock.patch.object(duckdb_backend, "_linker", keep):
            result = duckdb_backend.train(self.con, self.job, self.inputs, verbose=verbose)
        self.linker, self.model = made[-1], result.model
        if save:
            from matching.jobs.train import reproducible

            # Named after the job's config, as ``matching train`` names it, so a run of
            # another job refuses it (``apply_model``).
            write_json_atomic(self.workspace.models / f"{self.job.job}.json", reproducible(result.model, self.job.config_hash))
        return result

    def save_model(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the linker's current model (default: the session's workspace's model for the
        job, which that workspace's runs of the job then use), named after the job's config as
        ``matching train`` names it."""
        from matching.jobs.train import reproducible
        from matching.linkage.duckdb_backend import splink_log
        from matching.linkage.hoist import level_sql, restore
        from matching.linkage.settings import settings_dict

        target = Path(path) if path else self.workspace.models / f"{self.job.job}.json"
        with splink_log():
            model = self.linker.misc.save_model_to_json(None)
        # A linker from ``train`` reads per-record columns (``hoist``): save the conditions as written.
        model = restore(model, level_sql(settings_dict(self.job, "duckdb")))
        self.model = reproducible(model, self.job.config_hash)
        write_json_atomic(target, self.model)
        return target

    def records(self, unique_ids: list[str]) -> list[dict[str, Any]]:
        """Rows of the job's Splink tables (for waterfall charts), with their source_dataset."""
        out: list[dict[str, Any]] = []
        for sdf in self.tables:
            rows = self.con.sql(
                f"SELECT '{sdf.dataset_display_name}' AS source_dataset, * FROM {sdf.physical_name} "
                "WHERE list_contains(?, unique_id)", params=[unique_ids]
            ).to_arrow_table().to_pylist()
            out.extend(rows)
        return out


def open_session(job: str, *, workspace: str | os.PathLike[str] | Workspace | None = None,
                 model: Model = "trained", memory_limit: str | None = None) -> JobSession:
    """Load the job's latest inputs into DuckDB, register them with Splink, apply ``model``."""
    from splink import DuckDBAPI

    from matching.ingest.pipeline import connect

    ws = workspace if isinstance(workspace, Workspace) else Workspace.at(workspace)
    config = load_job(job)
    try:
        inputs = select_inputs(ws, config)
    except UserError as exc:
        origin = origin_of(ws)
        if origin == ws.root:
            raise
        # A scratch copy's folder means nothing to the analyst: name the workspace it copies
        # (quoted for the shell where the message quotes it, in its fix).
        message = exc.message.replace(f"--workspace {shlex.quote(str(ws.root))}", f"--workspace {shlex.quote(str(origin))}")
        message = message.replace(str(ws.root), str(origin))
        raise UserError(message) from None
    stack = contextlib.ExitStack()
    try:
        con = stack.enter_context(connect(ws, memory_limit))
        load_records(con, inputs)
        db_api = DuckDBAPI(connection=con)
        tables = [db_api.register(name, dataset_display_name=display)
                  for name, display in linkage_tables(con, config, inputs)]
        session = JobSession(job=config, workspace=ws, con=con, inputs=inputs, db_api=db_api,
                             tables=tables, linker=None, model=None, _stack=stack)
        session.use_model(model)
    except BaseException:
        stack.close()
        raise
    return session


def analysis_workspace(sample: str | os.PathLike[str] | None = None) -> Workspace:
    """The workspace a notebook analyses: ``$MATCHING_WORKSPACE`` if set, else a new temporary
    one with ``sample`` (default: the project's sample exercise) ingested into it.

    A relative ``$MATCHING_WORKSPACE`` is taken from the project folder, not from the
    notebook's own folder (where Jupyter starts its kernels): ``MATCHING_WORKSPACE=workspace/demo
    make notebook`` analyses the project's ``workspace/demo``. A folder that does not exist is
    refused: analysing it would show an empty workspace, not the one meant."""
    import tempfile

    from matching.ingest import ingest_dir

    chosen = os.environ.get("MATCHING_WORKSPACE")
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_absolute():
            path = project_root() / path
        path = path.resolve()
        if not path.is_dir():
            relative = "" if Path(chosen).expanduser().is_absolute() else f" (a relative path is taken from the project folder {project_root()})"
            raise UserError(
                f"MATCHING_WORKSPACE={chosen}: there is no workspace at {path}{relative}.\n"
                "  Fix: set MATCHING_WORKSPACE to a workspace folder that 'matching ingest' has written "
                "(e.g. workspace/demo after 'make demo'), or unset it to analyse the sample exercise."
            )
        return Workspace(path)
    ws = Workspace.at(tempfile.mkdtemp(prefix="matching-notebook-"))
    ingest_dir(Path(sample) if sample else project_root() / "sample_data", workspace=ws)
    return ws


# A scratch workspace's folder, and the workspace it copies.
_ORIGINS: dict[Path, Path] = {}


def origin_of(ws: Workspace) -> Path:
    """The workspace the analyst named: a scratch workspace's original, else its own folder."""
    return _ORIGINS.get(ws.root, ws.root)


def scratch_workspace(workspace: str | os.PathLike[str] | Workspace) -> Workspace:
    """A throwaway workspace holding ``workspace``'s submissions and models, for exploratory
    work: runs at other thresholds, models retrained from labels, files ingested to try a job.

    What is written there never reaches ``workspace``: its runs cannot be published from it
    (``matching publish --all`` reads only ``workspace/runs``), and its models are not the ones
    ``workspace``'s runs use. The datasets are linked, not copied (a copy where the file
    system cannot link), and read only. The folder is removed when the Python process (the
    notebook's kernel) ends."""
    import shutil
    import tempfile

    from matching.workspace import remove_at_exit

    source = workspace if isinstance(workspace, Workspace) else Workspace.at(workspace)
    if not source.root.is_dir():
        raise UserError(f"{source.root}: there is no workspace there.\n  Fix: name a workspace folder that 'matching ingest' has written.")
    scratch = Workspace(Path(tempfile.mkdtemp(prefix="matching-scratch-")).resolve())
    remove_at_exit(scratch.root)
    _ORIGINS[scratch.root] = _ORIGINS.get(source.root, source.root)
    if source.datasets.is_dir():
        for data in sorted(source.datasets.rglob("*.parquet")):
            target = scratch.datasets / data.relative_to(source.datasets)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.symlink_to(data.resolve())
            except OSError:  # (Windows without the right to make links)
                shutil.copy2(data, target)
    for folder, target_folder in ((source.submissions, scratch.submissions), (source.models, scratch.models)):
        if folder.is_dir():
            target_folder.mkdir(parents=True, exist_ok=True)
            for record in sorted(folder.glob("*.json")):
                shutil.copy2(record, target_folder / record.name)
    return scratch


def project_root() -> Path:
    """The project folder (where sample_data/ and configs/ are)."""
    from matching.specs import configs_dir

    return configs_dir().parent
