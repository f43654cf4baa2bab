"""How an agent answers: a value-prompted LLM, or the psychometric reference respondent.

A policy takes all `Question`s of a step at once (batch-first) and returns one `Answer` each. The
LLM policy builds every ask, resolves them together through the engine (deduplicated, cached,
batched), then each agent samples its answer from the option distribution with its own RNG. The
reference policy answers as the agent's synthetic human twin (no LLM): the check that the whole
pipeline is unbiased, and the human-like ceiling every LLM run is shown against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from . import prompts
from .asks import Ask, OptionDistribution
from .errors import PopsimError, unknown
from .instruments import Item

if TYPE_CHECKING:  # pragma: no cover
    from .agents import ValueAgent
    from .engine import Engine

POLICIES: tuple[str, ...] = ("llm", "reference")


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

    @property
    def expected(self) -> float:
        pts = np.asarray(self.question.item.scale.points, float)
        return float(np.dot(self.probs, pts)) if self.error is None else float("nan")


def sample_point(points: Sequence[int], probs: np.ndarray, u: float) -> int:
    """Inverse-CDF draw with a given uniform number (so a missing answer still consumes one draw)."""
    cdf = np.cumsum(probs)
    idx = int(np.searchsorted(cdf, u * cdf[-1], side="right"))
    return int(points[min(idx, len(points) - 1)])


class LLMPolicy:
    name = "llm"

    def __init__(self, engine: "Engine", *, style: str = "value_prompt", temperature: float = 1.0,
                 option_order: str = "ascending", variant: int = 0, country: str = "your country"):
        self.engine = engine
        self.style = prompts.check_style(style).name
        if not (0.0 <= float(temperature) <= 2.0):
            raise PopsimError(f"temperature must be between 0 and 2, got {temperature}")
        self.temperature = float(temperature)
        self.option_order = prompts.check_order(option_order)
        n_var = len(prompts.STYLES[self.style].templates)
        if not 0 <= int(variant) < n_var:
            raise PopsimError(f"style {style!r} has template variants 0..{n_var - 1}, got {variant}")
        self.variant = int(variant)
        self.country = country

    def persona(self, agent: "ValueAgent") -> str | None:
        return prompts.persona_text(self.style, prime=agent.prime, profile=agent.profile, variant=self.variant)

    def build(self, questions: Sequence[Question]) -> list[tuple[Question, prompts.Presentation, "Ask"]]:
        """The ask of every question (persona + item prompt, options in the order shown)."""
        built = []
        personas: dict[int, str | None] = {}
        same: dict[tuple, "Ask"] = {}  # identical prompts share one Ask object (hashed once downstream)
        for q in questions:
            a = q.agent
            if a.unique_id not in personas:
                personas[a.unique_id] = self.persona(a)
            pres = prompts.present_options(q.item, self.option_order, a.answer_rng)
            key = (personas[a.unique_id], q.item.id, q.instruction, q.question, a.gender, pres.labels, pres.points)
            ask = same.get(key)
            if ask is None:
                text = prompts.item_text(q.item, q.instruction, q.question, pres, gender=a.gender, country=self.country)
                ask = same[key] = prompts.build_ask(personas[a.unique_id], text, pres.labels)
            built.append((q, pres, ask))
        return built

    def answer(self, questions: Sequence[Question], *, desc: str = "asking the model") -> list[Answer]:
        built = self.build(questions)
        dists = self.engine.resolve([b[2] for b in built], desc=desc)
        hashes: dict[int, str] = {}
        probs: dict[int, np.ndarray] = {}  # identical asks get the same distribution object from the engine
        out = []
        for (q, pres, ask), d in zip(built, dists):
            h = hashes.get(id(ask))
            if h is None:
                h = hashes[id(ask)] = ask.prompt_hash
            if d.ok and id(d) not in probs:
                probs[id(d)] = d.probs(self.temperature)
            out.append(self._read(q, pres, h, d, probs.get(id(d))))
        return out

    def _read(self, q: Question, pres: prompts.Presentation, prompt_hash: str, d: OptionDistribution,
              p_shown: np.ndarray | None = None) -> Answer:
        u = q.agent.answer_rng.random()  # always drawn: a missing answer does not shift later draws
        points = q.item.scale.points
        if not d.ok:
            return Answer(q, float("nan"), tuple(float("nan") for _ in points), float("nan"), pres.order_string,
                          prompt_hash, d.method, d.error)
        if p_shown is None:
            p_shown = d.probs(self.temperature)
        by_point = dict(zip(pres.points, p_shown))
        probs = np.array([by_point[p] for p in points])
        return Answer(q, float(sample_point(points, probs, u)), tuple(float(x) for x in probs),
                      d.validity_mass, pres.order_string, prompt_hash, d.method)


class ReferencePolicy:
    """Answers as the agent's synthetic human respondent (drawn jointly over values and behaviour)."""

    name = "reference"

    def answer(self, questions: Sequence[Question], *, desc: str = "") -> list[Answer]:
        out = []
        for q in questions:
            resp = q.agent.respondent
            if resp is None or q.item.id not in resp:
                raise PopsimError(
                    f"the reference policy has no human data for item {q.item.id!r}: the synthetic respondents "
                    "carry the ESS-21 value items and (for DE_ESS9) the 14 ESS attitude questions; use --policy llm")
            q.agent.answer_rng.random()  # same random stream as the LLM policy
            point = int(resp[q.item.id])
            probs = tuple(1.0 if p == point else 0.0 for p in q.item.scale.points)
            order = ",".join(str(p) for p in q.item.scale.points)
            out.append(Answer(q, float(point), probs, float("nan"), order, "", "reference"))
        return out


def check_policy(name: str) -> str:
    if name not in POLICIES:
        raise unknown("policy", name, POLICIES)
    return name
