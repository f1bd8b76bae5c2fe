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
Spark's ``tmp/spark/job-<owner>-*`` and ``tmp/spark/local-<owner>-*`` (shuffle, spill and
the JVM's temporary files), and an ingest's ``.<file>~<owner>.tmp`` beside its
dataset and rejects, and the process holds a lock while it works (``claim``). A process
killed outright (by the out-of-memory killer, or kill -9) cannot tidy up, and what it leaves
holds records: ``remove_leftovers`` deletes what a process of this machine that has ended
left, whenever a command opens DuckDB on the workspace, and ``purge`` does too.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
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

    def bodies_with_data(self) -> set[str]:
        """The bodies with a dataset of any kind in the workspace (``datasets/<kind>/<body>/``)."""
        return {p.name for p in self.datasets.glob("*/*") if p.is_dir()}

    def dataset_path(self, kind: str, body: str, submission_id: str) -> Path:
        return self.datasets / kind / body / f"{submission_id}.parquet"

    def rejects_path(self, submission_id: str) -> Path:
        return self.rejects / f"{submission_id}.csv"

    def submission_record_path(self, submission_id: str) -> Path:
        return self.submissions / f"{submission_id}.json"


OWNER_FILE = ".owner"  # in a partial run: the owner_tag of the process writing it
# Work named by an older version (a bare pid), or whose owner could not take its lock (a
# read-only tmp/, storage without locks), is judged by its age: left alone for a day.
UNOWNED_SECONDS = 24 * 3600
# Work of another machine (or of this one before it restarted) is asked nothing: its locks and
# pids mean nothing here. It is left until nothing in it has changed for a week.
OTHER_MACHINE_SECONDS = 7 * 24 * 3600
_SCRATCH = re.compile(r"(?:duckdb|job|local)-(?P<owner>.+)-[0-9a-f]{8}")
_OWNER = re.compile(r"(?P<machine>.+)\.(?P<pid>\d+)\.(?P<token>[0-9a-f]{8})")
_token: dict[int, str] = {}
_claim_lock = threading.RLock()
_claimed: dict[tuple[int, Path], int | None] = {}  # (pid, lock file) -> the locked descriptor


