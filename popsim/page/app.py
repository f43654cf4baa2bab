"""The page as Solara serves it from an installed popsim (`popsim page`, or `solara run popsim.page.app`).

The repository's `app.py` is a thin entry point to the same `Page`.
"""

from .components import Page  # noqa: F401  (solara serves the `Page` component)

__all__ = ["Page"]
