"""``matching labels export``: investigators' outcomes as Splink pairwise labels for analysts."""

from __future__ import annotations

from pathlib import Path

import click

from matching.cli import Context, _workspace_option, cli, pass_ctx
from matching.cli_casework import _json_out, command_line_actor, say
from matching.wording import plural


@cli.group("labels")
def labels_group() -> None:
    """Investigators' outcomes as labels, to measure and retrain match jobs."""


@labels_group.command("export")
@click.argument("job", required=False)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The labels file to write.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default=None,
              help="Default: parquet for a .parquet file, else csv.")
@click.option("--include-unsure", is_flag=True, help="Include 'not sure' outcomes, scored 0.5.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@_workspace_option
@pass_ctx
def labels_export(ctx: Context, job: str | None, out: str, fmt: str | None, include_unsure: bool,
                  as_json: bool) -> None:
    """Write the pairs investigators labelled (of JOB, or every job) as Splink pairwise labels."""
    from matching.casework.setup import use_workspace

    # Reading the case store: a workspace that does not exist is refused, not created empty.
    use_workspace(ctx.workspace.root, create=False)

    from matching.casework.labels import export_labels

    result = export_labels(Path(out), job=job, fmt=fmt, include_unsure=include_unsure, actor=command_line_actor())
    if as_json:
        _json_out(result.as_dict())
        return
    counts = ", ".join(f"{n:,} {label}" for label, n in result.by_label.items()) or "none"
    say(f"Wrote {plural(result.rows, 'labelled pair')} ({counts}) to {result.path} as {result.format}.")
