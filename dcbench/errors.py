"""The one root of dcbench's error types.

Every package (``dcbench``, ``workloads``, ``simulator``, ``reports``) raises
subclasses of :class:`DcbenchError` for problems a user can fix. The CLI turns
them into one line on stderr and an exit code: 2 for bad usage or input, 1 for
a runtime failure. Messages name the problem and, where there is one, the fix.
This module imports nothing else from the project so any package may use it.
"""

from __future__ import annotations


class DcbenchError(Exception):
    """A problem the user can act on; ``str(err)`` is the one-line message."""

    exit_code: int = 1


class UsageError(DcbenchError):
    """Bad arguments, unknown names or invalid input files (exit code 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """A config or scenario file that is missing fields, has unknown keys or wrong values."""


class NotFoundError(UsageError):
    """An unknown name (workload, model, GPU, run id, preset)."""


class DeviceError(UsageError):
    """A requested device that is not present or cannot be used."""


class StoreError(DcbenchError):
    """The results store cannot be opened, written or read."""


class InfeasibleError(DcbenchError):
    """A plan or layout that cannot work (does not fit, does not divide, misses a deadline)."""


def closest(name: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """Return the closest valid choice to ``name`` (for "did you mean" hints), or None."""
    import difflib

    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return match[0] if match else None


def unknown(kind: str, name: str, choices: list[str] | tuple[str, ...]) -> NotFoundError:
    """Build the standard 'unknown X' error, with a suggestion and the valid choices."""
    hint = closest(name, choices)
    did_you_mean = f"; did you mean {hint!r}?" if hint else ""
    return NotFoundError(
        f"unknown {kind} {name!r}{did_you_mean} (choose from: {', '.join(sorted(choices))})"
    )