@functools.cache
def machine_id() -> str:
    """What pids and locks are shared within: the running kernel (its boot id, the same in
    every container on it, and new after a restart), else the host name."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip().replace("-", "")
    except OSError:
        return socket.gethostname()


def owner_tag() -> str:
    """This process as it names its work in progress: ``<machine>.<pid>.<token>``, the token
    random, so that no two processes ever share a name (nor a lock file), whatever their pids."""
    pid = os.getpid()
    with _claim_lock:  # one token a process, whichever thread asks first
        if pid not in _token:
            _token[pid] = secrets.token_hex(4)
        return f"{machine_id()}.{pid}.{_token[pid]}"


def _lock_file(ws: Workspace, owner: str) -> Path:
    return ws.tmp / "owners" / f"{owner}.lock"


def claim(ws: Workspace) -> str:
    """Mark this process as working in ``ws`` until it ends, and return its ``owner_tag``.

    It holds an exclusive lock on ``tmp/owners/<owner>.lock``, which the kernel releases when
    the process ends however it ends; a normal exit also removes the file. The file is made
    and locked under a temporary name, then renamed, so a sweep never finds it unlocked.
    Where it cannot be (a read-only workspace, storage without locks) work goes on, and what
    it leaves is judged by its age (``UNOWNED_SECONDS``)."""
    with _claim_lock:  # two threads of one process: one lock between them
        owner = owner_tag()
        path = _lock_file(ws, owner)
        key = (os.getpid(), path)
        if key not in _claimed:
            fd: int | None = None
            if fcntl is not None:
                making = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    fd = os.open(making, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else has it
                    os.replace(making, path)
                except OSError:
                    if fd is not None:
                        os.close(fd)
                    with contextlib.suppress(OSError):
                        making.unlink()
                    fd = None
            _claimed[key] = fd
            if fd is not None:
                _at_exit_here(_release, path, fd)
    return owner


def _at_exit_here(handler: Any, *args: Any) -> None:
    """Run ``handler(*args)`` when this process ends normally: this process, not a child
    forked from it, which runs the same exit handlers while its parent still works on."""
    pid = os.getpid()

    def run() -> None:
        if os.getpid() == pid:
            handler(*args)

    atexit.register(run)


def _release(path: Path, fd: int) -> None:
    """At a normal exit: nothing is left, so neither is the lock file."""
    with contextlib.suppress(OSError):
        path.unlink()
    with contextlib.suppress(OSError):
        os.close(fd)


def remove_at_exit(path: Path) -> None:
    """Delete ``path`` when this process ends normally (not when a forked child does)."""
    _at_exit_here(functools.partial(shutil.rmtree, ignore_errors=True), path)


@contextlib.contextmanager
def _probe(ws: Workspace, owner: str) -> Iterator[str]:
    """The state of ``owner``'s lock while this holds the answer: "held" (the owner runs),
    "free" (it has ended; its lock is held here until the block ends, so its file can be
    deleted safely) or "unknown" (no lock file, or no locks).

    Never asked of this process's own lock: where flock is emulated with POSIX locks (NFS),
    the process would be granted its own lock again, and closing the probe would drop it."""
    if owner == owner_tag():
        yield "held"
        return
    if fcntl is None:
        yield "unknown"
        return
    try:
        fd = os.open(_lock_file(ws, owner), os.O_RDONLY)
    except OSError:
        yield "unknown"
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            state = "held"
        except OSError:
            state = "unknown"
        else:
            state = "free"
        yield state
    finally:
        os.close(fd)


def _lock_state(ws: Workspace, owner: str) -> str:
    with _probe(ws, owner) as state:
        return state


def _idle(path: Path, seconds: float) -> bool:
    """Whether nothing in ``path`` (a file, or a folder and everything in it) has changed for
    ``seconds``."""
    now = time.time()
    try:
        if now - path.stat().st_mtime <= seconds:
            return False
        if path.is_dir():
            for p in path.rglob("*"):
                if now - p.lstat().st_mtime <= seconds:
                    return False
    except OSError:
        return False
    return True


def _gone(ws: Workspace, owner: str, path: Path) -> bool:
    """Whether the process ``owner`` names has ended, so that what it left at ``path`` can go.

    On this machine its lock says (``claim``); where there is none to ask, its pid must have
    ended and ``path`` have been idle for a day. Work an older version named (a bare pid, or
    host and pid) is asked nothing and waits a day idle; another machine's (or this one's
    before it restarted) waits a week idle."""
    import psutil

    m = _OWNER.fullmatch(owner)
    if m is None:
        return _idle(path, UNOWNED_SECONDS)
    if m["machine"] != machine_id():
        return _idle(path, OTHER_MACHINE_SECONDS)
    state = _lock_state(ws, owner)
    if state != "unknown":
        return state == "free"
    return not psutil.pid_exists(int(m["pid"])) and _idle(path, UNOWNED_SECONDS)


def leftovers(ws: Workspace) -> list[Path]:
    """What processes that ended without tidying up left in the workspace (see above): the
    records they held. Their lock files are ``stale_locks``."""
    found: list[Path] = []
    for folder in (ws.tmp, ws.tmp / "spark"):
        if folder.is_dir():
            found += [p for p in folder.iterdir() if p.is_dir() and (m := _SCRATCH.fullmatch(p.name)) and _gone(ws, m["owner"], p)]
    if ws.runs.is_dir():
        for p in ws.runs.glob(".partial-*"):
            try:
                owner = (p / OWNER_FILE).read_text(encoding="utf-8").strip()
            except OSError:
                owner = ""  # begun by an older version, or killed before it named itself
            if _gone(ws, owner, p):
                found.append(p)
    for folder in (ws.datasets, ws.rejects):
        if folder.is_dir():
            found += [p for p in folder.rglob(".*~*.tmp") if _gone(ws, p.name[:-4].rpartition("~")[2], p)]
    return sorted(found)


def stale_locks(ws: Workspace, *, remove: bool = False) -> list[Path]:
    """The lock files of processes that have ended (``claim``); with ``remove``, each is
    deleted while this holds it."""
    owners = ws.tmp / "owners"
    if not owners.is_dir():
        return []
    found = []
    for p in sorted(owners.glob("*.lock")):
        with _probe(ws, p.name[: -len(".lock")]) as state:
            if state == "free":
                found.append(p)
                if remove:
                    with contextlib.suppress(OSError):
                        p.unlink()
    return found


def remove_leftovers(ws: Workspace, found: list[Path] | None = None) -> list[Path]:
    """Delete ``leftovers`` (or ``found``, a list of them made just before), then
    ``stale_locks``; returns the leftovers deleted. In a read-only workspace nothing can be,
    and the command goes on."""
    found = leftovers(ws) if found is None else found
    for p in found:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                p.unlink()
    stale_locks(ws, remove=True)
    return found


def temporary_beside(path: Path) -> Path:
    """Where to write ``path`` before renaming it into place, named after this process."""
    return path.with_name(f".{path.name}~{owner_tag()}.tmp")


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C or a TERM that arrives inside the block is acted on as the block ends, not in it.

    Work in progress is made and remembered inside such a block (``partial = ...mkdir()``),
    so that a stop arriving between the two, which would leave it where nothing tidies it,
    instead arrives where it is known and removed. Only signals handled in Python are held
    (``matching``'s own TERM handler, and Ctrl-C's KeyboardInterrupt), and only on the main
    thread, the one Python runs them on. A TERM held with a Ctrl-C is the one acted on."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    ended = False
    previous: dict[signal.Signals, Any] = {}

    def hold(signum: int, frame: Any) -> None:
        if ended:  # arrived while the handlers were being put back: acted on at once
            previous[signal.Signals(signum)](signum, frame)
        else:
            held.append(signum)

    try:
        for s in (signal.SIGINT, signal.SIGTERM):
            if callable(handler := signal.getsignal(s)):
                previous[s] = handler  # before it is replaced: put back whatever happens next
                signal.signal(s, hold)
        yield
    finally:
        ended = True  # from here a stop is acted on, even by a ``hold`` not yet replaced
        for s, handler in previous.items():
            signal.signal(s, handler)
        if held:
            first = signal.SIGTERM if signal.SIGTERM in held else signal.Signals(held[0])
            previous[first](first, None)


@contextlib.contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A new temporary file beside ``path`` to write; renamed onto ``path`` as the block ends,
    and removed if it does not end normally (an error, Ctrl-C or a TERM included), so that
    ``path`` is never half-written and nothing is left beside it. A file it replaces keeps its
    permissions; a new one may be read by its owner alone, as what is written may hold records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp: Path | None = None
    try:
        with signals_held():
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f"~{owner_tag()}.tmp", dir=path.parent)
            os.close(fd)
            tmp = Path(name)
        if path.exists():
            shutil.copymode(path, tmp)
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside `path`, then rename it into place."""
    with replaced_atomically(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


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
