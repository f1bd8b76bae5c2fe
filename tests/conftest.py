"""Shared fixtures: a fresh workspace per test and a CLI runner that reports what a user sees."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from matching.cli import cli

# The case store's settings read their secret from the environment; tests never write one
# into a workspace of their own.
os.environ.setdefault("MATCHING_SECRET_KEY", "tests-only-not-a-secret-" + "x" * 40)

pytest_plugins = ["tests.casework.fixtures"]

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "ingest" / "corpus"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "workspace"


@pytest.fixture
def run_cli(workspace: Path):
    """Run `matching --workspace <tmp> ARGS...` as a user would and capture what it prints."""

    def run(*args: str) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(cli, ["--workspace", str(workspace), *args], catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


def written_files(workspace: Path) -> list[Path]:
    """Every file under the workspace except DuckDB's scratch space."""
    if not workspace.exists():
        return []
    return sorted(p for p in workspace.rglob("*") if p.is_file() and "tmp" not in p.relative_to(workspace).parts)
