"""``python -m matching.synth ...``: the synth command without the main CLI."""

import sys

from matching.cli import cli

# Through the main CLI, which says a UserError as every command does ("Error: ...", exit 2).
cli(["synth", *sys.argv[1:]], prog_name="matching")
