"""The embedded model gives the same numbers however its work is batched.

Several sequences per llama.cpp decode call (`batch_sequences`), the engine's chunking and the order
in which asks are evaluated must not change any option distribution (tolerance: 1e-6 in
log-probability; llama.cpp computes each row of a batch with the same kernels, so they are in fact
equal), nor any sampled answer of a seeded run.
"""

import math

import numpy as np
import pytest

from popsim import prompts
from popsim.asks import Ask, Message
from popsim.backends.embedded import EmbeddedBackend, prefix_order
from popsim.engine import Engine
from popsim.instruments import load_instrument
from popsim.model import PopulationModel

TOL = 1e-6


def mixed_asks():
    """Two personas x 4 ESS-21 items (6-point scale), a 0-10 scale (its walk needs further steps after
    '1' for '10') under two personas, and a Yes/No question."""
    inst = load_instrument("ess21")
    out = []
    for prime, gender in (("PO", "male"), ("UN", "female")):
        persona = prompts.persona_text("value_prompt", prime=prime)
        for it in inst.items[:4]:
            pres = prompts.present_options(it, "ascending")
            out.append(prompts.build_ask(persona, prompts.item_text(it, inst.instruction, inst.question, pres,
                                                                    gender=gender), pres.labels))
    att = load_instrument("ess_attitudes").item("lrscale")
    pres = prompts.present_options(att, "ascending")
    text = prompts.item_text(att, "", "", pres, country="Germany")
    out.append(prompts.build_ask(None, text, pres.labels))
    out.append(prompts.build_ask(prompts.persona_text("value_prompt", prime="SE"), text, pres.labels))
    out.append(prompts.build_ask(None, 'Is the following statement something you would say?\n"I like art"\n\n'
                                 "Answer Yes or No.", ("Yes", "No")))
    return out


def assert_same(a, b):
    assert [d.options for d in a] == [d.options for d in b]
    for x, y in zip(a, b):
        assert x.ok and y.ok
        for p, q in zip(x.logprobs, y.logprobs):
            assert (math.isinf(p) and math.isinf(q)) or abs(p - q) <= TOL, (x.logprobs, y.logprobs)


@pytest.fixture(scope="module")
def sequential():
    return EmbeddedBackend(batch_sequences=1)


def fresh_kv(be):
    be.llm.reset()
    if be._seqs is not None:
        be._seqs.set_base([])


def test_batched_sequences_give_the_sequential_numbers(sequential):
    asks = mixed_asks()
    fresh_kv(sequential)
    want = sequential.option_distributions(asks)
    for k in (3, 8):  # 3: windows cut a persona's items unevenly; 8: one window per persona
        batched = EmbeddedBackend(batch_sequences=k)
        got = batched.option_distributions(asks)
        assert_same(want, got)
        assert batched.forward_passes < sequential.forward_passes  # fewer, larger llama.cpp calls
        again = batched.option_distributions(list(reversed(asks)))  # other order, KV state left from before
        assert_same(list(reversed(want)), again)
    assert all(0.3 < d.validity_mass <= 1.0 for d in want)


def test_sequential_numbers_equal_a_fresh_evaluation_of_each_prompt(sequential):
    asks = mixed_asks()[:5]
    together = sequential.option_distributions(asks)
    singles = []
    for a in asks:
        sequential.llm.reset()
        singles.append(sequential.option_distributions([a])[0])
    assert_same(together, singles)


def test_engine_chunks_change_neither_numbers_nor_the_persona_prefix_work(sequential):
    inst = load_instrument("ess21")
    asks = []
    for prime in ("AC", "TR", "BE"):
        persona = prompts.persona_text("value_prompt", prime=prime)
        for it in inst.items[:4]:
            pres = prompts.present_options(it, "ascending")
            asks.append(prompts.build_ask(persona, prompts.item_text(it, inst.instruction, inst.question, pres),
                                          pres.labels))
    fresh_kv(sequential)
    before = sequential.tokens_evaluated
    whole = Engine(sequential).resolve(asks)
    one_chunk = sequential.tokens_evaluated - before

    chunked = EmbeddedBackend(batch_sequences=1)
    chunked.chunk_size = 5  # chunk boundaries inside every persona's items
    fresh_kv(chunked)
    before = chunked.tokens_evaluated
    parts = Engine(chunked).resolve(asks)
    in_chunks = chunked.tokens_evaluated - before
    assert_same(whole, parts)
    persona_len = len(chunked.tokens(asks[0])) - 60  # a persona + instruction + card is > 100 tokens
    # every persona prefix still evaluated once: chunking costs at most a few item tokens, not a persona
    assert in_chunks - one_chunk < persona_len, (in_chunks, one_chunk)


def test_seeded_runs_sample_the_same_answers_whatever_the_batching():
    frames = []
    for k in (1, 4):
        model = PopulationModel(n_agents=3, strategy="h_np", prompt_style="value_prompt",
                                backend=EmbeddedBackend(batch_sequences=k), rng=5,
                                scenario_options={"items": ["ipcrtiv", "imprich", "impsafe"]})
        frames.append(model.run().answers_frame())
    a, b = frames
    assert a["answer"].tolist() == b["answer"].tolist()
    assert np.allclose(np.array(a["probs"].tolist()), np.array(b["probs"].tolist()), atol=1e-6)
    assert a["answer"].notna().all()


def test_prefix_order_groups_personas_cached_first_last_ask_last():
    def ask(persona, item):
        return Ask(messages=(Message("system", persona), Message("user", item)), options=("1", "2"))

    asks = [ask("A", "x"), ask("B", "y"), ask("C", "z"), ask("B", "w"), ask("A", "v"), ask("D", "u")]
    # fake token sequences: persona letter code then item letter code
    toks = [[ord(a.messages[0].content), ord(a.messages[1].content)] for a in asks]
    groups = prefix_order(asks, toks, cached=[ord("C"), 1, 2])
    assert groups[0] == [2]  # the persona the KV cache holds
    assert groups[-1] == [5]  # the persona of the last ask (continues in the next chunk)
    assert sorted(map(sorted, groups)) == [[0, 4], [1, 3], [2], [5]]
    assert groups[1] == [4, 0] and groups[2] == [3, 1]  # by tokens within a persona
    assert prefix_order([], []) == []
