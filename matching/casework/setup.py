"""Start Django for the CLI: point it at a workspace and bring the case store's schema up to date."""

from __future__ import annotations

import os
from pathlib import Path

_ready: Path | None = None


def use_workspace(workspace: Path, *, migrate: bool = True) -> None:
    """Configure Django for ``workspace`` (once per process) and apply any pending migrations."""
    global _ready
    import django
    from django.conf import settings

    if _ready is not None:
        return
    if settings.configured and django.apps.apps.ready:
        # Already set up by the host process (the test suite, or `serve` after a command).
        _ready = workspace
        return
    os.environ["MATCHING_WORKSPACE"] = str(workspace)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "matching.web.settings")
    workspace.mkdir(parents=True, exist_ok=True)
    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    _ready = workspace
