"""What a process killed mid-work leaves in a workspace (the out-of-memory killer gives no
chance to tidy up) holds records: the next command that opens DuckDB on the workspace
removes it, and `purge` removes it and says so. Work still running, here, in another
container sharing the workspace or on another machine, is left alone, as is work whose
owner cannot be asked until it has been idle for a day."""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from matching import workspace as workspace_module
from matching.casework.retention import purge
from matching.ingest.pipeline import connect
from matching.workspace import Workspace, claim, leftovers, machine_id, owner_tag, stale_locks

TWO_DAYS_AGO = time.time() - 2 * 24 * 3600


def _ended_process() -> int:
    """The pid of a process that has run and ended."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _file(path: Path, content: bytes = b"HB00012,SMITH,JOHN") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _idle_for(days: int, path: Path) -> Path:
    """``path``, and the folder it is in, last changed ``days`` ago."""
    then = time.time() - days * 24 * 3600
    for p in (path, path.parent):
        os.utime(p, (then, then))
    return path


def _idle_for_two_days(path: Path) -> Path:
    for p in [path, *path.rglob("*")]:
        os.utime(p, (TWO_DAYS_AGO, TWO_DAYS_AGO))
    return path


def _killed_work(ws: Workspace) -> dict[str, Path]:
    """What a killed run, ingest and Spark job leave behind (removed), and work that is
    running or whose owner cannot be asked (kept: the names in KEPT)."""
    host, dead = machine_id(), _ended_process()
    killed = f"{host}.{dead}.0badc0de"
    _file(ws.tmp / "owners" / f"{killed}.lock", b"")  # its lock file, which nothing holds now
    partial = ws.runs / ".partial-20261130T000000-hb-to-deceased-0badc0de"
    _file(partial / ".owner", killed.encode())
    _file(partial / ".scored" / "chunk-0001.parquet")
    claim(ws)
    live = ws.runs / ".partial-20261130T000001-hb-to-deceased-0badc0de"
    _file(live / ".owner", owner_tag().encode())
    unlocked = f"{host}.{dead}.feedbeef"  # could not take a lock (a read-only tmp/, no locks)
    return {
        "killed run": partial,
        "spill folder": _file(ws.tmp / f"duckdb-{killed}-0123abcd" / "duckdb_temp_block-1.block").parent,
        "Spark job": _file(ws.tmp / "spark" / f"job-{killed}-0123abcd" / "checkpoints" / "part-0").parent.parent,
        "Spark's shuffle files": _file(ws.tmp / "spark" / f"local-{killed}-0123abcd" / "blockmgr-1" / "shuffle_0_0_0.data").parent.parent,
        "half-written dataset": _file(ws.datasets / "payroll" / "kingston" / f".20261130T000000-payroll-kingston-0badc0de.parquet~{killed}.tmp"),
        "half-written rejects": _file(ws.rejects / f".20261130T000000-payroll-kingston-0badc0de.csv~{killed}.tmp"),
        "an older version's run, idle for a day": _idle_for_two_days(_file(ws.runs / ".partial-20251130T000000-hb-to-deceased-00000001" / "pairs.parquet").parent),
        "an older version's spill folder, idle for a day": _idle_for_two_days(_file(ws.tmp / f"duckdb-{dead}-89abcdef" / "duckdb_temp_block-2.block").parent),
        "unlocked work, idle for a day": _idle_for_two_days(_file(ws.tmp / f"duckdb-{unlocked}-0123abcd" / "b.block").parent),
        "another machine's, idle for a week": _idle_for(8, _file(ws.tmp / f"duckdb-other-host.example.{dead}.0badc0de-89abcdef" / "b.block")).parent,
        # kept
        "running": live,
        "another machine's": _idle_for(2, _file(ws.tmp / f"duckdb-other-host.example.{dead}.0badc0de-0123abcd" / "duckdb_temp_block-3.block")).parent,
        "an older version's run, begun an hour ago": _file(ws.runs / ".partial-20261130T000002-hb-to-deceased-00000002" / "pairs.parquet").parent,
        "an older version's spill folder, in use": _file(ws.tmp / f"duckdb-{dead}-fedcba98" / "duckdb_temp_block-4.block").parent,
        "an older version's spill folder, idle but for one new file": _freshened(_idle_for_two_days(_file(ws.tmp / f"duckdb-{dead}-76543210" / "old.block").parent)),
        "unlocked work, in use": _file(ws.tmp / f"duckdb-{unlocked}-89abcdef" / "b.block").parent,
    }


KEPT = {"running", "another machine's", "an older version's run, begun an hour ago", "an older version's spill folder, in use",
        "an older version's spill folder, idle but for one new file", "unlocked work, in use"}


def _freshened(folder: Path) -> Path:
    """A folder idle for days but for one file written just now, deep inside it."""
    _file(folder / "deeper" / "new.block")
    os.utime(folder / "deeper", (TWO_DAYS_AGO, TWO_DAYS_AGO))
    os.utime(folder, (TWO_DAYS_AGO, TWO_DAYS_AGO))
    return folder


def test_the_next_command_removes_what_a_killed_process_left(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    work = _killed_work(ws)
    with connect(ws):
        pass
    assert {name for name, path in work.items() if path.exists()} == KEPT
    assert stale_locks(ws) == [] and (ws.tmp / "owners" / f"{owner_tag()}.lock").exists()


@pytest.mark.django_db
def test_purge_removes_what_a_killed_process_left_and_counts_it(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    work = _killed_work(ws)
    plan = purge(ws, date(2000, 1, 1), "test", dry_run=True)
    assert sorted(plan.leftovers) == sorted(path for name, path in work.items() if name not in KEPT)
    assert plan.file_counts()["left_by_interrupted_work"] == len(work) - len(KEPT) and all(p.exists() for p in work.values())
    purge(ws, date(2000, 1, 1), "test")
    assert {name for name, path in work.items() if path.exists()} == KEPT
    assert leftovers(ws) == [] and stale_locks(ws) == []


def test_work_whose_owner_still_holds_its_lock_is_kept(tmp_path: Path) -> None:
    """A pid says nothing across containers that share a workspace and a host name: a
    process whose pid this machine does not know, but which holds its lock, is running."""
    ws = Workspace(tmp_path / "ws")
    owner = f"{machine_id()}.{_ended_process()}.0badc0de"
    spill = _file(ws.tmp / f"duckdb-{owner}-0123abcd" / "duckdb_temp_block-1.block").parent
    lock = _file(ws.tmp / "owners" / f"{owner}.lock", b"")
    with open(lock, "rb+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert leftovers(ws) == [] and stale_locks(ws) == []
    assert leftovers(ws) == [spill] and stale_locks(ws) == [lock]  # released: the process has ended


def test_a_process_that_ends_normally_leaves_no_lock_file(tmp_path: Path) -> None:
    """Else purge would count every finished command as interrupted work."""
    ws = tmp_path / "ws"
    subprocess.run([sys.executable, "-c", f"from matching.ingest.pipeline import connect\nfrom matching.workspace import Workspace\n"
                    f"with connect(Workspace.at({str(ws)!r})) as con: con.execute('SELECT 42')"], check=True)
    assert list((ws / "tmp" / "owners").iterdir()) == [] and leftovers(Workspace(ws)) == []


def test_a_workspace_without_locks_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Storage without locks (NFS without lockd, some shares), or a read-only tmp/: the
    command goes on, and leaves no lock file to mislead the next."""
    def no_locks(*_: object) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    monkeypatch.setattr(workspace_module, "_claimed", {})
    ws = Workspace(tmp_path / "ws")
    with connect(ws) as con:
        assert con.execute("SELECT 42").fetchall() == [(42,)]
    assert not list((ws.tmp / "owners").glob("*.lock"))


