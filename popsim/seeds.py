"""Named random streams of a run: one seed, and an independent generator per use, by name.

Every random draw of a run comes from one of these streams (NumPy `SeedSequence` entropy `[seed, stream, *index]`),
so one seed reproduces the run, and adding draws to one stream never shifts another's. The Mesa model's own
`rng` (`mesa.Model(rng=seed)`) is seeded with the same seed and is what Mesa's own methods use (e.g.
`AgentSet.shuffle_do`); popsim's draws use the named streams below, whose numbers must never change (the
answers of every earlier run depend on them).
"""

from __future__ import annotations

import numpy as np

#: stream name -> its fixed number (the second entropy word)
STREAMS: dict[str, int] = {
    "population": 0,  # who the agents are: strategy draws, synthetic twins, genders
    "agent": 1,  # one per agent (index): option orders and answer draws
    "network": 2,  # the social network
    "groups": 3,  # the public goods game's fixed groups when there is no network
}


def stream(seed: int, name: str, *index: int) -> np.random.Generator:
    """The generator of stream `name` (and `index`, e.g. the agent's) of a run with `seed`."""
    if name not in STREAMS:
        from .errors import unknown

        raise unknown("random stream", name, STREAMS)
    return np.random.default_rng([int(seed), STREAMS[name], *(int(i) for i in index)])
