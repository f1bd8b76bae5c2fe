"""Errors a user can cause. The CLI prints their message and exits 2; never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix: the message names the file, row, field and what to do."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(UserError):
    """A configuration file (data specification, job) is invalid."""


class UnusableFileError(UserError):
    """A submitted file cannot be ingested at all; nothing is written."""


class DuplicateSubmissionError(UserError):
    """The same file (same SHA-256) was already ingested for this kind and body, as submission
    ``previous_id``."""

    def __init__(self, message: str, previous_id: str = "") -> None:
        super().__init__(message)
        self.previous_id = previous_id


class NotAnOwnerError(UserError):
    """``run --body``: the body owns none of the job's inconsistencies (``run --all`` skips the job)."""
