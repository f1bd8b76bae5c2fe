"""``ingest-dir``: ingest every file a folder's manifest lists.

The manifest is ``manifest.toml`` with ``[[files]]`` tables of ``kind``, ``body`` and
``file`` (relative to the folder), as the synthetic exercise writes it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matching.errors import UserError
from matching.ingest.pipeline import IngestResult, ingest_file
from matching.toml_files import read_toml
from matching.workspace import Workspace


@dataclass(frozen=True)
class ManifestEntry:
    kind: str
    body: str
    file: Path
    mapping: Path | None = None
    extract_date: dt.date | None = None


def read_manifest(folder: Path) -> list[ManifestEntry]:
    path = folder / "manifest.toml"
    if not path.exists():
        raise UserError(
            f"{folder}: no manifest.toml.\n  Add one with [[files]] tables naming kind, body and file, "
            "or ingest files one at a time with 'matching ingest KIND FILE --body BODY'."
        )
    data = read_toml(path, "manifest", UserError)
    files = data.get("files")
    if not isinstance(files, list) or not files:
        raise UserError(f"{path}: no [[files]] entries.\n  Each needs kind, body and file.")
    exercise = data.get("exercise", {})
    # extract_date, or the synthetic exercise's exercise_date: the date the data is true on.
    key = "extract_date" if "extract_date" in exercise else "exercise_date"
    default_date = _date(path, f"exercise.{key}", exercise.get(key))
    entries = []
    for i, item in enumerate(files, start=1):
        missing = [k for k in ("kind", "body", "file") if not isinstance(item.get(k), str)]
        if missing:
            raise UserError(f"{path}: files entry {i}: missing {', '.join(missing)}.")
        mapping = folder / item["mapping"] if item.get("mapping") else None
        extract = _date(path, f"files entry {i}: extract_date", item.get("extract_date")) or default_date
        entries.append(ManifestEntry(item["kind"], item["body"], folder / item["file"], mapping, extract))
    return entries


def _date(path: Path, key: str, value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise UserError(f"{path}: {key}: '{value}' is not a date.\n  Fix: write it as YYYY-MM-DD.") from None


def ingest_dir(
    folder: str | os.PathLike[str],
    *,
    workspace: str | os.PathLike[str] | Workspace | None = None,
    force: bool = False,
    on_result: Callable[[ManifestEntry, IngestResult | UserError], None] | None = None,
) -> list[tuple[ManifestEntry, IngestResult | UserError]]:
    """Ingest every file of a manifest, in its order.

    A file that cannot be used is reported and skipped (nothing of it is written); the
    others are still ingested, so one bad file does not hold up a body's whole return.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace.at(workspace)
    entries = read_manifest(Path(folder))
    missing = [e.file for e in entries if not e.file.exists()]
    if missing:
        raise UserError(f"{folder}: the manifest lists files that are not there: {', '.join(str(m) for m in missing[:5])}")
    results: list[tuple[ManifestEntry, IngestResult | UserError]] = []
    for entry in entries:
        outcome: IngestResult | UserError
        try:
            outcome = ingest_file(
                entry.kind, entry.file, body=entry.body, workspace=ws, mapping_file=entry.mapping, force=force,
                extract_date=entry.extract_date,
            )
        except UserError as exc:
            outcome = exc
        results.append((entry, outcome))
        if on_result:
            on_result(entry, outcome)
    return results
