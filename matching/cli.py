"""The ``matching`` command: one subcommand per user task, each a thin shell over the API."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from matching.errors import DuplicateSubmissionError, NotAnOwnerError, UserError
from matching.wording import plural
from matching.workspace import Workspace


def _width(stream: Any) -> int | None:
    """A terminal's own width; piped or redirected (a log, `| less`), $COLUMNS or 160, not
    rich's 80, which cut job names and headings short in a file."""
    if stream.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isascii() and columns.isdecimal() and int(columns) > 0 else 160


# Markup off: file names, headers and values come from submitted data and must print as-is.
# (Their width is set as the command starts, in ``main``.)
console = Console(markup=False, highlight=False)
err_console = Console(stderr=True, markup=False, highlight=False)


class IsoDate(click.DateTime):
    """A date typed as YYYY-MM-DD; one that is not a real day (2026-13-01, 2026-02-30) is named
    as such, not as "does not match the format"."""

    def __init__(self) -> None:
        super().__init__(formats=["%Y-%m-%d"])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import re

        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", value.strip()):
            try:
                return super().convert(value, param, ctx)
            except click.BadParameter:
                self.fail(f"{value!r} is not a real date (month 1-12, and a day the month has).", param, ctx)
        return super().convert(value, param, ctx)


DATE = IsoDate()


class Context:
    def __init__(self, workspace: str | None) -> None:
        self.workspace = Workspace.at(workspace)


pass_ctx = click.make_pass_decorator(Context)


class MatchingGroup(click.Group):
    """Turns a UserError anywhere below into its message and exit status 2: never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            err_console.print(Text.assemble(("Error: ", "bold red"), exc.message), soft_wrap=True)
            ctx.exit(exc.exit_code)
        except (KeyboardInterrupt, Exception) as exc:
            if (message := _environment_problem(exc)) is not None:
                err_console.print(Text.assemble(("Error: ", "bold red"), message), soft_wrap=True)
                ctx.exit(2)
            if type(exc).__name__ == "OutOfMemoryException":
                err_console.print(Text.assemble(("Error: ", "bold red"), (
                    f"DuckDB ran out of memory ({str(exc).splitlines()[0]}). Nothing half-written was left behind.\n"
                    "  Fix: give DuckDB more (--memory-limit, 75% of RAM by default), or score in chunks (run --chunks 3,3).")), soft_wrap=True)
                ctx.exit(2)
            if not _interrupted(exc):
                raise
            # Ctrl-C inside a DuckDB query arrives as its interrupt error (through Splink, as a
            # RuntimeError); what was being written has been removed on the way out.
            err_console.print("Interrupted: nothing half-written was left behind.", style="bold red")
            ctx.exit(130)


def _environment_problem(exc: BaseException) -> str | None:
    """A message for what the machine, not the input, refused: a workspace (or a file in it)
    that may not be written, a path through a file, a full disk. None for anything else."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.ENOSPC):
        where = exc.filename or "the workspace"
        fix = ("free some space on that disk" if exc.errno == errno.ENOSPC
               else "check you may read that file, and that the workspace (--workspace, or $MATCHING_WORKSPACE) "
                    "is a folder you may write to")
        return f"{where}: {exc.strerror}.\n  Fix: {fix}."
    if type(exc).__name__ == "IOException" and any(s in str(exc) for s in ("Permission denied", "Read-only file system", "No space left")):
        return f"{str(exc).splitlines()[0]}\n  Fix: check the workspace is a folder you may write to, on a disk with space."
    return None


def _interrupted(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is the user's Ctrl-C."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, KeyboardInterrupt) or type(exc).__name__ == "InterruptException" or str(exc).startswith("Query interrupted"):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


@click.group(cls=MatchingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    envvar="MATCHING_WORKSPACE",
    type=click.Path(file_okay=False),
    default=None,
    help="Workspace folder (default ./workspace, or $MATCHING_WORKSPACE).",
)
@click.version_option(package_name="matching")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None) -> None:
    """Counter-fraud data matching: ingest, link, and queue inconsistencies for investigation.

    A match is not a finding of fraud: it is an inconsistency requiring investigation.
    """
    ctx.obj = Context(workspace)


