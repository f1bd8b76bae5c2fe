"""publish on a workspace with nothing to publish: a mistyped path is named, and nothing made there."""

from __future__ import annotations

from pathlib import Path


def test_publishing_from_a_mistyped_workspace_is_refused_and_makes_nothing(run_cli, workspace: Path) -> None:
    for args in (("publish", "--all"), ("publish", "20261101T090000-hb-to-deceased-00000001")):
        r = run_cli(*args)
        assert r.exit_code == 2
        assert "there is no workspace there, so no runs to publish" in r.stderr
        assert "Fix: give the workspace the runs were made in" in r.stderr
        assert not workspace.exists()  # no case store, no secret key


def test_a_workspace_without_runs_says_so_and_makes_no_case_store(run_cli, workspace: Path) -> None:
    workspace.mkdir()
    r = run_cli("publish", "--all")
    assert r.exit_code == 0
    assert r.stdout.startswith(f"Nothing to publish: there are no runs in {workspace / 'runs'} yet.")
    assert list(workspace.iterdir()) == []


def test_declaring_in_a_mistyped_workspace_is_refused_and_makes_nothing(run_cli, workspace: Path) -> None:
    r = run_cli("declare", "dwp")
    assert r.exit_code == 2
    assert "there is no workspace there, so no exercise to declare for" in r.stderr
    assert not workspace.exists()  # no case store, no secret key
