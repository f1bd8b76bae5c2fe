"""Ingest: submitted files become standardised datasets, with every row accounted for."""

from matching.ingest.manifest import ingest_dir
from matching.ingest.pipeline import IngestResult, ingest_file

__all__ = ["IngestResult", "ingest_dir", "ingest_file"]
