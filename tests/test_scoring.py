"""Option scoring from next-token distributions, answer parsing, normalisation (incl. property tests)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from popsim.asks import Ask, Message, OptionDistribution, option_probs
from popsim.backends.scoring import parse_option, prefix_ambiguous, walk_options


def oracle(table):
    """A fake model: state (text so far) -> {token: prob}."""
    calls = []

    def next_logprob(state):
        calls.append(state)
        dist = table.get(state, {})
        return lambda t: math.log(dist[t]) if t in dist else -math.inf

    return next_logprob, (lambda s, t: s + t), calls


def test_single_token_options_sum_both_spellings():
    nl, ext, calls = oracle({"": {"1": 0.2, "2": 0.1, " ": 0.5, "x": 0.2}, " ": {"1": 0.6, "2": 0.4}})
    lps = walk_options(["1", "2"], "", nl, ext)
    assert math.exp(lps[0]) == pytest.approx(0.2 + 0.5 * 0.6)
    assert math.exp(lps[1]) == pytest.approx(0.1 + 0.5 * 0.4)
    assert calls == ["", " "]  # one extra step, after the space


def test_prefix_options_need_the_model_to_stop():
    # "1" then "0" makes 10; "1" then anything else is the answer 1
    nl, ext, _ = oracle({"": {"1": 0.5, "2": 0.3}, "1": {"0": 0.4, ".": 0.6}})
    lps = walk_options(["1", "2", "10"], "", nl, ext)
    p = [math.exp(x) for x in lps]
    assert p == pytest.approx([0.5 * 0.6, 0.3, 0.5 * 0.4])
    assert prefix_ambiguous(["1", "10"]) and not prefix_ambiguous(["1", "2"])


def test_multi_token_words():
    nl, ext, _ = oracle({"": {" Ye": 0.5, " No": 0.3}, " Ye": {"s": 0.9}})
    p = [math.exp(x) for x in walk_options(["Yes", "No"], "", nl, ext)]
    assert p == pytest.approx([0.45, 0.3])


@pytest.mark.parametrize("text,expected", [
    ("4", 3), (" 4.", 3), ("Answer: 2", 1), ("**6** - very much", 5), ("10", None), ("I think", None), ("", None)])
def test_parse_option_digits(text, expected):
    assert parse_option(text, ["1", "2", "3", "4", "5", "6"]) == expected


def test_parse_option_words_and_ten():
    assert parse_option(" yes, I would", ["Yes", "No"]) == 0
    assert parse_option("10", [str(i) for i in range(11)]) == 10


@given(st.lists(st.floats(min_value=-30, max_value=0), min_size=2, max_size=11),
       st.floats(min_value=0.05, max_value=2.0))
@settings(max_examples=200, deadline=None)
def test_option_probs_is_a_distribution(lps, temperature):
    p = option_probs(np.array(lps), temperature)
    assert p.shape == (len(lps),)
    assert np.all(p >= 0) and p.sum() == pytest.approx(1.0)
    # order preserved: more log-probability never means less probability
    order = np.argsort(lps)
    assert np.all(np.diff(p[order]) >= -1e-12)


@given(st.lists(st.floats(min_value=-30, max_value=0), min_size=2, max_size=8))
@settings(max_examples=100, deadline=None)
def test_temperature_zero_is_argmax_and_inf_is_zero(lps):
    lps = list(lps) + [-math.inf]
    p0 = option_probs(np.array(lps), 0.0)
    assert p0.sum() == 1.0 and p0[int(np.argmax(lps))] == 1.0
    assert option_probs(np.array(lps), 1.0)[-1] == 0.0


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_parse_never_raises_and_returns_a_valid_index(text):
    i = parse_option(text, ["1", "2", "3", "Yes"])
    assert i is None or 0 <= i < 4


def test_distribution_json_roundtrip_and_validity():
    ask = Ask(messages=(Message("user", "q"),), options=("1", "2"))
    d = OptionDistribution(options=ask.options, logprobs=(math.log(0.3), -math.inf))
    back = OptionDistribution.from_json(d.to_json())
    assert back.logprobs[1] == -math.inf and back.validity_mass == pytest.approx(0.3)
    assert list(back.probs()) == [1.0, 0.0]
    missing = OptionDistribution.missing(("1", "2"), "HTTP 500")
    assert not missing.ok and math.isnan(missing.validity_mass)
