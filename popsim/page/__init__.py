"""The Solara page of popsim (`solara run app.py --host 127.0.0.1`); see docs/app.md.

Only this package imports solara; nothing else in popsim imports it. `settings`, `session` and
`views` are plain Python (testable without a browser); `components` holds the Solara components.
"""

from __future__ import annotations


def __getattr__(name):  # `from popsim.page import Page` imports solara only when asked
    if name == "Page":
        from .components import Page

        return Page
    raise AttributeError(name)


__all__ = ["Page"]
