"""The ``matching`` command: one subcommand per user task, each a thin shell over the API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from matching.errors import UserError
from matching.workspace import Workspace

# Markup off: file names, headers and values come from submitted data and must print as-is.
console = Console(markup=False, highlight=False)
err_console = Console(stderr=True, markup=False, highlight=False)


class Context:
    def __init__(self, workspace: str | None) -> None:
        self.workspace = Workspace.at(workspace)


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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

    A match is never a finding of fraud: it is an inconsistency requiring investigation.
    """
    ctx.obj = Context(workspace)


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
    console.print(f"Submission {s.submission_id}\n  dataset {s.dataset_path}\n  rejects {s.rejects_path}")


@cli.command()
@click.argument("kind")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--body", required=True, help="The submitting body, e.g. kingston.")
@click.option("--mapping", type=click.Path(dir_okay=False), help="TOML file mapping this file's headers to fields.")
@click.option("--force", is_flag=True, help="Ingest again even if this exact file was ingested before.")
@click.option("--json", "as_json", is_flag=True, help="Print the accounting as JSON.")
@_workspace_option
@pass_ctx
def ingest(ctx: Context, kind: str, file: str, body: str, mapping: str | None, force: bool, as_json: bool) -> None:
    """Ingest FILE as dataset KIND submitted by BODY: validate, standardise, account for every row."""
    from matching.ingest import ingest_file

    result = ingest_file(kind, file, body=body, workspace=ctx.workspace, mapping_file=mapping, force=force)
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
    failures = [(e, r) for e, r in results if isinstance(r, UserError)]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"kind": e.kind, "body": e.body, "file": str(e.file),
                     **({"error": r.message} if isinstance(r, UserError) else r.to_json())}
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
            if isinstance(r, UserError):
                table.add_row(entry.kind, entry.body, entry.file.name, "—", "—", "not ingested", style="red")
                continue
            s = r.submission
            totals = [totals[0] + s.rows_read, totals[1] + s.rows_loaded, totals[2] + s.rows_rejected]
            table.add_row(s.kind, s.body, entry.file.name, f"{s.rows_read:,}", f"{s.rows_loaded:,}", f"{s.rows_rejected:,}")
        table.add_section()
        table.add_row("total", "", f"{len(results)} files", *(f"{t:,}" for t in totals), style="bold")
        console.print(table)
        for entry, r in failures:
            err_console.print(Text.assemble((str(entry.file), "red"), f": {r}"))
    if failures:
        sys.exit(2)


@cli.command()
@click.argument("kind", required=False)
def kinds(kind: str | None) -> None:
    """List the dataset kinds, or show the specification of KIND."""
    from matching.specs import list_kinds, load_spec

    if kind is None:
        table = Table("kind", "title", "record key", "held by")
        for k in list_kinds():
            spec = load_spec(k)
            table.add_row(k, spec.title, spec.record_key, spec.held_by)
        console.print(table)
        return
    spec = load_spec(kind)
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


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UserError as exc:
        err_console.print(Text.assemble(("Error: ", "bold red"), exc.message))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("Interrupted: nothing half-written was kept.")
        sys.exit(130)


if __name__ == "__main__":
    main()