def print_counts(title: str, columns: tuple[str, ...], rows: Sequence[Sequence[str]],
                 line: Callable[[Sequence[str]], str]) -> None:
    """A table of counts, a row a job (its name first), or, where the terminal is too narrow
    for it without folding job names in pieces or cutting headings short, ``line`` of each row."""
    widest = max([3, *(len(r[0]) for r in rows)])
    if widest + sum(max(len(c), 6) + 3 for c in columns) + 4 > console.width:
        console.print(title)
        for row in rows:
            console.print(f"  {line(row)}", soft_wrap=True, markup=False)
        return
    table = Table(title=title, title_justify="left")
    table.add_column("job", no_wrap=True, min_width=widest)
    for col in columns:
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _workspace_option(f: Any) -> Any:
    """Accept --workspace after the subcommand too (datasette-style consistent options)."""

    def callback(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value:
            ctx.find_object(Context).workspace = Workspace.at(value)  # type: ignore[union-attr]

    return click.option(
        "--workspace",
        type=click.Path(file_okay=False),
        default=None,
        expose_value=False,
        callback=callback,
        help="Workspace folder.",
    )(f)


def _backend_options(f: Any) -> Any:
    """--backend and --spark-master, shared by train and run."""
    f = click.option(
        "--spark-master", default=None, metavar="URL",
        help="With --backend spark: the Spark master (default local[2]; under spark-submit, spark-submit's).",
    )(f)
    return click.option(
        "--backend", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
        help="Where Splink links: DuckDB on this machine, or Spark (pip install '.[spark]', Java 17).",
    )(f)


def _spark_master_needs_spark(backend: str, spark_master: str | None) -> None:
    if spark_master and backend != "spark":
        raise UserError("--spark-master applies only with --backend spark.\n  Fix: add --backend spark, or leave out --spark-master.")


def _print_warnings(submission: Any) -> None:
    for warning in submission.warnings:
        console.print(f"Warning: {warning}", style="yellow", markup=False)


def _print_ingest(result: Any, file: str) -> None:
    s = result.submission
    table = Table(title=f"{file} → {s.kind} / {s.body}", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("rows", justify="right")
    table.add_row("read", f"{s.rows_read:,}")
    table.add_row("loaded", f"{s.rows_loaded:,}")
    table.add_row("rejected", f"{s.rows_rejected:,}")
    for reason, n in s.rejects_by_reason.items():
        table.add_row(f"  {reason}", f"{n:,}", style="yellow")
    console.print(table)
    defects = [
        (field, reason, n) for field, q in s.quality.items() for reason, n in q["defects"].items()
    ]
    if defects:
        console.print("Field defects (values nulled, rows kept):")
        for field, reason, n in defects:
            console.print(f"  {field}: {reason}: {n:,}")
    if s.ignored_columns:
        console.print(f"Columns not in the {s.kind} specification, ignored: {', '.join(s.ignored_columns)}")
    _print_warnings(s)
    console.print(f"Submission {s.submission_id}\n  dataset {s.dataset_path}\n  rejects {s.rejects_path}")


@cli.command()
@click.argument("kind")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--body", required=True, help="The submitting body, e.g. kingston.")
@click.option("--mapping", type=click.Path(dir_okay=False), help="TOML file mapping this file's headers to fields.")
@click.option("--force", is_flag=True, help="Ingest again even if this exact file was ingested before.")
@click.option("--extract-date", type=DATE, default=None, help="The date the data was extracted (default today).")
@click.option("--json", "as_json", is_flag=True, help="Print the accounting as JSON.")
@_workspace_option
@pass_ctx
def ingest(ctx: Context, kind: str, file: str, body: str, mapping: str | None, force: bool, extract_date: Any, as_json: bool) -> None:
    """Ingest FILE as dataset KIND submitted by BODY: validate, standardise, account for every row."""
    from matching.ingest import ingest_file

    result = ingest_file(
        kind, file, body=body, workspace=ctx.workspace, mapping_file=mapping, force=force,
        extract_date=extract_date.date() if extract_date else None,
    )
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        _print_ingest(result, Path(file).name)


@cli.command("ingest-dir")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Ingest files again even if ingested before.")
@click.option("--json", "as_json", is_flag=True, help="Print the accounting as JSON.")
@_workspace_option
@pass_ctx
def ingest_dir_command(ctx: Context, folder: str, force: bool, as_json: bool) -> None:
    """Ingest every file that FOLDER's manifest.toml lists (kind, body, file)."""
    from matching.ingest import ingest_dir

    results = ingest_dir(folder, workspace=ctx.workspace, force=force)
    # A file ingested before (the same bytes) is skipped, not a failure: running ingest-dir
    # again after fixing one bad file ingests that file and leaves the others as they are.
    failures = [(e, r) for e, r in results if isinstance(r, UserError) and not isinstance(r, DuplicateSubmissionError)]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"kind": e.kind, "body": e.body, "file": str(e.file),
                     **({"already_ingested": r.previous_id} if isinstance(r, DuplicateSubmissionError)
                        else {"error": r.message} if isinstance(r, UserError) else r.to_json())}
                    for e, r in results
                ],
                indent=2,
            )
        )
    else:
        table = Table(title=f"Ingested {folder}", title_justify="left")
        for col in ("kind", "body", "file", "read", "loaded", "rejected"):
            table.add_column(col, justify="right" if col in ("read", "loaded", "rejected") else "left")
        totals = [0, 0, 0]
        for entry, r in results:
            if isinstance(r, DuplicateSubmissionError):
                table.add_row(entry.kind, entry.body, f"{entry.file.name} (already ingested: {r.previous_id})", "—", "—", "—", style="dim")
                continue
            if isinstance(r, UserError):
                table.add_row(entry.kind, entry.body, entry.file.name, "—", "—", "not ingested", style="red")
                continue
            s = r.submission
            totals = [totals[0] + s.rows_read, totals[1] + s.rows_loaded, totals[2] + s.rows_rejected]
            table.add_row(s.kind, s.body, entry.file.name, f"{s.rows_read:,}", f"{s.rows_loaded:,}", f"{s.rows_rejected:,}")
        table.add_section()
        table.add_row("total", "", f"{len(results)} files", *(f"{t:,}" for t in totals), style="bold")
        console.print(table)
        for _, r in results:
            if not isinstance(r, UserError):
                _print_warnings(r.submission)
        for entry, r in failures:
            err_console.print(Text.assemble((str(entry.file), "red"), f": {r}"), soft_wrap=True)
    if failures:
        sys.exit(2)


