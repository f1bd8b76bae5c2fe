"""Counter-fraud data matching: the few functions an analyst calls.

    from matching import ingest_file, load_job, train_job, run_job

A match is not a finding of fraud: it is an inconsistency requiring investigation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from matching.ingest import ingest_dir, ingest_file
    from matching.jobs.config import load_job
    from matching.jobs.run import run_job
    from matching.jobs.train import train_job

_PUBLIC = {
    "ingest_file": "matching.ingest",
    "ingest_dir": "matching.ingest",
    "load_job": "matching.jobs.config",
    "run_job": "matching.jobs.run",
    "train_job": "matching.jobs.train",
}


def __getattr__(name: str) -> Any:
    # Imported on first use so that `matching --help` stays fast.
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'matching' has no attribute {name!r}")


__all__ = ["__version__", "ingest_dir", "ingest_file", "load_job", "run_job", "train_job"]
