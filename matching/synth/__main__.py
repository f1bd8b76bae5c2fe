"""``python -m matching.synth ...``: the synth command without the main CLI."""

from matching.synth.cli import synth_command

synth_command(prog_name="matching synth")