@cli.command("train")
@click.argument("job")
@click.option("--ship", is_flag=True, help="Write configs/models/<job>.json (the shipped model) instead of the workspace.")
@click.option("--memory-limit", default=None, help="DuckDB memory limit, e.g. 8GB.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_backend_options
@_workspace_option
@pass_ctx
def train_command(ctx: Context, job: str, ship: bool, memory_limit: str | None, as_json: bool, backend: str, spark_master: str | None) -> None:
    """Train JOB's model with its recipe on the latest submissions."""
    from matching.jobs.train import train_job

    _spark_master_needs_spark(backend, spark_master)
    with console.status(f"Training {job}{' on Spark' if backend == 'spark' else ''}…"):
        report = train_job(job, workspace=ctx.workspace, ship=ship, memory_limit=memory_limit, backend=backend, spark_master=spark_master)
    if as_json:
        click.echo(json.dumps({
            "job": report.job, "model_path": str(report.model_path), "prior": report.prior,
            "seconds": round(report.seconds, 2),
            "em_sessions": [vars(s) for s in report.em_sessions],
            "untrained": report.untrained, "notes": report.notes, "parameters": report.parameters,
        }, indent=2))
        return
    table = Table(title=f"{report.job}: parameter estimates", title_justify="left")
    for col in ("comparison", "level", "m", "u", "match weight"):
        table.add_column(col, justify="right" if col in ("m", "u", "match weight") else "left")
    for p in report.parameters:
        fmt = lambda v: f"{v:.4g}" if isinstance(v, float | int) else "not trained"  # noqa: E731
        table.add_row(p["comparison"], p["level"], fmt(p["m"]), fmt(p["u"]), f"{p['match_weight']:+.2f}" if p["match_weight"] is not None else "—")
    console.print(table)
    console.print(f"Prior (probability two random records match): {report.prior:.3g}")
    for s in report.em_sessions:
        state = f"converged after {s.iterations} iterations" if s.converged else f"DID NOT CONVERGE after {s.iterations} iterations"
        console.print(f"EM on {s.blocking_rule}: {state}", style=None if s.converged else "bold yellow")
    for level in report.untrained:
        console.print(f"Not trained (never observed): {level}", style="yellow")
    for note in report.notes:
        console.print(note, style="yellow")
    console.print(f"Model saved to {report.model_path} in {report.seconds:.1f} s")


@cli.command("run")
@click.argument("jobs", nargs=-1)
@click.option("--all", "all_jobs", is_flag=True, help="Run every standard job.")
@click.option("--body", default=None, help="Keep only the inconsistencies this body owns.")
@click.option("--threshold", type=float, default=None, help="Match probability a pair must reach (default: the job's).")
@click.option("--as-at", type=DATE, default=None, help="The date the rules judge against (default: the inputs' latest extract date).")
@click.option("--memory-limit", default=None, help="DuckDB memory limit, e.g. 8GB (default 75% of RAM; beyond it DuckDB spills to the workspace).")
@click.option("--max-comparisons", type=click.IntRange(min=1), default=None, help="Refuse, before starting, a job whose blocking makes more comparisons (default 3,000,000,000).")
@click.option("--chunks", default=None, metavar="LEFT,RIGHT", help="Score in LEFT x RIGHT chunks, each written out before the next (default: chunked automatically when a job's comparisons would not fit one pass).")
@click.option("--publish", "publish_after", is_flag=True, help="Publish each new run into the case store for review.")
@click.option("--json", "as_json", is_flag=True, help="Print run ids and counts as JSON.")
@_backend_options
@_workspace_option
@pass_ctx
def run_command(ctx: Context, jobs: tuple[str, ...], all_jobs: bool, body: str | None, threshold: float | None, as_at: Any, memory_limit: str | None, max_comparisons: int | None, chunks: str | None, publish_after: bool, as_json: bool, backend: str, spark_master: str | None) -> None:
    """Run JOB(s): link, keep the inconsistencies, explain and prioritise them, write run bundles."""
    from matching.jobs.config import list_jobs
    from matching.jobs.run import run_job

    _spark_master_needs_spark(backend, spark_master)
    chunk_grid = _parse_chunks(chunks)
    names = list_jobs() if all_jobs else list(jobs)
    if not names:
        raise UserError("Name at least one job, or --all.\n  Jobs: " + ", ".join(list_jobs()))
    results = []
    failures: list[tuple[str, UserError]] = []
    skipped: list[str] = []
    with console.status("Running…") as status:
        for name in names:
            try:
                results.append(run_job(
                    name, workspace=ctx.workspace, threshold=threshold, body=body,
                    as_at=as_at.date() if as_at else None, memory_limit=memory_limit, max_comparisons=max_comparisons,
                    progress=lambda msg: status.update(msg), backend=backend, spark_master=spark_master,
                    chunks=chunk_grid,
                ))
            except UserError as exc:
                if all_jobs and isinstance(exc, NotAnOwnerError):
                    skipped.append(name)  # --all --body runs the jobs whose inconsistencies the body can own
                    continue
                if len(names) == 1:
                    raise
                failures.append((name, exc))  # one job's problem does not stop the others
            except Exception as exc:
                if len(names) == 1:
                    raise
                # Nor does a fault: the other jobs run, and this one is named with its error.
                failures.append((name, UserError(
                    f"failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n"
                    f"  Fix: run it alone (matching run {name}) for the details; its bundle was not written.")))
    if all_jobs and body and not results and not failures:
        from matching.wording import did_you_mean

        held = sorted(ctx.workspace.bodies_with_data())
        raise UserError(
            f"--body {body}: owns the inconsistencies of no job (none of its data is on a job's owning side).{did_you_mean(body, held)}\n"
            f"  Fix: check the body's name. Bodies with data in this workspace: {', '.join(held) or 'none yet'}."
        )
    published = _publish_new_runs(ctx, [r.run_id for r in results]) if publish_after else []
    if as_json:
        click.echo(json.dumps(
            [r.to_json() | ({"published": p.as_dict()} if p else {}) for r, p in zip(results, published or [None] * len(results), strict=True)]
            + [{"job": n, "error": e.message} for n, e in failures]
            + [{"job": n, "skipped": f"{body} owns none of its inconsistencies"} for n in skipped], indent=2))
        if failures:
            sys.exit(2)
        return
    reviewed = [r for r in results if r.review]
    if reviewed:
        rows = [(r.job, f"{r.counts['pairs']:,}", f"{r.counts['inconsistencies']:,}",
                 *(f"{r.counts['by_band'][b]:,}" for b in ("high", "medium", "low")), f"{r.timings['total']:.1f}") for r in reviewed]
        found = {r.job: plural(r.counts["inconsistencies"], "inconsistency", "inconsistencies") for r in reviewed}
        print_counts("Runs: inconsistencies by priority band", ("pairs", "inconsistencies", "high", "medium", "low", "seconds"),
                     rows, lambda r: f"{r[0]}: {r[1]} pairs, {found[r[0]]} ({r[3]} high, {r[4]} medium, {r[5]} low), {r[6]} s")
    for r in results:  # an analysts' link (review = false) keeps linked pairs, not inconsistencies
        if not r.review:
            console.print(f"{r.job}: {r.counts['pairs']:,} linked pairs for analysis (not inconsistencies; never queued "
                          f"for review), {r.timings['total']:.1f} s", soft_wrap=True)
    console.print(f"Run bundles in {ctx.workspace.runs}: " + ", ".join(r.run_id for r in results), soft_wrap=True)
    if published:
        from matching.cli_casework import publish_counts

        console.print("Published: " + ", ".join(f"{p.run_id} ({publish_counts(p)})" for p in published), soft_wrap=True)
    if reviewed:
        console.print("Each inconsistency requires investigation; a match is not evidence of fraud.")
        if not published:
            console.print("Next: matching publish --all puts the runs' inconsistencies in the review queues.")
    for note in dict.fromkeys(n for r in results for n in r.notes):
        err_console.print(note, style="yellow", soft_wrap=True)
    if skipped:
        console.print(f"Not run, as {body} owns none of their inconsistencies: " + ", ".join(skipped), soft_wrap=True)
    for name, failure in failures:
        err_console.print(Text.assemble((f"{name}: ", "bold red"), failure.message), soft_wrap=True)
    if failures:
        sys.exit(2)


# A grid beyond this is hours of per-chunk overhead (and DuckDB's integers overflow long before).
MAX_CHUNKS = 1000


def _parse_chunks(value: str | None) -> tuple[int, int] | None:
    """``--chunks 3,3`` (or a single 4 for 4 x 4) as (left, right)."""
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not all(p.isdigit() and 1 <= int(p) <= MAX_CHUNKS for p in parts):
        raise UserError(f"--chunks {value}: not a chunk grid.\n  Fix: give LEFT,RIGHT as whole numbers from 1 to {MAX_CHUNKS}, e.g. --chunks 3,3.")
    return int(parts[0]), int(parts[1])


def _publish_new_runs(ctx: Context, run_ids: list[str]) -> list[Any]:
    """Publish the runs just made into the case store (``matching run --publish``)."""
    from matching.casework.setup import use_workspace

    use_workspace(ctx.workspace.root)  # before any model is imported
    from matching.casework.publish import publish
    from matching.cli_casework import command_line_actor

    return [publish(ctx.workspace, run_id, actor=command_line_actor()) for run_id in run_ids]


@cli.command("evaluate")
@click.argument("run_id", required=False)
@click.option("--latest", is_flag=True, help="Evaluate the newest run of every job.")
@click.option("--truth", "truth", required=True, type=click.Path(file_okay=False, exists=True), help="A synthetic exercise folder (with truth/).")
@click.option("--thresholds", is_flag=True, help="Also print each job's threshold table.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@_workspace_option
@pass_ctx
def evaluate_command(ctx: Context, run_id: str | None, latest: bool, truth: str, thresholds: bool, as_json: bool) -> None:
    """Precision, recall and blocking recall of RUN-ID (or --latest runs) against truth."""
    from matching.evaluate import evaluate_run, latest_runs

    if run_id:
        runs = [ctx.workspace.runs / run_id]
        if run_id.startswith(".") or "/" in run_id or not runs[0].is_dir():
            known = ", ".join(p.name for p in reversed(ctx.workspace.run_folders()[-3:])) or "none"
            raise UserError(f"No finished run '{run_id}' in {ctx.workspace.runs}.\n  The latest: {known} (matching runs lists them all).")
    elif latest:
        runs = latest_runs(ctx.workspace)
        if not runs:
            raise UserError(f"No finished runs in {ctx.workspace.runs}.\n  Fix: matching run --all")
    else:
        raise UserError("Name a RUN-ID or say --latest.")
    results: list[dict[str, Any]] = []
    failed: list[str] = []
    for run in runs:
        try:
            results.append(evaluate_run(run, Path(truth)))
        except UserError as exc:
            if len(runs) == 1:
                raise
            failed.append(exc.message)  # one run that cannot be judged does not hide the others
    failed = list(dict.fromkeys(failed))  # a truth folder that fits no run: said once, not once a job
    if not results:
        raise UserError("\n".join(failed))
    if as_json:
        click.echo(json.dumps(results, indent=2))
        _evaluation_failures(failed)
        return
    table = Table(title="Accuracy against truth", title_justify="left")
    for col in ("job", "threshold", "found", "precision", "recall", "F1", "link precision", "link recall", "blocking recall"):
        table.add_column(col, justify="left" if col == "job" else "right")

    def f(x: Any) -> str:
        return "—" if x is None else f"{x:.4f}" if isinstance(x, float) else str(x)

    for r in results:
        inc, link, blk = r["inconsistencies"], r.get("linkage", {}), r.get("blocking", {})
        table.add_row(r["job"], f(r["threshold"]), f(inc["predicted"]), f(inc["precision"]), f(inc["recall"]), f(inc["f1"]),
                      f(link.get("precision")), f(link.get("recall")), f(blk.get("recall")))
    console.print(table)
    for r in results:
        if "set_aside" in r:
            a = r["set_aside"]
            console.print(f"{r['job']}: {a['set_aside']:,} set aside by rule.not_if_also_linked, "
                          f"{a['true_inconsistencies']:,} of them true inconsistencies.", soft_wrap=True)
    for r in results:
        if r.get("note"):
            console.print(r["note"], soft_wrap=True)
    if thresholds:
        for r in results:
            t = Table("threshold", "found", "precision", "recall", "F1", title=f"{r['job']}: thresholds", title_justify="left")
            for row in r["threshold_table"]:
                t.add_row(f(row["threshold"]), f(row["inconsistencies_predicted"]), f(row["inconsistencies_precision"]), f(row["inconsistencies_recall"]), f(row["inconsistencies_f1"]))
            console.print(t)
    _evaluation_failures(failed)


def _evaluation_failures(failed: list[str]) -> None:
    """The runs --latest could not judge, after those it could: exit 2 if any."""
    for message in failed:
        err_console.print(Text.assemble(("Error: ", "bold red"), message), soft_wrap=True)
    if failed:
        sys.exit(2)


@cli.command("jobs")
@click.option("--names", is_flag=True, help="Print only the job names, one a line (for scripts).")
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
@_workspace_option
@pass_ctx
def jobs_command(ctx: Context, names: bool, as_json: bool) -> None:
    """List the match jobs: what each compares, its threshold and its model."""
    from matching.jobs.config import list_jobs, load_job
    from matching.specs import configs_dir

    if names:
        click.echo("\n".join(list_jobs()))
        return
    jobs = [load_job(name) for name in list_jobs()]
    rows: list[dict[str, Any]] = []
    for job in jobs:
        name = job.job
        if (ctx.workspace.models / f"{name}.json").exists():
            model = "trained in workspace"
        elif (configs_dir() / "models" / f"{name}.json").exists():
            model = "shipped"
        else:
            model = "none: matching train " + name
        rows.append({"job": name, "title": job.title, "left": job.left.kind, "right": job.right.kind,
                     "across_bodies": job.across_bodies, "within_body": job.within_body, "review": job.review,
                     "threshold": job.threshold, "model": model,
                     "lookups": [{"side": lk.side, "kind": lk.kind, "on": lk.on_json()} for lk in job.lookups]})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("job", "title", "compares", "threshold", "model", title="Match jobs", title_justify="left")
    for r, job in zip(rows, jobs, strict=True):
        compares = f"{r['left']} ↔ {r['right']}" + (" (across bodies)" if r["across_bodies"] else " (within a body)" if r["within_body"] else "")
        compares += "".join(f", looking up {lk.kind} by {lk.on}" for lk in job.lookups)
        table.add_row(r["job"], r["title"], compares, f"{r['threshold']:g}", r["model"])
    console.print(table)


@cli.command()
@click.argument("kind", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the kinds, or KIND's fields, as JSON.")
def kinds(kind: str | None, as_json: bool) -> None:
    """List the dataset kinds, or show the specification of KIND."""
    from matching.specs import list_kinds, load_spec

    if kind is None:
        specs = [load_spec(k) for k in list_kinds()]
        if as_json:
            click.echo(json.dumps([{"kind": s.kind, "title": s.title, "record_key": s.record_key, "held_by": s.held_by}
                                   for s in specs], indent=2))
            return
        table = Table("kind", "title", "record key", "held by")
        for s in specs:
            table.add_row(s.kind, s.title, s.record_key, s.held_by)
        console.print(table)
        return
    spec = load_spec(kind)
    if as_json:
        click.echo(json.dumps({"kind": spec.kind, "title": spec.title, "record_key": spec.record_key, "held_by": spec.held_by,
                               "fields": [{"name": f.name, "type": f.type, "required": f.required or f.name == spec.record_key,
                                           "matching_only": f.matching_only, "aliases": list(f.aliases)} for f in spec.fields]},
                              indent=2))
        return
    table = Table("field", "type", "required", "matching only", "accepted headers", title=spec.title)
    for f in spec.fields:
        required = "yes" if f.required or f.name == spec.record_key else ""
        table.add_row(f.name, f.type, required, "yes" if f.matching_only else "", ", ".join(f.aliases))
    console.print(table)


def _register_optional_commands() -> None:
    try:
        from matching.synth.cli import synth_command
    except ImportError:
        return
    cli.add_command(synth_command, "synth")


_register_optional_commands()

from matching import cli_casework  # noqa: E402,F401  (registers the casework commands on `cli`)


def _stop_on_sigterm(signum: int, _frame: object) -> None:
    """A TERM (kill, a scheduler's timeout) unwinds like Ctrl-C, so a half-written run bundle
    or ingest is removed on the way out instead of being left behind."""
    raise SystemExit(128 + signum)


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    for stream, out in ((sys.stdout, console), (sys.stderr, err_console)):
        if (width := _width(stream)) is not None:
            out.width = width
    cli.main(prog_name="matching")


if __name__ == "__main__":
    main()
