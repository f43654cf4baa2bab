"""Errors a user can cause. Each message says what is wrong and how to fix it.

The command line prints a `PopsimError` as one line and exits with status 2; the library
raises it (it subclasses `ValueError`, so ordinary `except ValueError` code keeps working).
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Iterable


class PopsimError(ValueError):
    """A problem with the user's input or environment, with the fix in the message."""


class BackendUnavailable(PopsimError):
    """The model server or embedded model cannot be reached or loaded."""


class RunInterrupted(PopsimError):
    """A run stopped before the end (Ctrl-C, error budget); everything answered is cached."""


def unknown(kind: str, name: object, known: Iterable[str], *, hint: str = "") -> PopsimError:
    """`unknown('scenario', 'ess22', [...])` -> error naming the choices and the closest one."""
    known = list(known)
    close = get_close_matches(str(name), known, n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    extra = f" {hint}" if hint else ""
    return PopsimError(f"unknown {kind} {name!r}{guess}; choose one of: {', '.join(known)}.{extra}")
