"""The record of every submission: which file, its hash, what was loaded and rejected.

One JSON file per submission in ``workspace/submissions/``, written last and atomically:
a submission exists once its record does, so a crash mid-ingest leaves nothing that counts.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from matching.errors import UserError
from matching.workspace import Workspace, write_json_atomic

BODY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def check_body(body: str, typed: str = "--body {}") -> str:
    """``body`` if it is a valid body code; else a UserError suggesting one, as it is typed
    (``typed``: "--body {}", or "matching bodies add {}" where the code is an argument)."""
    if not BODY_PATTERN.match(body or ""):
        suggestion = re.sub(r"[^a-z0-9]+", "-", (body or "").lower()).strip("-")
        hint = f" e.g. {typed.format(suggestion)}" if suggestion else ""
        raise UserError(
            f"Body '{body}' is not a valid body name: use lower-case letters, digits and hyphens{hint}."
        )
    return body


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Submission:
    submission_id: str
    kind: str
    body: str
    file_name: str
    file_path: str
    sha256: str
    format: str
    encoding: str | None
    delimiter: str | None
    received_at: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rejects_by_reason: dict[str, int]
    duplicate_keys: int
    dataset_path: str
    rejects_path: str
    header_mapping: dict[str, str]
    ignored_columns: list[str]
    quality: dict[str, Any] = field(default_factory=dict)
    replaces: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # The date the data was true on (the body's extract date); rules judge "now" by it.
    extract_date: str | None = None
    # What the file may mean otherwise than it was read (ingest prints them): nothing lost,
    # but worth a look before the data is matched.
    warnings: list[str] = field(default_factory=list)
    # Rows of empty cells alone (',,,,' or a blank row of a sheet): not records, so neither
    # loaded nor rejected, and not in rows_read.
    blank_rows_skipped: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def save(ws: Workspace, sub: Submission) -> None:
    write_json_atomic(ws.submission_record_path(sub.submission_id), sub.to_json())


def load_all(ws: Workspace) -> list[Submission]:
    subs: list[Submission] = []
    if not ws.submissions.exists():
        return subs
    for path in sorted(ws.submissions.glob("*.json")):
        try:
            with path.open(encoding="utf-8") as fh:
                sub = Submission(**json.load(fh))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
            raise UserError(
                f"{path}: this submission record is damaged ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unreadable'}).\n"
                "  Fix: restore it from a backup, or move it out of the workspace and ingest its file again."
            ) from None
        # The files are wherever this workspace keeps them, not where the record says they were
        # written: a workspace copied or moved elsewhere reads its own files, not the original's.
        sub.dataset_path = str(ws.dataset_path(sub.kind, sub.body, sub.submission_id))
        sub.rejects_path = str(ws.rejects_path(sub.submission_id))
        subs.append(sub)
    subs.sort(key=lambda s: (s.received_at, s.submission_id))
    return subs


def find_same_file(ws: Workspace, kind: str, body: str, sha256: str) -> Submission | None:
    for sub in load_all(ws):
        if sub.kind == kind and sub.body == body and sub.sha256 == sha256:
            return sub
    return None


def latest(ws: Workspace, kind: str, body: str | None = None) -> list[Submission]:
    """The most recent submission of ``kind`` from each body (or from one body)."""
    newest: dict[str, Submission] = {}
    for sub in load_all(ws):
        if sub.kind == kind and (body is None or sub.body == body):
            newest[sub.body] = sub  # load_all is in time order
    return [newest[b] for b in sorted(newest)]
