"""``matching synth``: write a synthetic exercise (a thin shell over ``generate``)."""

from __future__ import annotations

import json

import click

from matching.synth.config import Rates
from matching.synth.exercise import generate
from matching.synth.world import BODIES
from matching.synth.writers import FORMATS


@click.command("synth")
@click.option("--people", type=click.IntRange(min=100), required=True, help="How many people to simulate.")
@click.option("--seed", type=int, required=True, help="The random seed: the same seed writes the same files.")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True, help="The folder to write: new, empty, or an earlier exercise of synth's, whose files are replaced.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True, help="File format.")
@click.option("--bodies", default=None, help=f"Comma-separated bodies to write (default all: {','.join(BODIES)}).")
@click.option("--config", "config", type=click.Path(dir_okay=False, exists=True), default=None,
              help="A TOML file of planted rates and noise settings (see matching/synth/config.py).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def synth_command(people: int, seed: int, out: str, fmt: str, bodies: str | None, config: str | None,
                  as_json: bool) -> None:
    """Simulate a population and write every dataset, with planted inconsistencies and their truth."""
    chosen = tuple(b.strip() for b in bodies.split(",") if b.strip()) if bodies else None
    command = f"matching synth --people {people} --seed {seed} --out {out} --format {fmt}"
    if bodies:
        command += f" --bodies {bodies}"
    if config:
        command += f" --config {config}"
    # A UserError (a folder that is not synth's, a bad rates file) is said as every command
    # says one: "Error: ...", exit 2.
    summary = generate(people, seed, out, fmt, chosen, Rates.load(config), command=command,
                       progress=None if as_json else lambda m: click.echo(m, err=True))
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2))
        return
    click.echo(f"Wrote {sum(f['rows'] for f in summary.files):,} records in {len(summary.files)} files to {out} "
               f"in {summary.seconds:.1f}s.")
    click.echo(f"Planted {sum(summary.planted.values())} inconsistencies; {sum(summary.inconsistencies.values())} "
               f"pairs in the truth; {sum(summary.hard_negatives.values())} hard negatives; "
               f"{summary.invalid_rows} invalid rows.")
