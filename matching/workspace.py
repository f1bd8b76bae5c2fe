"""The workspace: everything a deployment holds lives under one folder.

    workspace/
      datasets/<kind>/<body>/<submission-id>.parquet
      rejects/<submission-id>.csv
      submissions/<submission-id>.json
      models/<job>.json
      runs/<run-id>/
      tmp/                       spill space for DuckDB

Work in progress is named after the process doing it (``owner_tag``): a run's
``runs/.partial-<run-id>/`` (its ``.owner``), DuckDB's spill folder ``tmp/duckdb-<owner>-*``,
Spark's ``tmp/spark/job-<owner>-*`` and an ingest's ``.<file>~<owner>.tmp`` beside its
dataset and rejects. A process killed outright (by the out-of-memory killer, or kill -9)
cannot tidy up, and what it leaves holds records: ``remove_leftovers`` deletes whatever a
process of this machine that is no longer running left, whenever a command opens DuckDB on
the workspace, and ``purge`` does too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matching.errors import UserError

try:
    import fcntl
except ImportError:  # Windows: whether a process has ended rests on its pid alone
    fcntl = None  # type: ignore[assignment]

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


OWNER_FILE = ".owner"  # in a partial run: the owner_tag of the process writing it
# A partial run with no owner (one begun by an older version) is left for a day.
UNOWNED_PARTIAL_SECONDS = 24 * 3600
_SCRATCH = re.compile(r"(?:duckdb|job)-(?P<owner>.+)-[0-9a-f]{8}")


def owner_tag() -> str:
    """This process as it names its work in progress: ``<host>.<pid>``."""
    return f"{socket.gethostname()}.{os.getpid()}"


_claimed: dict[tuple[int, Path], int] = {}  # (pid, lock file) -> the open, locked descriptor


def _lock_file(ws: Workspace, owner: str) -> Path:
    return ws.tmp / "owners" / f"{owner}.lock"


def claim(ws: Workspace) -> str:
    """Mark this process as working in ``ws`` until it ends, and return its ``owner_tag``.

    It holds an exclusive lock on ``tmp/owners/<owner>.lock``, which the kernel releases when
    the process ends however it ends. A pid alone cannot say a process has ended: a container
    sharing the workspace and the host name has pids of its own."""
    owner = owner_tag()
    path = _lock_file(ws, owner)
    if (os.getpid(), path) not in _claimed:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        _claimed[(os.getpid(), path)] = fd
    return owner


def _gone(ws: Workspace, owner: str) -> bool:
    """Whether the process ``owner`` names has ended: it ran on this machine (a bare pid, as
    older versions named work, is this machine's), its pid is not running, and nothing holds
    its lock (``claim``). One on another machine sharing the workspace is never gone."""
    import psutil

    host, _, pid = owner.rpartition(".")
    if (host and host != socket.gethostname()) or not pid.isdigit() or psutil.pid_exists(int(pid)):
        return False
    if fcntl is None:
        return True
    try:
        fd = os.open(_lock_file(ws, owner), os.O_RDWR)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # held: the process runs, in another pid namespace
    finally:
        os.close(fd)
    return True


def leftovers(ws: Workspace) -> list[Path]:
    """What processes that ended without tidying up left in the workspace (see above)."""
    found: list[Path] = []
    for folder in (ws.tmp, ws.tmp / "spark"):
        if folder.is_dir():
            found += [p for p in folder.iterdir() if p.is_dir() and (m := _SCRATCH.fullmatch(p.name)) and _gone(ws, m["owner"])]
    if ws.runs.is_dir():
        for p in ws.runs.glob(".partial-*"):
            try:
                owner: str | None = (p / OWNER_FILE).read_text(encoding="utf-8").strip()
            except OSError:
                owner = None
            try:
                age = time.time() - p.stat().st_mtime
            except OSError:
                continue
            if (owner is not None and _gone(ws, owner)) or (owner is None and age > UNOWNED_PARTIAL_SECONDS):
                found.append(p)
    for folder in (ws.datasets, ws.rejects):
        if folder.is_dir():
            found += [p for p in folder.rglob(".*~*.tmp") if _gone(ws, p.name[:-4].rpartition("~")[2])]
    owners = ws.tmp / "owners"
    if owners.is_dir():
        found += [p for p in owners.glob("*.lock") if _gone(ws, p.name[: -len(".lock")])]
    return sorted(found)


def remove_leftovers(ws: Workspace) -> list[Path]:
    """Delete ``leftovers``; returns what was deleted."""
    found = leftovers(ws)
    for p in found:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return found


def temporary_beside(path: Path) -> Path:
    """Where to write ``path`` before renaming it into place, named after this process."""
    return path.with_name(f".{path.name}~{owner_tag()}.tmp")


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
    """A run folder's manifest.json, or None where ``load_run_manifest`` would say what is wrong."""
    try:
        return load_run_manifest(folder)
    except UserError:
        return None


def run_manifest_problem(manifest: Any) -> str | None:
    """What is wrong with a parsed run manifest, or None: its run id, job, creation time,
    threshold, inputs and counts, each of the type ``matching run`` writes."""
    if not isinstance(manifest, dict):
        return "it is not a JSON object"
    expected: dict[str, type | tuple[type, ...]] = {
        "run_id": str, "job": str, "created_at": str, "threshold": (int, float), "inputs": list, "counts": dict,
    }
    for key, kind in expected.items():
        if not isinstance(manifest.get(key), kind) or isinstance(manifest.get(key), bool):
            return f"its {key} is missing or not what matching run writes"
    for item in manifest["inputs"]:
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("side", "kind", "body", "submission_id")):
            return "an input lacks its side, kind, body or submission id"
    return None


def load_run_manifest(folder: Path) -> dict[str, Any]:
    """A run folder's manifest, or a UserError saying what is wrong with it and what to do."""
    path = folder / "manifest.json"
    damaged = f"{path}: {{}}; the run bundle is damaged.\n  Fix: run the job again (matching run JOB), or move the folder out of {folder.parent}."
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(damaged.format("missing")) from None
    except (OSError, ValueError) as exc:
        raise UserError(damaged.format(f"cannot be read as JSON ({(str(exc).splitlines() or [type(exc).__name__])[0]})")) from None
    problem = run_manifest_problem(manifest)
    if problem:
        raise UserError(damaged.format(problem))
    return dict(manifest)
