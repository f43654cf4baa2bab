"""The popsim page: explore a simulated population next to the human reference data.

    solara run app.py --host 127.0.0.1            # then open http://127.0.0.1:8765
    python app.py                                 # the same (loopback only); extra arguments go to solara run

Serve it on the loopback address only: the page runs models and reads run folders on this machine.
What each control and view does: docs/app.md.
"""

import os
import sys

from popsim.page.components import Page  # noqa: F401  (solara serves the `Page` component)

# `python app.py`: solara run on 127.0.0.1 unless --host is given. (Solara itself runs this file as __main__
# too, with SOLARA_APP set: then it only defines Page.)
if __name__ == "__main__" and "SOLARA_APP" not in os.environ:
    args = sys.argv[1:] if "--host" in sys.argv[1:] else ["--host", "127.0.0.1", *sys.argv[1:]]
    os.execv(sys.executable, [sys.executable, "-m", "solara", "run", os.path.abspath(__file__), *args])
