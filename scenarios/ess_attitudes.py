"""ESS round 9 attitude and behaviour questions (14 items of the reference pack).

Religious attendance and prayer, religiosity, left-right placement, gay rights, income
redistribution, immigration, cultural enrichment, European unification, political interest, life
satisfaction, trust in the police, feeling safe after dark, social meetings. Answers keep the ESS
codes. Human reference: DE_ESS9 weighted answer distributions and value-behaviour correlations
(centered values x ESS codes; mind the direction of each code, see `popsim datasets`).
"""

from __future__ import annotations

from popsim.instruments import load_instrument
from popsim.policy import Question
from popsim.scenario import Scenario


class EssAttitudes(Scenario):
    name = "ess_attitudes"
    rounds = 1
    instrument = ""
    reference = "DE_ESS9 answer distributions and value-behaviour correlations (ESS round 9, weighted)"

    def __init__(self, items: list[str] | None = None, with_values: bool = True):
        """`with_values`: also pose the ESS-21 value items, so the run measures values and behaviour together
        (needed for value-behaviour correlations from the run itself)."""
        self.att = load_instrument("ess_attitudes")
        self.items = [self.att.item(i) for i in items] if items else list(self.att.items)
        self.with_values = bool(with_values)
        if self.with_values:
            self.instrument = "ess21"
            self.values = load_instrument("ess21")

    def questions(self, model, round_):
        qs = []
        for a in model.ordered_agents:
            if self.with_values:
                qs += [Question(agent=a, item=it, instruction=self.values.instruction, question=self.values.question)
                       for it in self.values.items]
            qs += [Question(agent=a, item=it, kind="behaviour") for it in self.items]
        return qs

    def describe(self):
        return {**super().describe(), "behaviour_items": [it.id for it in self.items]}
