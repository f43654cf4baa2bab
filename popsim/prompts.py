"""Prompt styles: visible templates, pure functions from (style, persona, item) to an `Ask`.

Each style has a name, a source, and at least two paraphrased persona templates (`variant` 0, 1, ...)
so that results can be checked for robustness to wording. `popsim prompts show STYLE` prints them.

A persona goes in the system message; the item (instruction, description, question, the numbered
options and a one-line answer instruction) in the user message; the assistant turn starts with
`ANSWER_PREFIX`. Options are numbered by their position in the list: with `descending` order the
number 1 means the top of the scale (as on the ESS show card), so order effects and number-token
bias can be told apart from content.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .asks import Ask, Message
from .errors import PopsimError, unknown
from .instruments import Item
from .values import CODES10, NAMES, VALUE_NOUNS, ValueProfile, check_value, definition_phrase

ANSWER_PREFIX = "Answer:"
ORDERS: tuple[str, ...] = ("ascending", "descending", "random")


@dataclass(frozen=True, slots=True)
class Style:
    name: str
    source: str
    templates: tuple[str, ...]  # persona templates, one per paraphrase variant
    needs: str  # "prime" (a single value), "profile" (all 10 values), "demographics", "profile_demographics", "nothing"
    doc: str


STYLES: dict[str, Style] = {
    "value_prompt": Style(
        name="value_prompt",
        source="Yehudai, Rozen & Gera, 'Teaching Values to Machines', GEM 2026 (the paper's prompt; variant 0 verbatim)",
        templates=(
            "Imagine that you are a person who greatly values {value}. You value {definition}.",
            "Picture yourself as someone for whom {value} matters a great deal. What you value is {definition}.",
            "You are a person who places great importance on {value}, that is, on {definition}.",
        ),
        needs="prime",
        doc="The agent's single dominant value with its Schwartz definition. Unprimed agents get no persona.",
    ),
    "value_anchor": Style(
        name="value_anchor",
        source="in the spirit of the value-anchor prompts of Rozen et al., 'Do LLMs have consistent values?', ICLR 2025",
        templates=(
            "In everything that follows, answer as a person for whom {value} is the most important value in "
            "life. For this person, {value} means {definition}.",
            "Take the perspective of someone whose guiding principle in life is {value} ({definition}), and "
            "answer every question from that perspective.",
        ),
        needs="prime",
        doc="Anchors all answers on one value as the most important. Unprimed agents get no persona.",
    ),
    "profile": Style(
        name="profile",
        source="popsim: the whole 10-value profile rendered as graded importance (continuous human profiles)",
        templates=(
            "Imagine that you are a person with the following values. How important each value is to you, "
            "from most to least important:\n{profile}",
            "You are a person whose priorities in life are as follows, from what matters most to you to what "
            "matters least:\n{profile}",
        ),
        needs="profile",
        doc="Every value with its definition and a grade from the agent's centered score "
            "(>= 0.8 very important; >= 0.3 important; > -0.3 somewhat important; > -0.8 of little importance; "
            "else not important).",
    ),
    "name_only": Style(
        name="name_only",
        source="reviewers' baseline: the value's name without its definition",
        templates=("Act as a person who values {value}.", "Respond as someone who values {value}."),
        needs="prime",
        doc="Only the name of the dominant value. Unprimed agents get no persona.",
    ),
    "demographic": Style(
        name="demographic",
        source="the demographic persona baseline of the field (e.g. Argyle et al. 2023, 'Out of One, Many', Political "
               "Analysis; Santurkar et al. 2023, OpinionQA): who the person is, nothing of their values",
        templates=(
            "Imagine that you are {demographics}.",
            "You are {demographics}. Answer every question as this person would.",
        ),
        needs="demographics",
        doc="The agent's gender, age and, where the sample has them, education and country (a real respondent's, "
            "strategy respondents); no values. Samples without demographics refuse it.",
    ),
    "profile_demographic": Style(
        name="profile_demographic",
        source="popsim: the `profile` style with the person's demographics (values and demographics together)",
        templates=(
            "Imagine that you are {demographics}. How important each value is to you, from most to least "
            "important:\n{profile}",
            "You are {demographics}. Your priorities in life are as follows, from what matters most to you to what "
            "matters least:\n{profile}",
        ),
        needs="profile_demographics",
        doc="The `profile` rendering of the 10 values after the agent's demographics (as `demographic`). Samples "
            "without demographics refuse it.",
    ),
    "none": Style(
        name="none",
        source="unprimed baseline",
        templates=("",),
        needs="nothing",
        doc="No persona at all: the model's default (its chat template may add its own system prompt).",
    ),
}

#: the styles that state who the person is (they need agents that are real respondents with demographics)
DEMOGRAPHIC_STYLES: tuple[str, ...] = ("demographic", "profile_demographic")

#: grade thresholds on the centered value score (value score minus the person's mean rating)
GRADES: tuple[tuple[float, str], ...] = (
    (0.8, "very important"), (0.3, "important"), (-0.3, "somewhat important"), (-0.8, "of little importance"),
)


def check_style(name: str) -> Style:
    if name not in STYLES:
        raise unknown("prompt style", name, STYLES)
    return STYLES[name]


def check_order(order: str) -> str:
    if order not in ORDERS:
        raise unknown("option order", order, ORDERS)
    return order


def grade(score: float) -> str:
    """Importance label of a centered score (see `GRADES`; below -0.8: 'not important')."""
    for threshold, label in GRADES:
        if score >= threshold:
            return label
    return "not important"


def render_profile(profile: ValueProfile) -> str:
    lines = []
    for code, s in profile.ranked():
        lines.append(f"- {NAMES[code]} ({definition_phrase(code)}): {grade(s)}")
    return "\n".join(lines)


def render_demographics(demographics: dict) -> str:
    """'a 34-year-old woman living in France, with a bachelor's degree or equivalent' from gender, age, country
    (a name) and education (words); the parts a person lacks are left out."""
    d = demographics or {}
    noun = {"female": "woman", "male": "man"}.get(d.get("gender"), "person")
    age = d.get("age")
    text = f"a {int(age)}-year-old {noun}" if age is not None and age == age else f"a {noun}"
    if d.get("country"):
        text += f" living in {d['country']}"
    if d.get("education"):
        text += f", with {d['education']}"
    return text


def persona_text(style: str, *, prime: str | None = None, profile: ValueProfile | None = None,
                 variant: int = 0, demographics: dict | None = None) -> str | None:
    """The persona (system message) of an agent, or None for no persona. `demographics`: gender, age,
    education, country of a real respondent (the demographic styles need them)."""
    st = check_style(style)
    if not 0 <= variant < len(st.templates):
        raise PopsimError(f"style {style!r} has variants 0..{len(st.templates) - 1}, got {variant}")
    template = st.templates[variant]
    if st.needs == "nothing":
        return None
    if st.needs == "prime":
        if prime is None:
            return None
        check_value(prime)
        return template.format(value=VALUE_NOUNS[prime], definition=definition_phrase(prime))
    if st.needs in ("demographics", "profile_demographics"):
        if demographics is None:  # PopulationModel refuses these styles for agents without demographics
            raise PopsimError(f"prompt style {style!r} needs agents with demographics (real respondents of an imported "
                              "sample that has them: --strategy respondents); choose another --style")
        who = render_demographics(demographics)
        if st.needs == "demographics":
            return template.format(demographics=who)
    else:
        who = None
    if profile is None:
        raise PopsimError(f"the {style!r} style needs the agent's value profile")
    return template.format(profile=render_profile(profile), demographics=who)


# ------------------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class Presentation:
    """How an item's options were shown: label i (as the model writes it) means scale point `points[i]`."""

    labels: tuple[str, ...]
    points: tuple[int, ...]
    order: str

    @property
    def order_string(self) -> str:
        return ",".join(str(p) for p in self.points)


