"""Prompt tokens before a run (`popsim/backends/tokens.py`, `Engine.plan`) and the tokens servers report (`usage`):
the model's own tokenizer where popsim can reach it (the embedded model; llama-cpp-python's server), an estimate
said as such elsewhere."""

from __future__ import annotations

import pytest

from popsim.backends import make_backend
from popsim.backends.tokens import count_texts, estimate
from popsim.cache import Cache
from popsim.engine import Engine

from fault_server import FaultServer
from sample_asks import ess_asks


def test_the_embedded_model_counts_with_its_own_tokenizer(embedded):
    asks = ess_asks(n_items=4)
    tokens, how = embedded.count_tokens(asks)
    assert tokens == sum(len(embedded.tokens(a)) for a in asks) and how.startswith("the model's tokenizer")
    plan = Engine(embedded, Cache(None)).plan(asks * 3)
    assert (plan.distinct, plan.to_ask, plan.prompt_tokens) == (8, 8, tokens)


@pytest.mark.slow
def test_llama_cpp_servers_tokenizer_gives_the_embedded_count(embedded, llama_server):
    asks = ess_asks(n_items=4)
    be = make_backend("openai", base_url=llama_server, model="smollm2", api="completions",
                      chat_template=embedded._template)
    tokens, how = be.count_tokens(asks)
    assert tokens == embedded.count_tokens(asks)[0] and how == "the server's tokenizer (/extras/tokenize)"


def test_a_server_without_a_tokenizer_gets_an_estimate_said_as_such():
    asks = ess_asks(n_items=4)
    with FaultServer() as srv:
        for api in ("completions", "chat"):
            be = make_backend("openai", base_url=srv.base_url, model="test-model", api=api)
            tokens, how = be.count_tokens(asks)
            assert how.startswith("estimate: 4 characters per token (the server has no tokenize endpoint)")
            assert 0.8 * sum(len(m.content) for a in asks for m in a.messages) / 4 < tokens < 2000
        assert srv.counts["requests"] == 0  # no completion was asked for


def test_many_prompts_are_counted_on_a_sample():
    texts = [("word " * (i % 50 + 1)) for i in range(3000)]
    exact, how = count_texts(texts, lambda t: len(t.split()), name="words", exact_up_to=5000)
    sampled, how2 = count_texts(texts, lambda t: len(t.split()), name="words", exact_up_to=1000)
    assert how == "words" and "on 500 of 3,000 prompts, scaled by characters (an estimate)" in how2
    assert abs(sampled - exact) < 0.02 * exact and estimate(["abcde"]) == 2


def test_the_tokens_servers_report_are_recorded_whatever_the_batching():
    asks = ess_asks(("PO", "UN", None), 5)
    with FaultServer() as srv:  # reports usage: prompt characters // 4, one completion token per prompt
        one = make_backend("openai", base_url=srv.base_url, model="test-model", api="completions")
        one.option_distributions(asks)
        lists = make_backend("openai", base_url=srv.base_url, model="test-model", api="completions", batch_prompts=8)
        lists.option_distributions(asks)
    u1, u8 = one.stats()["usage"], lists.stats()["usage"]
    # the same prompts, plus the probe's check of one prompt alone
    assert u8["completion_tokens"] == u1["completion_tokens"] + 1 > 1
    assert 0 < u8["prompt_tokens"] - u1["prompt_tokens"] < 400 < u1["prompt_tokens"]
    assert u1["requests_with_usage"] == one.requests and u8["requests_with_usage"] < u1["requests_with_usage"]
    assert lists.describe()["usage"] == u8
