"""Shared fixtures: a fresh workspace per test and a CLI runner that reports what a user sees."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from matching.cli import cli

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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request: pytest.FixtureRequest) -> None:
    """A test database per xdist worker. SQLite's is a real file, not shared-cache memory,
    so locking and WAL behave as they do in use."""
    from django.conf import settings

    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    db = settings.DATABASES["default"]
    test = db.setdefault("TEST", {})
    if db["ENGINE"].endswith("sqlite3"):
        test["NAME"] = os.path.join(tempfile.gettempdir(), f"matching-test-{worker}-{os.getpid()}.sqlite3")
    else:
        test["NAME"] = f"{test.get('NAME') or 'test_' + str(db['NAME'])}_{worker}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2 at production strength costs ~0.3 s a user; tests create dozens."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
