"""Start Django for the CLI: point it at a workspace and bring the case store's schema up to date."""

from __future__ import annotations

import os
from pathlib import Path

_ready: Path | None = None


def use_workspace(workspace: Path, *, migrate: bool = True, create: bool = True) -> None:
    """Configure Django for ``workspace`` (once per process) and apply any pending migrations.

    ``create=False`` is for commands that only read the case store: a workspace folder that
    does not exist is refused (a UserError naming it) rather than created with an empty case
    store, which would answer as though there were nothing in it."""
    global _ready
    import django
    from django.conf import settings

    if not create and not os.environ.get("DATABASE_URL"):  # (PostgreSQL's store is not in the folder)
        hosted = settings.configured and django.apps.apps.ready  # the test suite's own database
        missing = (f"There is no workspace at {workspace}" if not workspace.is_dir()
                   else None if hosted or (workspace / "casework.sqlite3").is_file()
                   else f"The workspace {workspace} has no case store (casework.sqlite3)")
        if missing:
            from matching.errors import UserError

            raise UserError(
                f"{missing}, so nothing to read.\n  Fix: name the workspace whose runs were published "
                "(--workspace DIR, or MATCHING_WORKSPACE), or publish one first (matching publish --all)."
            )
    if create:
        workspace.mkdir(parents=True, exist_ok=True)  # the case store's folder, made by a command that writes
    if _ready is not None:
        return
    if settings.configured and django.apps.apps.ready:
        # Already set up by the host process (the test suite, or `serve` after a command).
        _ready = workspace
        return
    os.environ["MATCHING_WORKSPACE"] = str(workspace)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "matching.web.settings")
    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    _ready = workspace
