"""A test scenario (tests/test_transforms.py): one ESS question, with its mean answer and the agents' mean
centered universalism declared as outcomes (Mesa DataCollector model reporters)."""

from __future__ import annotations

import numpy as np

from popsim.instruments import load_instrument
from popsim.policy import Question
from popsim.scenario import Scenario


class UniversalismAndCulture(Scenario):
    name = "un_culture"
    rounds = 1
    reference = "DE_ESS9 (a test scenario)"

    def __init__(self):
        self.item = load_instrument("ess_attitudes").item("imueclt")

    def questions(self, model, round_):
        return [Question(agent=a, item=self.item, kind="behaviour") for a in model.ordered_agents]

    def apply(self, model, round_, answers):
        for ans in answers:
            ans.question.agent.last_choice = ans.point

    def model_reporters(self):
        return {"imueclt_mean": lambda m: float(np.mean([a.last_choice for a in m.ordered_agents])),
                "un_mean": lambda m: float(np.mean([a.value("UN") for a in m.ordered_agents]))}
