"""The popsim page: explore a simulated population next to the human reference data.

    solara run app.py --host 127.0.0.1            # then open http://127.0.0.1:8765

Serve it on the loopback address only: the page runs models and reads run folders on this machine.
What each control and view does: docs/app.md.
"""

from popsim.page.components import Page  # noqa: F401  (solara serves the `Page` component)
