"""One-shot dictator game: give part of an endowment to an anonymous other.

Human reference: mean share given 28.35% of the endowment (Engel 2011, Experimental Economics
14:583-610, meta-analysis of 616 treatments); giving rises with universalism and benevolence and
falls with power and achievement (Sagiv, Sverdlik & Schwarz 2011, EJSP 41(1):64-77).
"""

from __future__ import annotations

from popsim.instruments import Item, Scale
from popsim.policy import Question
from popsim.scenario import Scenario

TEXT = ("You take part in a study on decision making. You have been given {endowment} euros. You can give any "
        "part of this money, from 0 to {endowment} euros, to another participant whom you do not know and will "
        "never meet. The other participant has no say: they receive what you give, you keep the rest. Your "
        "decision is anonymous.\n\nHow many euros do you give to the other participant?")


class Dictator(Scenario):
    name = "dictator"
    rounds = 1
    reference = "mean share given 28.35% (Engel 2011); UN, BE up and PO, AC down (Sagiv et al. 2011)"
    human_reference = {"mean_share": 0.2835, "source": "Engel 2011, Experimental Economics 14:583-610"}
    expected_signs = {"UN": 1, "BE": 1, "PO": -1, "AC": -1}

    def __init__(self, endowment: int = 10):
        self.endowment = int(endowment)
        pts = tuple(range(self.endowment + 1))
        self.item = Item(id="give", number=1, text_male=TEXT.format(endowment=self.endowment),
                         text_female=TEXT.format(endowment=self.endowment),
                         scale=Scale(points=pts, labels=((0, "give nothing"), (self.endowment, "give everything")),
                                     quantity=True))

    def questions(self, model, round_):
        return [Question(agent=a, item=self.item, kind="decision") for a in model.ordered_agents]

    def describe(self):
        return {**super().describe(), "outcome": "give", "endowment": self.endowment,
                "human_reference": self.human_reference, "expected_signs": self.expected_signs}
