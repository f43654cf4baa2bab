"""What is asked and what is answered: `Question` (one item to one agent), `QuestionGrid` (every item to every
agent, without building the questions), `Answer`, and how an answer is read from an option distribution
(`Reading`) and drawn from it (`draw_point`). Policies (`policy.py`, `blocks.py`) make answers; scenarios pose
questions; nothing here depends on either.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .asks import OptionDistribution
from .instruments import Item

if TYPE_CHECKING:  # pragma: no cover
    from .agents import ValueAgent
    from .prompts import Presentation


@dataclass(frozen=True, slots=True)
class Question:
    """One item posed to one agent. `instruction`/`question` frame portrait items; attitude and game
    items carry their whole text in the item."""

    agent: "ValueAgent"
    item: Item
    instruction: str = ""
    question: str = ""
    kind: str = "item"  # free label for tables: "item", "decision", ...


@dataclass(frozen=True, slots=True)
class Answer:
    question: Question
    point: float  # the sampled scale point (NaN if missing)
    probs: tuple[float, ...]  # distribution over item.scale.points (scale order), at the policy's temperature
    validity: float  # model probability on valid options (NaN for the reference policy)
    order: str  # scale points in the order shown ("1,2,3,4,5,6")
    prompt_hash: str
    method: str
    error: str | None = None
    mean: float | None = None  # the expected scale point, when the policy computed it already

    @property
    def expected(self) -> float:
        if self.mean is not None:
            return self.mean
        pts = np.asarray(self.question.item.scale.points, float)
        return float(np.dot(self.probs, pts)) if self.error is None else float("nan")


def draw_point(points: Sequence[int], cdf: Sequence[float], u: float) -> float:
    """Inverse-CDF draw with a given uniform number `u` from the running sums `cdf` of the probabilities of
    `points` (so a missing answer, with an empty `cdf`, still consumes its draw): NaN when there is nothing to draw."""
    if not cdf:
        return math.nan
    return float(points[min(bisect.bisect_right(cdf, u * cdf[-1]), len(points) - 1)])


class QuestionGrid(Sequence):
    """Every item (in order) to every agent (in order): `Question(agent, item, instruction, question)`."""

    def __init__(self, agents: Sequence, items: Sequence, instruction: str = "", question: str = ""):
        self.agents, self.items = list(agents), list(items)
        self.instruction, self.question = instruction, question

    def __len__(self) -> int:
        return len(self.agents) * len(self.items)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        a, k = divmod(i, len(self.items))
        return Question(agent=self.agents[a], item=self.items[k], instruction=self.instruction, question=self.question)


@dataclass(frozen=True, slots=True)
class Reading:
    """One option distribution as read for one option order: probabilities in scale order, their running sum
    (for `draw_point`), expected point, validity mass."""

    points: tuple[int, ...]
    probs: tuple[float, ...]
    cdf: tuple[float, ...]
    mean: float
    validity: float
    order: str

    @classmethod
    def of(cls, d: OptionDistribution, pres: "Presentation", points: tuple[int, ...],
           temperature: float) -> "Reading":
        if not d.ok:
            nan = float("nan")
            return cls(tuple(points), tuple(nan for _ in points), (), nan, nan, pres.order_string)
        by_point = dict(zip(pres.points, d.probs(temperature)))
        probs = np.array([by_point[p] for p in points])
        return cls(tuple(points), tuple(float(x) for x in probs), tuple(float(c) for c in np.cumsum(probs)),
                   float(np.dot(probs, np.asarray(points, float))), d.validity_mass, pres.order_string)
