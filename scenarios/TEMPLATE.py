"""TEMPLATE: copy this file to write your own scenario, then run it with

    popsim run path/to/my_scenario.py --agents 20 --out runs/mine

A scenario poses questions to every agent, one round (step) at a time; all questions of a round are
answered in one batch (deduplicated, cached). Define one `Scenario` subclass in the file.

- `questions(model, round_)` returns `Question(agent, item, ...)` for every agent; `model.ordered_agents`
  lists the agents, `agent.neighbors()` gives an agent's network neighbours, `agent.history` what you
  stored for it in earlier rounds;
- an `Item` has an id, its text (male and female wording; the same text twice if it has no gender),
  and a `Scale`: the answer codes (`points`) and labels; `quantity=True` for amounts (always shown in
  ascending order), `words=True` when the answers are words such as Yes/No;
- `apply(model, round_, answers)` receives one `Answer` per question (`answer.point` is the sampled
  answer, `answer.probs` the distribution over `item.scale.points`); store what later rounds need;
- `model_reporters()` returns per-round outcomes for Mesa's DataCollector (written to outcomes.parquet).

Name the human reference your scenario is compared with in `reference` (and, for giving games,
`human_reference` and `expected_signs` so the report draws the reference line and marks the signs).
"""

from __future__ import annotations

import numpy as np

from popsim.instruments import Item, Scale
from popsim.policy import Question
from popsim.scenario import Scenario


class TrustQuestion(Scenario):
    name = "trust_question"
    rounds = 1
    reference = "none (an example)"

    def __init__(self, points: int = 5):
        labels = ((1, "Not at all"), (points, "Completely"))
        text = "How much do you trust people you meet for the first time?"
        self.item = Item(id="trust_new", number=1, text_male=text, text_female=text,
                         scale=Scale(points=tuple(range(1, points + 1)), labels=labels))

    def questions(self, model, round_):
        return [Question(agent=a, item=self.item, kind="decision") for a in model.ordered_agents]

    def apply(self, model, round_, answers):
        for ans in answers:
            ans.question.agent.last_choice = ans.point

    def model_reporters(self):
        return {"mean_trust": lambda m: float(np.nanmean([a.last_choice for a in m.ordered_agents]))}
