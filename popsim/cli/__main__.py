"""`python -m popsim.cli ...` is `popsim ...`."""

import os
import sys

from . import main

os.environ.setdefault("PYTHONUNBUFFERED", "1")
sys.exit(main())
