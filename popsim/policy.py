"""How an agent answers: a value-prompted LLM, or the psychometric reference respondent.

A policy takes all `Question`s of a step at once (batch-first) and returns one `Answer` each. The
LLM policy builds every ask, resolves them together through the engine (deduplicated, cached,
batched), then each agent samples its answer from the option distribution with its own RNG. The
reference policy answers as the agent's synthetic human twin (no LLM): the check that the whole
pipeline is unbiased, and the human-like ceiling every LLM run is shown against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from . import prompts
from .blocks import answer_grid
from .errors import PopsimError, unknown
from .questions import Answer, Question, QuestionGrid, Reading, draw_point

__all__ = ["POLICIES", "Question", "Answer", "QuestionGrid", "LLMPolicy", "ReferencePolicy", "check_policy",
           "draw_point"]

if TYPE_CHECKING:  # pragma: no cover
    from .agents import ValueAgent
    from .asks import Ask
    from .engine import Engine

POLICIES: tuple[str, ...] = ("llm", "reference")


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
        return prompts.persona_text(self.style, prime=agent.prime, profile=agent.profile, variant=self.variant,
                                    demographics=agent.person if self.style in prompts.DEMOGRAPHIC_STYLES else None)

    def build(self, questions: Sequence[Question]) -> list[tuple[Question, prompts.Presentation, "Ask"]]:
        """The ask of every question (persona + item prompt, options in the order shown)."""
        built = []
        personas: dict[int, str | None] = {}
        same: dict[tuple, "Ask"] = {}  # identical prompts share one Ask object (hashed once downstream)
        fixed: dict[int, prompts.Presentation] = {}  # a fixed option order is the same for every agent
        shuffled = self.option_order == "random"
        for q in questions:
            a = q.agent
            if a.unique_id not in personas:
                personas[a.unique_id] = self.persona(a)
            if shuffled:
                pres = prompts.present_options(q.item, self.option_order, a.answer_rng)
            else:
                pres = fixed.get(id(q.item))
                if pres is None:
                    pres = fixed[id(q.item)] = prompts.present_options(q.item, self.option_order)
            key = (personas[a.unique_id], q.item.id, q.instruction, q.question, a.gender, pres.labels, pres.points)
            ask = same.get(key)
            if ask is None:
                text = prompts.item_text(q.item, q.instruction, q.question, pres, gender=a.gender, country=self.country)
                ask = same[key] = prompts.build_ask(personas[a.unique_id], text, pres.labels)
            built.append((q, pres, ask))
        return built

    def answer(self, questions: Sequence[Question], *, desc: str = "asking the model") -> list[Answer]:
        if isinstance(questions, QuestionGrid) and self.option_order != "random":
            return answer_grid(self, questions, desc)  # the same answers, in blocks of agents (blocks.py)
        built = self.build(questions)
        dists = self.engine.resolve([b[2] for b in built], desc=desc)
        hashes: dict[int, str] = {}
        # identical asks get the same distribution object from the engine: read each (distribution, option
        # order, scale) once; per answer only the agent's own draw remains
        read: dict[tuple, Reading] = {}
        out = []
        for (q, pres, ask), d in zip(built, dists):
            h = hashes.get(id(ask))
            if h is None:
                h = hashes[id(ask)] = ask.prompt_hash
            key = (id(d), pres.points, q.item.scale.points)
            r = read.get(key)
            if r is None:
                r = read[key] = Reading.of(d, pres, q.item.scale.points, self.temperature)
            u = q.agent.answer_rng.random()  # always drawn: a missing answer does not shift later draws
            out.append(Answer(q, draw_point(r.points, r.cdf, u), r.probs, r.validity, r.order, h, d.method, d.error, r.mean))
        return out


class ReferencePolicy:
    """Answers as the agent's human twin: a synthetic respondent (drawn jointly over values and behaviour), or with
    strategy `respondents` the real person (whose unanswered items stay unanswered)."""

    name = "reference"

    def answer(self, questions: Sequence[Question], *, desc: str = "") -> list[Answer]:
        out = []
        shown: dict[tuple, tuple[tuple[float, ...], str]] = {}  # (item, point) -> one-hot probs, order shown
        for q in questions:
            resp = q.agent.respondent
            if resp is None or q.item.id not in resp:
                raise PopsimError(
                    f"the reference policy has no human data for item {q.item.id!r}: the synthetic respondents "
                    "carry the ESS-21 value items and (for DE_ESS9) the 14 ESS attitude questions; use --policy llm")
            q.agent.answer_rng.random()  # same random stream as the LLM policy
            if resp[q.item.id] != resp[q.item.id]:  # a real respondent who gave no answer: missing, as in the survey
                nan = float("nan")
                out.append(Answer(q, nan, tuple(nan for _ in q.item.scale.points), nan, "", "", "reference",
                                  "no answer: the respondent gave none", nan))
                continue
            point = int(resp[q.item.id])
            seen = shown.get((id(q.item), point))
            if seen is None:
                pts = q.item.scale.points
                seen = shown[(id(q.item), point)] = (tuple(1.0 if p == point else 0.0 for p in pts),
                                                     ",".join(str(p) for p in pts))
            out.append(Answer(q, float(point), seen[0], float("nan"), seen[1], "", "reference", None, float(point)))
        return out


def check_policy(name: str) -> str:
    if name not in POLICIES:
        raise unknown("policy", name, POLICIES)
    return name