def present_options(item: Item, order: str, rng: np.random.Generator | None = None) -> Presentation:
    """Number the options 1..k (or keep 0..10 for endpoint-labelled 11-point scales) in display order.

    `random` shuffles fully labelled scales; numeric scales with only their endpoints labelled cannot be
    listed in a shuffled order meaningfully, so `random` picks ascending or descending at random.
    Amounts (`scale.quantity`, e.g. tokens to give) are always shown ascending.
    """
    check_order(order)
    pts = list(item.scale.points)
    if item.scale.quantity:
        order = "ascending"
    if order == "random":
        if rng is None:
            raise PopsimError("random option order needs the agent's random generator")
        if item.scale.fully_labelled:
            pts = [pts[i] for i in rng.permutation(len(pts))]
        elif rng.random() < 0.5:
            pts = pts[::-1]
    elif order == "descending":
        pts = pts[::-1]
    if item.scale.words:
        return Presentation(labels=tuple(item.scale.label(p) for p in pts), points=tuple(pts), order=order)
    start = 1 if item.scale.fully_labelled else item.scale.points[0]
    labels = tuple(str(start + i) for i in range(len(pts)))
    return Presentation(labels=labels, points=tuple(pts), order=order)


def item_text(item: Item, instruction: str, question: str, pres: Presentation, *, gender: str = "male",
              country: str = "your country") -> str:
    """The user message for one item.

    Portrait instruments (ESS-21, PVQ) show the answer card first and the description last, so that
    everything but the description is shared by a persona's items (the model evaluates it once).
    """
    text = item.text(gender).replace("[country]", country)
    parts = [instruction] if instruction else []
    if item.stem:
        parts.append(item.stem.replace("[country]", country))
    if item.scale.words:  # the question itself says how to answer ("Answer Yes or No.")
        return "\n\n".join(parts + [text])
    if item.scale.fully_labelled:
        card = "\n".join(f"{lab}. {item.scale.label(p)}" for lab, p in zip(pres.labels, pres.points))
        answer_line = "Answer with the number of your answer only."
    else:
        lo_lab, hi_lab = pres.labels[0], pres.labels[-1]
        lo_txt, hi_txt = item.scale.label(pres.points[0]), item.scale.label(pres.points[-1])
        card = (f"Answer with one number from {lo_lab} to {hi_lab}, where {lo_lab} means '{lo_txt}' and "
                f"{hi_lab} means '{hi_txt}'.")
        answer_line = "Answer with the number only."
    if question:  # portrait items: card, then the person described, then the question
        parts += [f"Answer options:\n{card}", f"Description: {text}", f"{question} {answer_line}"]
    else:  # attitude questions: the question, then its own answer scale
        parts += [text, card, answer_line] if item.scale.fully_labelled else [text, f"{card} {answer_line}"]
    return "\n\n".join(parts)


