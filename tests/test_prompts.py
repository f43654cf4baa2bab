"""Prompt styles and option presentation."""

import numpy as np
import pytest

from popsim import prompts
from popsim.errors import PopsimError
from popsim.instruments import Item, Scale, load_instrument
from popsim.values import CODES10, ValueProfile


def test_value_prompt_is_the_papers_text():
    text = prompts.persona_text("value_prompt", prime="PO")
    assert text == ("Imagine that you are a person who greatly values power. You value social status and prestige, "
                    "control or dominance over people and resources.")


def test_every_style_has_paraphrases_except_none():
    for name, st in prompts.STYLES.items():
        assert len(st.templates) >= (1 if name == "none" else 2), name
    assert prompts.persona_text("value_prompt", prime="PO", variant=1) != prompts.persona_text("value_prompt", prime="PO")


def test_unprimed_and_none_have_no_persona():
    assert prompts.persona_text("value_prompt", prime=None) is None
    assert prompts.persona_text("none", prime="PO") is None
    assert prompts.persona_text("name_only", prime="UN") == "Act as a person who values universalism."


def test_profile_style_renders_all_values_in_rank_order():
    prof = ValueProfile(tuple(np.linspace(1.0, -1.0, 10)))
    text = prompts.persona_text("profile", profile=prof)
    lines = [l for l in text.splitlines() if l.startswith("- ")]
    assert len(lines) == 10
    assert lines[0].startswith("- Self-Direction") and lines[0].endswith("very important")
    assert lines[-1].startswith("- Universalism") and lines[-1].endswith("not important")


def test_grades():
    assert [prompts.grade(x) for x in (1.0, 0.5, 0.0, -0.5, -1.0)] == [
        "very important", "important", "somewhat important", "of little importance", "not important"]


def test_option_orders():
    item = load_instrument("ess21").items[0]
    asc = prompts.present_options(item, "ascending")
    desc = prompts.present_options(item, "descending")
    assert asc.labels == desc.labels == ("1", "2", "3", "4", "5", "6")
    assert asc.points == (1, 2, 3, 4, 5, 6) and desc.points == (6, 5, 4, 3, 2, 1)
    r1 = prompts.present_options(item, "random", np.random.default_rng(3))
    r2 = prompts.present_options(item, "random", np.random.default_rng(3))
    assert r1 == r2 and sorted(r1.points) == [1, 2, 3, 4, 5, 6]
    text = prompts.item_text(item, "Instr.", "How much is this person like you?", desc)
    assert "1. Very much like me" in text and "6. Not like me at all" in text
    with pytest.raises(PopsimError, match="unknown option order"):
        prompts.present_options(item, "sideways")


def test_quantities_always_ascending_and_endpoint_scales():
    item = Item(id="give", number=1, text_male="How many?", text_female="How many?",
                scale=Scale(points=tuple(range(11)), labels=((0, "none"), (10, "all")), quantity=True))
    pres = prompts.present_options(item, "descending")
    assert pres.points == tuple(range(11)) and pres.labels[0] == "0" and pres.labels[-1] == "10"
    att = load_instrument("ess_attitudes").item("lrscale")
    d = prompts.present_options(att, "descending")
    assert d.labels[0] == "0" and d.points[0] == 10  # 0 now means 'Right'
    assert "0 means 'Right'" in prompts.item_text(att, "", "", d, country="Germany")


def test_answer_prefix_and_ask():
    ask = prompts.build_ask("P", "Q", ("1", "2", "3"))
    assert ask.answer_prefix == "Answer: " and ask.messages[0].role == "system"
    assert prompts.build_ask(None, "Q", ("Yes", "No")).answer_prefix == "Answer:"
    assert len(prompts.build_ask(None, "Q", ("Yes", "No")).messages) == 1


def test_show_prints_templates():
    text = prompts.show("value_prompt")
    assert "Imagine that you are a person who greatly values {value}" in text
    assert "Answer options:" in text
    with pytest.raises(PopsimError, match="unknown prompt style 'value_promt'.*did you mean 'value_prompt'"):
        prompts.show("value_promt")
