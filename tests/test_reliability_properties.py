"""Property-based tests (hypothesis) of the three places every answer passes through: parsing a free-text
answer, normalising option log-probabilities, and scoring answers into value scores. tests/test_scoring.py
has the first ones (a distribution; argmax at T=0; parse never raises); these add the invariants.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from popsim.asks import OptionDistribution, option_probs
from popsim.backends.scoring import parse_option, walk_options
from popsim.errors import PopsimError
from popsim.instruments import load_instrument, score
from popsim.values import CODES10

pytestmark = [pytest.mark.reliability, pytest.mark.properties]

ESS = load_instrument("ess21")
ITEMS = list(ESS.item_ids)
N_ITEMS = pd.Series({c: len(ids) for c, ids in ESS.key(10).items()})

# ------------------------------------------------------------------------------------------- parse_option

digit_scales = st.sampled_from([tuple("123456"), tuple(str(i) for i in range(11)), tuple("1234567"), ("1", "2")])
word_scales = st.sampled_from([("Yes", "No"), ("Agree", "Neutral", "Disagree"), ("A", "B", "C", "D")])
WRAPS = ["{o}", " {o}", "{o}.", "{o}\n", "Answer: {o}", "answer:{o}", "My answer - {o}", "**{o}**", "({o})",
         "{o} because it fits me", "Response: {o}!", "\t{o} ", "\"{o}\""]


@given(st.one_of(digit_scales, word_scales), st.data(), st.sampled_from(WRAPS))
@settings(max_examples=400, deadline=None)
def test_parse_option_reads_every_option_in_every_usual_wrapping(options, data, wrap):
    i = data.draw(st.integers(0, len(options) - 1))
    assert parse_option(wrap.format(o=options[i]), options) == i
    if options[i].isalpha():  # words: any case
        assert parse_option(wrap.format(o=options[i].swapcase()), options) == i


@given(st.text(max_size=40), st.one_of(digit_scales, word_scales))
@settings(max_examples=400, deadline=None)
def test_parse_option_answers_only_with_the_first_word_exactly(text, options):
    i = parse_option(text, options)
    assert i is None or 0 <= i < len(options)
    assert parse_option("  \n" + text + "  ", options) == i  # surrounding space never matters
    if i is not None:  # what it read is exactly an option, never a part of a longer number ("10" is not "1")
        import re

        t = re.sub(r"^(answer|my answer|response)\s*[:\-]\s*", "", text.strip(), flags=re.IGNORECASE)
        word = re.search(r"[A-Za-z]+|\d+", t).group(0)
        assert word.lower() == options[i].lower()


@given(st.integers(0, 10), st.integers(0, 99))
def test_parse_option_never_reads_a_longer_number_as_its_prefix(i, tail):
    options = tuple(str(k) for k in range(11))
    text = f"{i}{tail}"
    assert parse_option(text, options) == (int(text) if int(text) <= 10 and text == str(int(text)) else None)


# ------------------------------------------------------------------------------------------- option_probs

lp_lists = st.lists(st.floats(min_value=-30, max_value=0), min_size=2, max_size=11)


@given(lp_lists, st.floats(min_value=-50, max_value=50), st.floats(min_value=0.1, max_value=2.0))
@settings(max_examples=300, deadline=None)
def test_option_probs_ignore_a_common_shift(lps, c, t):
    a = option_probs(np.array(lps), t)
    b = option_probs(np.array(lps) + c, t)
    assert np.allclose(a, b, atol=1e-9)


@given(lp_lists, st.randoms(use_true_random=False), st.floats(min_value=0.1, max_value=2.0))
@settings(max_examples=300, deadline=None)
def test_option_probs_follow_a_permutation_of_the_options(lps, rnd, t):
    perm = list(range(len(lps)))
    rnd.shuffle(perm)
    a = option_probs(np.array(lps), t)
    b = option_probs(np.array(lps)[perm], t)
    assert np.allclose(a[perm], b, atol=1e-12)


@given(lp_lists, st.lists(st.booleans(), min_size=11, max_size=11), st.floats(min_value=0.5, max_value=2.0))
@settings(max_examples=300, deadline=None)
def test_options_without_probability_get_none_and_the_rest_get_some(lps, drop, t):
    lps = np.array(lps)
    drop = np.array(drop[: len(lps)])
    assume(not drop.all())
    lps[drop] = -np.inf
    p = option_probs(lps, t)
    assert np.all(p[drop] == 0) and np.all(p[~drop] > 0) and p.sum() == pytest.approx(1.0)
    assert np.allclose(option_probs(lps, 1.0)[~drop], np.exp(lps[~drop]) / np.exp(lps[~drop]).sum())  # T=1: renormalised


@given(st.integers(2, 11), st.floats(min_value=0.0, max_value=2.0))
def test_no_valid_option_at_all_gives_uniform(n, t):
    assert np.allclose(option_probs(np.full(n, -np.inf), t), 1.0 / n)


@given(lp_lists, st.floats(min_value=0.05, max_value=2.0))
@settings(max_examples=200, deadline=None)
def test_lower_temperature_sharpens(lps, t):
    """The top option never loses probability when the temperature goes down."""
    lps = np.array(lps)
    assume(np.sum(lps == lps.max()) == 1)
    top = int(np.argmax(lps))
    assert option_probs(lps, t / 2)[top] >= option_probs(lps, t)[top] - 1e-12


@given(lp_lists)
def test_a_missing_answer_is_never_turned_into_a_distribution(lps):
    lps = list(lps)
    lps[0] = float("nan")
    with pytest.raises(PopsimError):
        option_probs(np.array(lps))


@given(st.lists(st.one_of(st.floats(min_value=-50, max_value=0), st.just(-math.inf)), min_size=2, max_size=11),
       st.integers(0, 20), st.integers(0, 20), st.one_of(st.none(), st.text(max_size=30)))
@settings(max_examples=300, deadline=None)
def test_what_is_cached_is_exactly_what_is_used(lps, n, invalid, error):
    """The engine uses the JSON round trip of every answer (so a resumed run sees identical numbers)."""
    options = tuple(str(i) for i in range(len(lps)))
    d = OptionDistribution(options=options, logprobs=tuple(lps), method="sample", n_samples=n, n_invalid=invalid,
                           error=error)
    if error is not None:
        d = OptionDistribution.missing(options, error)
    back = OptionDistribution.from_json(d.to_json())
    assert back.to_json() == d.to_json()
    assert back.options == d.options and back.error == d.error and back.method == d.method
    for a, b in zip(back.logprobs, d.logprobs):
        assert (math.isnan(a) and math.isnan(b)) or a == b


@given(st.dictionaries(st.sampled_from(["", " ", "1", " 1", "2", " 2", "10", "0", "x"]),
                       st.floats(min_value=0.001, max_value=1.0), min_size=1, max_size=9))
@settings(max_examples=200, deadline=None)
def test_walked_option_probabilities_never_exceed_one(table):
    """Whatever the model says, the option probabilities are probabilities and sum to at most 1."""
    z = sum(table.values())
    dist = {t: p / z for t, p in table.items() if t}

    def next_logprob(state):
        return lambda t: math.log(dist[t]) if t in dist else -math.inf

    lps = walk_options(["1", "2", "10"], "", next_logprob, lambda s, t: s + t)
    p = [math.exp(x) for x in lps]
    assert all(0 <= x <= 1 + 1e-12 for x in p) and sum(p) <= 1 + 1e-9


# ------------------------------------------------------------------------------------------- scoring


def answer_tables(min_rows=1, max_rows=12, low=1, high=6):
    return st.integers(min_rows, max_rows).flatmap(
        lambda n: st.lists(st.lists(st.integers(low, high), min_size=21, max_size=21), min_size=n, max_size=n)
    ).map(lambda rows: pd.DataFrame(rows, columns=ITEMS, dtype=float))


@given(answer_tables())
@settings(max_examples=50, deadline=None)
def test_centered_scores_weighted_by_item_counts_sum_to_zero(x):
    """MRAT is the mean of all 21 items, each keyed to one value: sum_v n_v * (raw_v - MRAT) = 0."""
    sc = score(x, "ess21")
    assert np.allclose((sc.centered[list(N_ITEMS.index)] * N_ITEMS).sum(axis=1), 0, atol=1e-9)
    assert np.allclose(sc.mrat, x.mean(axis=1))
    assert np.allclose(sc.raw.sub(sc.mrat, axis=0), sc.centered)


@given(answer_tables(high=4), st.integers(0, 2))
@settings(max_examples=50, deadline=None)
def test_shifting_every_answer_leaves_centered_scores_unchanged(x, c):
    a, b = score(x, "ess21"), score(x + c, "ess21")
    assert np.allclose(a.centered, b.centered, atol=1e-12)
    assert np.allclose(b.raw, a.raw + c) and np.allclose(b.mrat, a.mrat + c)


@given(answer_tables())
@settings(max_examples=50, deadline=None)
def test_reversing_the_scale_negates_centered_scores(x):
    a, b = score(x, "ess21"), score(7 - x, "ess21")
    assert np.allclose(b.centered, -a.centered, atol=1e-12) and np.allclose(b.mrat, 7 - a.mrat)


@given(answer_tables(min_rows=2), st.randoms(use_true_random=False))
@settings(max_examples=50, deadline=None)
def test_permuting_respondents_permutes_rows_and_item_order_does_not_matter(x, rnd):
    rows = list(range(len(x)))
    rnd.shuffle(rows)
    cols = list(ITEMS)
    rnd.shuffle(cols)
    a = score(x, "ess21")
    b = score(x.iloc[rows][cols], "ess21")
    pd.testing.assert_frame_equal(b.centered, a.centered.iloc[rows])
    pd.testing.assert_series_equal(b.mrat, a.mrat.iloc[rows])
    assert list(a.centered.columns) == list(CODES10)


@given(answer_tables(max_rows=4), st.data())
@settings(max_examples=50, deadline=None)
def test_missing_answers_follow_the_ess_rule(x, data):
    """Up to 5 of 21 missing: scored from the rest; 6 or more: no scores (NaN), never an error."""
    k = data.draw(st.integers(0, 21))
    cols = data.draw(st.permutations(ITEMS))[:k]
    y = x.copy()
    y.loc[y.index[0], cols] = np.nan
    sc = score(y, "ess21")
    if k > 5:
        assert math.isnan(sc.mrat.iloc[0]) and sc.centered.iloc[0].isna().all()
    else:
        assert sc.mrat.iloc[0] == pytest.approx(y.iloc[0].mean())
        answered = [c for c, ids in ESS.key(10).items() if y.iloc[0][ids].notna().any()]
        assert sc.centered.iloc[0][answered].notna().all() and sc.centered.iloc[0].drop(answered).isna().all()
    if len(x) > 1:  # other respondents are untouched
        pd.testing.assert_frame_equal(sc.centered.iloc[1:], score(x, "ess21").centered.iloc[1:])


@given(answer_tables(max_rows=3), st.sampled_from([0, 7, -1, 6.5, 100]), st.sampled_from(ITEMS))
@settings(max_examples=30, deadline=None)
def test_answers_off_the_scale_are_refused(x, bad, item):
    x = x.copy()
    x.loc[x.index[0], item] = bad
    if 1 <= bad <= 6:
        score(x, "ess21")
    else:
        with pytest.raises(PopsimError, match="outside the 1..6 scale"):
            score(x, "ess21")
