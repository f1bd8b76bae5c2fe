"""The benchmark suite still runs: a small casework suite, end to end, as `make bench` runs it.

`make bench` is too long for every commit, so a change that breaks a suite (a stricter bundle
check the casework suite's made-up bundle did not meet) would show only at the next full run,
after every other suite had spent its time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_casework_suite_runs_and_writes_its_results(tmp_path: Path) -> None:
    env = os.environ | {"BENCH_CASEWORK_MATCHES": "300", "BENCH_RESULTS": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "benchmarks", "casework"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "casework.json").read_text())
    assert result["publish_counts"] == [300, 300, 300]
    assert result["queue_key_contact"]["requests"] > 0 and result["match_detail"]["p95_ms"] > 0
