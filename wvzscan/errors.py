"""The one error type the engine raises for "cannot be done as asked", and the exit codes.

The engine never exits, prints or imports click: it raises ``WvzscanError`` (or returns results
whose ``exit_code`` says what the interface's exit code is), and the CLI maps both in one place.
"""

from __future__ import annotations

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2  # the scan could not be done as asked
EXIT_INCOMPLETE = 3  # nothing found, but part of the input could not be read


class WvzscanError(Exception):
    """A clear one-line reason why the work could not be done as asked (exit 2), never a traceback."""

    exit_code = EXIT_USAGE
