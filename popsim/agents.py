"""`ValueAgent`: a Mesa agent with a human value profile, a gender, an optional prime and its own RNG."""

from __future__ import annotations

import mesa

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
      for sampling answers, so each agent's draws do not depend on the others';
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
        self.answer_rng = model.stream("agent", index)
        self.history: list[dict] = []
        self.last_choice: float = float("nan")
        self.payoff: float = 0.0

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
