"""Named seed streams (`popsim.seeds`): one seed reproduces a run, and the answers are those written before the
streams were named (golden files made by tests/data/golden/make.py at that revision)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from popsim.errors import PopsimError
from popsim.seeds import STREAMS, stream

GOLDEN = Path(__file__).parent / "data" / "golden"


def _golden():
    import importlib.util

    spec = importlib.util.spec_from_file_location("golden_make", GOLDEN / "make.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MAKE = _golden()


@pytest.mark.parametrize("name", sorted(MAKE.RUNS))
def test_answers_equal_the_golden_answers(name):
    want = pd.read_parquet(GOLDEN / f"{name}.parquet")
    got = MAKE.answers(MAKE.RUNS[name])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)


def test_streams_are_the_documented_entropy():
    """The numbers of the streams are part of every earlier run's answers: they never change."""
    assert STREAMS == {"population": 0, "agent": 1, "network": 2, "groups": 3}
    assert stream(7, "agent", 3).random() == np.random.default_rng([7, 1, 3]).random()
    assert stream(7, "population").random() != stream(8, "population").random()
    with pytest.raises(PopsimError, match="unknown random stream 'agents'"):
        stream(7, "agents")
