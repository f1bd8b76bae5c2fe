"""The workspace: everything a deployment holds lives under one folder.

    workspace/
      datasets/<kind>/<body>/<submission-id>.parquet
      rejects/<submission-id>.csv
      submissions/<submission-id>.json
      models/<job>.json
      runs/<run-id>/
      tmp/                       spill space for DuckDB
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_WORKSPACE = "workspace"


def resolve_workspace(path: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: an explicit path, else $MATCHING_WORKSPACE, else ./workspace."""
    chosen = path or os.environ.get("MATCHING_WORKSPACE") or DEFAULT_WORKSPACE
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def at(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        return cls(resolve_workspace(path))

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    @property
    def rejects(self) -> Path:
        return self.root / "rejects"

    @property
    def submissions(self) -> Path:
        return self.root / "submissions"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def run_folders(self) -> list[Path]:
        """The run bundles' folders, oldest first (a run id begins with its time); a run still
        being written is ``.partial-<run-id>`` and is left out."""
        if not self.runs.is_dir():
            return []
        return sorted(p for p in self.runs.iterdir() if p.is_dir() and not p.name.startswith("."))

    def dataset_path(self, kind: str, body: str, submission_id: str) -> Path:
        return self.datasets / kind / body / f"{submission_id}.parquet"

    def rejects_path(self, submission_id: str) -> Path:
        return self.rejects / f"{submission_id}.csv"

    def submission_record_path(self, submission_id: str) -> Path:
        return self.submissions / f"{submission_id}.json"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=False, default=str)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_run_manifest(folder: Path) -> dict[str, Any] | None:
    """A run folder's manifest.json, or None when it is missing or cannot be read."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None
