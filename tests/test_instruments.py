"""Values, instruments and scoring (Schwartz's rules), checked by hand."""

import numpy as np
import pandas as pd
import pytest

from popsim.errors import PopsimError
from popsim.instruments import load_instrument, score
from popsim.values import CODES10, CODES19, ValueProfile, circular_distance, definition_phrase, dominant_values


def test_value_codes_and_order():
    assert CODES10 == ("SD", "ST", "HE", "AC", "PO", "SE", "CO", "TR", "BE", "UN")
    assert len(CODES19) == 19 and CODES19[0] == "SDT" and CODES19[-1] == "UNT"
    assert circular_distance("SD", "UN") == 1 and circular_distance("PO", "UN") == 5
    # the paper's prompt text for power comes straight from the definition
    assert definition_phrase("PO") == "social status and prestige, control or dominance over people and resources"


@pytest.mark.parametrize("name,n_items,level19", [("ess21", 21, False), ("pvq40", 40, False), ("pvq_rr", 57, True)])
def test_instruments_load_with_keys(name, n_items, level19):
    inst = load_instrument(name)
    assert len(inst.items) == n_items
    key = inst.key(10)
    assert set(key) == set(CODES10)
    assert sum(len(v) for v in key.values()) == (n_items - 3 if name == "pvq_rr" else n_items)  # 3 Face items
    if level19:
        assert set(inst.key(19)) == set(CODES19)
    it = inst.items[0]
    assert it.text_male != it.text_female  # gendered wording
    assert inst.items[0].scale.points == (1, 2, 3, 4, 5, 6)


def test_ess21_scale_is_oriented_six_high():
    scale = load_instrument("ess21").items[0].scale
    assert scale.label(6) == "Very much like me" and scale.label(1) == "Not like me at all"


def test_scoring_by_hand():
    inst = load_instrument("ess21")
    answers = pd.DataFrame([{i: 3 for i in inst.item_ids}])
    key = inst.key()
    for i in key["PO"]:
        answers.loc[0, i] = 6  # power items 6, everything else 3
    sc = score(answers, "ess21")
    mrat = (19 * 3 + 2 * 6) / 21
    assert sc.mrat[0] == pytest.approx(mrat)
    assert sc.raw.loc[0, "PO"] == 6 and sc.raw.loc[0, "UN"] == 3
    assert sc.centered.loc[0, "PO"] == pytest.approx(6 - mrat)
    assert sc.centered.loc[0, "SD"] == pytest.approx(3 - mrat)


def test_pvq_rr_scores_19_and_10():
    inst = load_instrument("pvq_rr")
    answers = pd.DataFrame([{it.id: (6 if it.value19 == "FAC" else 2) for it in inst.items}])
    s19 = score(answers, inst, level=19)
    s10 = score(answers, inst, level=10)
    mrat = (3 * 6 + 54 * 2) / 57  # Face counts in MRAT although it has no 10-value parent
    assert s19.raw.loc[0, "FAC"] == 6 and s19.centered.loc[0, "FAC"] == pytest.approx(6 - mrat)
    assert s10.mrat[0] == pytest.approx(mrat) and "FAC" not in s10.raw
    assert s10.raw.loc[0, "SD"] == 2


def test_missing_answers_rule():
    inst = load_instrument("ess21")
    answers = pd.DataFrame([{i: 4 for i in inst.item_ids}, {i: 4 for i in inst.item_ids}], dtype=float)
    answers.iloc[0, :5] = np.nan  # 5 missing: scored
    answers.iloc[1, :6] = np.nan  # 6 missing: dropped (ESS rule)
    sc = score(answers, inst)
    assert np.isfinite(sc.mrat[0]) and np.isnan(sc.mrat[1])


def test_scoring_rejects_bad_answers():
    inst = load_instrument("ess21")
    bad = pd.DataFrame([{i: 7 for i in inst.item_ids}])
    with pytest.raises(PopsimError, match="outside the 1..6 scale"):
        score(bad, inst)
    with pytest.raises(PopsimError, match="lacks items"):
        score(bad.iloc[:, :5], inst)


def test_profile_dominant_and_ties():
    p = ValueProfile(tuple([0.0] * 9 + [1.0]))
    assert p.dominant() == "UN"
    assert ValueProfile(tuple([1.0, 1.0] + [0.0] * 8)).dominant() is None
    tops = dominant_values(np.array([[0] * 9 + [1], [1, 1] + [0] * 8]))
    assert list(tops) == ["UN", ""]
    with pytest.raises(PopsimError, match="unknown value code 'XX'"):
        ValueProfile.from_mapping({**{c: 0 for c in CODES10}, "XX": 1})
