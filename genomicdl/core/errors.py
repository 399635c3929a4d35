"""Errors meant for the user: they say which file, which record and what was expected."""

from __future__ import annotations

from pathlib import Path


class GenomicdlError(Exception):
    """An error a user can fix; the workflow prints its message without a traceback."""


class ConfigError(GenomicdlError):
    """The configuration is invalid; the message names the offending key."""


class InputError(GenomicdlError):
    """An input file is malformed or inconsistent with another input."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class DownloadError(GenomicdlError):
    """A download failed or delivered something other than the expected file."""


class DiskFullError(GenomicdlError):
    """The device ran out of space while an output was written (nothing half-written is left)."""
