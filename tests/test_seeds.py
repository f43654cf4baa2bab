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


@pytest.mark.parametrize("seed", [0, 3, 2**31 - 1, 2**32 + 5, 2**70 + 3])
def test_uniforms_are_each_streams_first_numbers(seed):
    """`seeds.uniforms` (NumPy's SeedSequence and PCG64 in arrays) gives each index's generator's numbers bit for bit."""
    from popsim.seeds import uniforms

    idx = np.r_[0:300, 2**32 - 1, 123456789]
    want = np.array([stream(seed, "agent", int(i)).random(21) for i in idx])
    assert np.array_equal(uniforms(seed, "agent", idx, 21), want)
    assert np.array_equal(uniforms(seed, "population", [5], 3)[0], stream(seed, "population", 5).random(3))


def test_an_agents_generator_continues_after_numbers_drawn_without_it():
    from popsim.agents import draw_uniforms
    from popsim.backends.scripted import ScriptedBackend
    from popsim.model import PopulationModel

    m = PopulationModel(n_agents=6, strategy="h_np", backend=ScriptedBackend(), rng=11)
    agents = m.ordered_agents
    agents[2].answer_rng  # one agent's generator made before any draw
    first, second = draw_uniforms(agents, 4), draw_uniforms(agents[::-1], 3)[::-1]
    after = np.array([a.answer_rng.random(2) for a in agents])
    for a, f, s, x in zip(agents, first, second, after):
        want = np.random.default_rng([11, 1, a.index]).random(9)
        assert np.array_equal(np.r_[f, s, x], want)
