"""`make bench`: run every benchmark, print figures and ratios, write results, a summary and a plot.

    python -m benchmarks [--readme] [ingest|synth|linkage|standard|toolkit|casework|plot ...]

With no suite named, all run in that order. ``SUMMARY.md`` is rebuilt from every results file
present; the plot of cost against size (``results/cost_vs_size.png``) is redrawn whenever the
linkage suite ran (or ``plot`` is named), and copied to ``docs/bench/`` with ``--readme``.
"""

from __future__ import annotations

import json
import sys
from types import ModuleType

from benchmarks import casework, ingest, linkage, plot, standard, synth, toolkit
from benchmarks.common import RESULTS, print_ratios, summary_table

SUITES: dict[str, ModuleType] = {
    "ingest": ingest, "synth": synth, "linkage": linkage, "standard": standard, "toolkit": toolkit, "casework": casework,
}


def main(argv: list[str]) -> int:
    readme = "--readme" in argv
    names = [a for a in argv if not a.startswith("--")]
    unknown = [n for n in names if n not in SUITES and n != "plot"]
    if unknown:
        print(f"unknown suite {unknown[0]!r}: choose from {', '.join([*SUITES, 'plot'])}", file=sys.stderr)
        return 2
    chosen = [n for n in names if n in SUITES] if names else list(SUITES)
    results = {}
    for name in chosen:
        module = SUITES[name]
        print(f"== {name}", flush=True)
        result = module.run_suite() if hasattr(module, "run_suite") else module.run()
        print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2), flush=True)
        results[name] = result
    table = summary_table(list(SUITES))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "SUMMARY.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    for result in results.values():
        print_ratios(result)
    if "linkage" in chosen or "plot" in names:
        plot.plot(readme=readme)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
