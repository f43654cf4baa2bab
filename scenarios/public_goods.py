"""Repeated linear public-goods game on the agents' network.

Each round every agent has `endowment` tokens and decides how many to put into its group's project;
every token in the project is multiplied so that each group member earns `mpcr` tokens per token
contributed (marginal per-capita return). An agent's group is the agent and its network neighbours
(`network` other than none), or a fixed group of `group_size` agents (network none). Payoff of agent i
in a round: endowment - c_i + mpcr x (sum of contributions in i's group). From round 2 on, each agent is
told its own and its group members' contributions and its earnings in the previous round.

Human reference: mean contribution about 37.7% of the endowment (Zelmer 2003, Experimental Economics
6:299-310); in repeated games without punishment contributions start around 40-60% and decline over
rounds (Fehr & Gaechter 2000, AER 90(4):980-994). Values: contributions rise with universalism and
benevolence and fall with power and achievement (Sagiv et al. 2011; direction only).
"""

from __future__ import annotations

import numpy as np

from popsim.instruments import Item, Scale
from popsim.policy import Question
from popsim.scenario import Scenario
from popsim.values import CODES10

RULES = ("You take part in a group decision study with {rounds} rounds. In each round you receive {endowment} tokens. "
         "You decide how many of them to put into a group project; you keep the rest. All tokens put into the "
         "project by the members of your group are multiplied, and every member of your group earns {mpcr} tokens "
         "for each token in the project, whoever put it there. Your earnings in a round are the tokens you keep "
         "plus your earnings from the project. Your group has {size} members including you.")


class PublicGoods(Scenario):
    name = "public_goods"
    reference = "mean contribution 37.7% (Zelmer 2003); decline over rounds without punishment (Fehr & Gaechter 2000)"
    human_reference = {"mean_share": 0.377, "source": "Zelmer 2003, Experimental Economics 6:299-310",
                       "first_round_range": [0.4, 0.6], "decline": True,
                       "decline_source": "Fehr & Gaechter 2000, AER 90(4):980-994"}
    expected_signs = {"UN": 1, "BE": 1, "PO": -1, "AC": -1}

    def __init__(self, rounds: int = 10, endowment: int = 10, mpcr: float = 0.4, group_size: int = 4):
        if int(rounds) < 1:
            raise ValueError("rounds must be at least 1")
        self.rounds = int(rounds)
        self.endowment = int(endowment)
        self.mpcr = float(mpcr)
        self.group_size = int(group_size)
        self._groups: dict[int, list[int]] | None = None

    # ------------------------------------------------------------------ groups
    def groups(self, model) -> dict[int, list[int]]:
        """agent index -> the other members of its group."""
        if self._groups is None:
            if model.graph is not None:
                self._groups = {a.index: sorted(model.graph.neighbors(a.index)) for a in model.ordered_agents}
            else:
                idx = [a.index for a in model.ordered_agents]
                perm = model.stream("groups").permutation(idx)
                self._groups = {}
                for g in range(0, len(perm), self.group_size):
                    members = [int(x) for x in perm[g:g + self.group_size]]
                    for m in members:
                        self._groups[m] = [x for x in members if x != m]
        return self._groups

    def _item(self, model, agent, round_) -> Item:
        others = self.groups(model)[agent.index]
        text = RULES.format(rounds=self.rounds, endowment=self.endowment, mpcr=self.mpcr, size=len(others) + 1)
        if round_ > 0 and len(agent.history) >= round_:
            last = agent.history[round_ - 1]
            mates = ", ".join(str(int(c)) for c in last["others"]) or "none"
            text += (f"\n\nRound {round_} (the previous round): you put {int(last['own'])} tokens into the project; "
                     f"the other members put in {mates} tokens. You earned {last['payoff']:g} tokens.")
        text += (f"\n\nThis is round {round_ + 1} of {self.rounds}. How many of your {self.endowment} tokens do you "
                 "put into the group project?")
        return Item(id="contribution", number=round_ + 1, text_male=text, text_female=text,
                    scale=Scale(points=tuple(range(self.endowment + 1)),
                                labels=((0, "nothing"), (self.endowment, f"all {self.endowment} tokens")),
                                quantity=True))

    def questions(self, model, round_):
        return [Question(agent=a, item=self._item(model, a, round_), kind="decision") for a in model.ordered_agents]

    def apply(self, model, round_, answers):
        groups = self.groups(model)
        contrib = {ans.question.agent.index: ans.point for ans in answers}
        for ans in answers:
            a = ans.question.agent
            own = contrib[a.index]
            others = [contrib[j] for j in groups[a.index]]
            if np.isnan(own) or any(np.isnan(others)):
                payoff = float("nan")
            else:
                payoff = self.endowment - own + self.mpcr * (own + sum(others))
            a.history.append({"round": round_, "own": own, "others": others, "payoff": payoff})
            a.last_choice = own
            a.payoff = payoff

    def model_reporters(self):
        e = self.endowment

        def shares(m):
            return np.array([a.last_choice / e for a in m.ordered_agents], float)

        reps = {
            "mean_share": lambda m: float(np.nanmean(shares(m))),
            "sd_share": lambda m: float(np.nanstd(shares(m), ddof=1)) if len(m.ordered_agents) > 1 else float("nan"),
        }
        for c in CODES10:
            reps[f"r_{c}"] = (lambda code: lambda m: _corr(shares(m), [a.value(code) for a in m.ordered_agents]))(c)
        return reps

    def describe(self):
        return {**super().describe(), "outcome": "contribution", "endowment": self.endowment, "mpcr": self.mpcr,
                "group_size": self.group_size, "human_reference": self.human_reference,
                "expected_signs": self.expected_signs}


def _corr(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(x[ok], y[ok])[0, 1])