def test_two_threads_claiming_at_once_do_not_wait_on_each_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace_module, "_claimed", {})
    ws = Workspace(tmp_path / "ws")
    start, owners = threading.Barrier(2), []

    def go() -> None:
        start.wait()
        owners.append(claim(ws))

    threads = [threading.Thread(target=go, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert owners == [owner_tag()] * 2


def test_a_forked_child_leaving_does_not_delete_its_parents_folder(tmp_path: Path) -> None:
    """A web server's or notebook's child process runs the exit handlers it inherited; the
    folder its parent still works in must outlive it."""
    folder = tmp_path / "local-x"
    script = f"""
import os, sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from matching.workspace import remove_at_exit
folder = Path({str(folder)!r}); folder.mkdir()
remove_at_exit(folder)
pid = os.fork()
if pid == 0:
    sys.exit(0)  # the child: its exit handlers run, the parent's folder stays
os.waitpid(pid, 0)
print("kept" if folder.exists() else "deleted")
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "kept" and not folder.exists()  # and gone when the parent ends


@pytest.fixture
def term_unwinds() -> Iterator[None]:
    """TERM handled as `matching` handles it (raises SystemExit), as in the CLI."""
    import signal

    from matching.cli import _stop_on_sigterm

    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_a_stop_inside_a_held_block_is_acted_on_as_it_ends(term_unwinds: None) -> None:
    import signal

    from matching.workspace import signals_held

    reached = []
    with pytest.raises(SystemExit) as stopped:
        with signals_held():
            signal.raise_signal(signal.SIGTERM)
            reached.append("the rest of the block")
    assert reached == ["the rest of the block"]
    assert stopped.value.code == 128 + signal.SIGTERM
    with pytest.raises(KeyboardInterrupt):  # and Ctrl-C after it is handled as before
        signal.raise_signal(signal.SIGINT)


def test_a_term_held_with_a_ctrl_c_is_the_one_acted_on(term_unwinds: None) -> None:
    """A scheduler's TERM after a user's Ctrl-C: the process ends as terminated (143), and
    both handlers are back afterwards."""
    import signal

    from matching.cli import _stop_on_sigterm
    from matching.workspace import signals_held

    with pytest.raises(SystemExit) as stopped:
        with signals_held():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGTERM)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is _stop_on_sigterm
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_a_stop_as_a_file_is_begun_leaves_nothing_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, term_unwinds: None, stop: str,
) -> None:
    """The moment between making the temporary file and knowing its name: a stop there used to
    leave it (holding records, where nothing tidies it); the old file is kept whole."""
    import signal
    import tempfile

    from matching.workspace import write_json_atomic

    target = tmp_path / "out" / "manifest.json"
    write_json_atomic(target, {"run": 1})
    real = tempfile.mkstemp

    def stopped_just_after(*args: Any, **kwargs: Any) -> tuple[int, str]:
        made = real(*args, **kwargs)
        signal.raise_signal(getattr(signal, stop))
        return made

    monkeypatch.setattr(tempfile, "mkstemp", stopped_just_after)
    with pytest.raises((SystemExit, KeyboardInterrupt)):
        write_json_atomic(target, {"run": 2})
    assert [p.name for p in target.parent.iterdir()] == ["manifest.json"]
    assert target.read_text(encoding="utf-8") == '{\n  "run": 1\n}\n'


def test_a_replaced_file_keeps_its_permissions_and_a_new_one_is_private(tmp_path: Path) -> None:
    from matching.workspace import write_json_atomic

    shared = tmp_path / "job.json"
    shared.write_text("{}", encoding="utf-8")
    shared.chmod(0o644)
    write_json_atomic(shared, {"threshold": 0.9})
    new = tmp_path / "manifest.json"
    write_json_atomic(new, {"records": 3})
    assert (shared.stat().st_mode & 0o777, new.stat().st_mode & 0o777) == (0o644, 0o600)
