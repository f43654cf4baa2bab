"""Value questionnaires: ESS-21 (Human Values Scale), PVQ-40, PVQ-RR.

Every agent answers every item of the instrument in one step (one batch). Items use the agent's
gendered wording. Human reference: the item answer distributions and the centered value
correlations of the reference samples (SE_ESS1-8, DE_ESS9, US_GSS2012; ESS-21 items).
PVQ-40 and PVQ-RR are free for academic research; commercial use needs a license from S. H. Schwartz.
"""

from __future__ import annotations

from popsim.instruments import load_instrument
from popsim.questions import QuestionGrid
from popsim.scenario import Scenario


class Questionnaire(Scenario):
    rounds = 1

    def __init__(self, instrument: str = "ess21", items: list[str] | None = None):
        self.inst = load_instrument(instrument)
        if self.inst.kind != "values":
            raise ValueError(f"{instrument} is not a value questionnaire")
        self.name = instrument
        self.instrument = instrument
        self.items = [self.inst.item(i) for i in items] if items else list(self.inst.items)
        self.reference = ("ESS-21 answer shares and centered value correlations of SE_ESS1-8, DE_ESS9, US_GSS2012"
                          if instrument == "ess21" else
                          "value correlations of the human samples (scored from the ESS-21; same 10 values)")

    def questions(self, model, round_):
        # every item to every agent: the list of Question(agent, item, instruction, question), answered in blocks
        return QuestionGrid(model.ordered_agents, self.items, self.inst.instruction, self.inst.question)
