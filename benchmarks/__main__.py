"""`make bench`: run every benchmark, print figures and ratios, write results and a summary."""

from __future__ import annotations

import json
import sys

from benchmarks import casework, ingest, linkage, synth
from benchmarks.common import RESULTS

SUITES = {"ingest": ingest, "synth": synth, "linkage": linkage, "casework": casework}


def main(argv: list[str]) -> int:
    chosen = argv or list(SUITES)
    lines = ["| benchmark | median wall time | throughput | ratio | peak RSS |", "|---|---|---|---|---|"]
    for name in chosen:
        module = SUITES[name]
        print(f"== {name}", flush=True)
        result = module.run_suite() if hasattr(module, "run_suite") else module.run()
        print(json.dumps(result, indent=2))
        lines.append(module.summary(result))
    table = "\n".join(lines)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "SUMMARY.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