def answer_prefix(labels: tuple[str, ...]) -> str:
    """Start of the assistant turn: 'Answer: ' before numbers, 'Answer:' before words.

    Common tokenizers write a space as its own token before digits and glue it to words (' Yes'), so
    these prefixes put the most probability on the options; both spellings are scored either way.
    """
    return ANSWER_PREFIX + (" " if all(lab.isdigit() for lab in labels) else "")


def build_ask(persona: str | None, user_text: str, labels: tuple[str, ...], *, sample: int = 0) -> Ask:
    msgs = ((Message("system", persona),) if persona else ()) + (Message("user", user_text),)
    return Ask(messages=msgs, options=labels, answer_prefix=answer_prefix(labels), sample=sample)


EXAMPLE_PERSON = {"gender": "female", "age": 34, "country": "France", "education": "a bachelor's degree or equivalent"}


def show(style: str, variant: int | None = None, *, prime: str = "PO") -> str:
    """Human-readable listing of a style: source, every persona variant, and an example item prompt."""
    from .instruments import load_instrument
    from .values import ValueProfile

    st = check_style(style)
    check_value(prime)
    if variant is not None and not 0 <= variant < len(st.templates):
        raise PopsimError(f"style {style!r} has variants 0..{len(st.templates) - 1}, got {variant}")
    inst = load_instrument("ess21")
    item = inst.items[1]
    pres = present_options(item, "ascending")
    example_profile = ValueProfile(tuple(np.linspace(0.9, -1.2, len(CODES10))))
    out = [f"style: {st.name}", f"source: {st.source}", f"what it shows: {st.doc}", ""]
    variants = range(len(st.templates)) if variant is None else [variant]
    for v in variants:
        out.append(f"--- persona template, variant {v} ---")
        out.append(st.templates[v] or "(no persona: the model's own default)")
        example = persona_text(style, prime=prime, profile=example_profile, variant=v, demographics=EXAMPLE_PERSON)
        if example and example != st.templates[v]:
            out.append(f"--- example ({'prime ' + prime if st.needs == 'prime' else 'a person'}) ---")
            out.append(example)
        out.append("")
    out.append("--- item prompt (user message), ESS-21 item 2, ascending options ---")
    out.append(item_text(item, inst.instruction, inst.question, pres))
    out.append("")
    out.append(f"--- assistant turn starts with (where the backend can prefill it) ---\n{answer_prefix(pres.labels)!r}")
    return "\n".join(out)
