"""What a process killed mid-work leaves in a workspace (the out-of-memory killer gives no
chance to tidy up) holds records: the next command that opens DuckDB on the workspace
removes it, and `purge` removes it and says so. Work still running, here or on another
machine sharing the workspace, is left alone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from matching.casework.retention import purge
from matching.ingest.pipeline import connect
from matching.workspace import Workspace, leftovers, owner_tag


def _ended_process() -> int:
    """The pid of a process that has run and ended."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _file(path: Path, content: bytes = b"HB00012,SMITH,JOHN") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _killed_work(ws: Workspace) -> dict[str, Path]:
    """What a killed run, ingest and Spark job leave behind, and work that is not finished."""
    host, dead = socket.gethostname(), _ended_process()
    partial = ws.runs / ".partial-20261130T000000-hb-to-deceased-0badc0de"
    _file(partial / ".owner", f"{host}.{dead}".encode())
    _file(partial / ".scored" / "chunk-0001.parquet")
    old_unowned = ws.runs / ".partial-20251130T000000-hb-to-deceased-00000001"  # from an older version
    _file(old_unowned / "pairs.parquet")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old_unowned, (two_days_ago, two_days_ago))
    live = ws.runs / ".partial-20261130T000001-hb-to-deceased-0badc0de"
    _file(live / ".owner", owner_tag().encode())
    return {
        "killed run": partial,
        "older version's run": old_unowned,
        "spill folder": _file(ws.tmp / f"duckdb-{host}.{dead}-0123abcd" / "duckdb_temp_block-1.block").parent,
        "older version's spill folder": _file(ws.tmp / f"duckdb-{dead}-89abcdef" / "duckdb_temp_block-2.block").parent,
        "Spark job": _file(ws.tmp / "spark" / f"job-{host}.{dead}-0123abcd" / "checkpoints" / "part-0").parent.parent,
        "half-written dataset": _file(ws.datasets / "payroll" / "kingston" / f".20261130T000000-payroll-kingston-0badc0de.parquet~{host}.{dead}.tmp"),
        "half-written rejects": _file(ws.rejects / f".20261130T000000-payroll-kingston-0badc0de.csv~{host}.{dead}.tmp"),
        # not finished: kept
        "running": live,
        "another machine's": _file(ws.tmp / f"duckdb-other-host.example.{dead}-0123abcd" / "duckdb_temp_block-3.block").parent,
        "a run begun an hour ago by an older version": _file(ws.runs / ".partial-20261130T000002-hb-to-deceased-00000002" / "pairs.parquet").parent,
    }


KEPT = ("running", "another machine's", "a run begun an hour ago by an older version")


def test_the_next_command_removes_what_a_killed_process_left(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    work = _killed_work(ws)
    with connect(ws):
        pass
    assert {name for name, path in work.items() if path.exists()} == set(KEPT)


@pytest.mark.django_db
def test_purge_removes_what_a_killed_process_left_and_counts_it(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    work = _killed_work(ws)
    plan = purge(ws, date(2000, 1, 1), "test", dry_run=True)
    assert sorted(plan.leftovers) == sorted(path for name, path in work.items() if name not in KEPT)
    assert plan.file_counts()["left_by_interrupted_work"] == 7 and all(p.exists() for p in work.values())
    purge(ws, date(2000, 1, 1), "test")
    assert {name for name, path in work.items() if path.exists()} == set(KEPT)
    assert leftovers(ws) == []


def test_work_whose_owner_still_holds_its_lock_is_kept(tmp_path: Path) -> None:
    """A pid says nothing across containers that share a workspace and a host name: a
    process whose pid this machine does not know, but which holds its lock, is running."""
    import fcntl

    ws = Workspace(tmp_path / "ws")
    owner = f"{socket.gethostname()}.{_ended_process()}"
    spill = _file(ws.tmp / f"duckdb-{owner}-0123abcd" / "duckdb_temp_block-1.block").parent
    lock = _file(ws.tmp / "owners" / f"{owner}.lock", b"")
    with open(lock, "rb+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert leftovers(ws) == []
    assert leftovers(ws) == sorted([lock, spill])  # released: the process has ended
