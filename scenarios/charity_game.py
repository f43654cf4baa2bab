"""Paired charity game: keep an amount, or give it to a charity.

popsim's rendering of the paired charity game used in value research: each of two paired
participants chooses between keeping a sum and giving it to a charity. Human reference: the
direction of value-giving relations, giving rising with universalism and benevolence and falling
with power, achievement and hedonism (Sagiv, Sverdlik & Schwarz 2011, EJSP 41(1):64-77). No
published mean share is used as a reference (none in the reference pack).
"""

from __future__ import annotations

from popsim.instruments import Item, Scale
from popsim.policy import Question
from popsim.scenario import Scenario

TEXT = ("You are paired with another participant in a study. Each of you receives {amount} euros and decides, "
        "without knowing the other's choice, what to do with them: keep the {amount} euros for yourself, or give "
        "them to a charity that helps people in need. The charity is named at the end of the study.\n\n"
        "What do you do with the {amount} euros?")


class CharityGame(Scenario):
    name = "charity_game"
    rounds = 1
    reference = "UN, BE up and PO, AC, HE down (Sagiv et al. 2011)"
    human_reference = {"source": "Sagiv, Sverdlik & Schwarz 2011 (direction of value relations only)"}
    expected_signs = {"UN": 1, "BE": 1, "PO": -1, "AC": -1, "HE": -1}

    def __init__(self, amount: int = 10):
        self.amount = int(amount)
        text = TEXT.format(amount=self.amount)
        self.item = Item(id="give_to_charity", number=1, text_male=text, text_female=text,
                         scale=Scale(points=(0, 1), labels=((0, "Keep the money"), (1, "Give it to the charity"))))

    def questions(self, model, round_):
        return [Question(agent=a, item=self.item, kind="decision") for a in model.ordered_agents]

    def describe(self):
        return {**super().describe(), "outcome": "give_to_charity", "endowment": 1,
                "human_reference": self.human_reference, "expected_signs": self.expected_signs}
