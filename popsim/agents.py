"""`ValueAgent`: a Mesa agent with a human value profile, a gender, an optional prime and its own RNG."""

from __future__ import annotations

import mesa
import numpy as np

from .seeds import uniforms
from .values import CODES10, ValueProfile


class ValueAgent(mesa.Agent):
    """An agent of a `PopulationModel`.

    - `profile`: its 10 centered value scores (`ValueProfile`), what the `profile` style renders;
    - `prime`: the value its persona names (dominant-value styles), or None;
    - `gender`: 'male' / 'female', chooses the item wording;
    - `respondent`: its human twin's answers (item -> code; NaN = no answer), what the reference policy gives:
      a synthetic respondent's, or with strategy `respondents` the real person's;
    - `demographics`: age, education, country of a real respondent where the sample has them (else empty);
    - `answer_rng`: its own generator (seeded from the model's seed and its index), used for option order and
      for sampling answers, so each agent's draws do not depend on the others'; made on first use (`draw_uniforms`
      draws for many agents at once without one, the same numbers);
    - `history`: what happened to it in earlier rounds (games).
    """

    def __init__(self, model, *, index: int, profile: ValueProfile, prime: str | None, gender: str,
                 respondent: dict | None = None, demographics: dict | None = None):
        super().__init__(model)
        self.index = index
        self.profile = profile
        self.prime = prime or None
        self.gender = gender
        self.respondent = respondent
        self.demographics = {k: v for k, v in (demographics or {}).items() if v is not None and v == v}
        self._rng = None  # its generator, once someone asks for it
        self._drawn = 0  # uniform numbers drawn from its stream before the generator was made (`draw_uniforms`)
        self.history: list[dict] = []
        self.last_choice: float = float("nan")
        self.payoff: float = 0.0

    @property
    def answer_rng(self):
        """Its generator, stream 'agent' of its index, past the numbers `draw_uniforms` drew without it."""
        if self._rng is None:
            self._rng = self.model.stream("agent", self.index)
            if self._drawn:
                self._rng.bit_generator.advance(self._drawn)
        return self._rng

    @property
    def person(self) -> dict:
        """Who the agent is, for the demographic prompt styles: gender and its demographics."""
        return {"gender": self.gender, **self.demographics}

    @property
    def dominant(self) -> str | None:
        return self.profile.dominant()

    def value(self, code: str) -> float:
        return self.profile.scores[CODES10.index(code)]

    def neighbors(self) -> list["ValueAgent"]:
        return self.model.neighbors(self)


def draw_uniforms(agents: list[ValueAgent], k: int) -> np.ndarray:
    """Row j: `agents[j].answer_rng.random(k)`, the next `k` uniform numbers of each agent's own stream. Agents
    whose generator is not made yet get theirs from `seeds.uniforms` for all at once (the same numbers; their
    generators, made later, continue after them)."""
    out = np.empty((len(agents), k))
    later: dict[tuple, list[int]] = {}  # (model, numbers drawn so far) -> rows of agents without a generator
    for j, a in enumerate(agents):
        if getattr(a, "_rng", 0) is None and isinstance(getattr(a.model, "seed", None), int):
            later.setdefault((id(a.model), a._drawn), []).append(j)
        else:
            out[j] = a.answer_rng.random(k)
    for (_, drawn), rows in later.items():
        model = agents[rows[0]].model
        out[rows] = uniforms(model.seed, "agent", [agents[j].index for j in rows], drawn + k)[:, drawn:]
        for j in rows:
            agents[j]._drawn += k
    return out
