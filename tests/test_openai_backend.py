"""The OpenAI-compatible backend against real HTTP servers on 127.0.0.1 (no patched client).

- llama-cpp-python's own server (`llama_cpp.server`) serving the same GGUF as the embedded model;
- the test suite's server (`fault_server.py`) backed by the same real model, answering without logprobs.
"""

import numpy as np
import pytest

from popsim import prompts
from popsim.backends import make_backend
from popsim.errors import BackendUnavailable, PopsimError
from popsim.instruments import load_instrument

from fault_server import FaultServer


def mixed_asks():
    inst = load_instrument("ess21")
    out = []
    for prime in ("PO", None):
        persona = prompts.persona_text("value_prompt", prime=prime)
        for it in inst.items[:3]:
            pres = prompts.present_options(it, "ascending")
            out.append(prompts.build_ask(persona, prompts.item_text(it, inst.instruction, inst.question, pres),
                                         pres.labels))
    att = load_instrument("ess_attitudes").item("stflife")
    pres = prompts.present_options(att, "ascending")
    out.append(prompts.build_ask(None, prompts.item_text(att, "", "", pres, country="Germany"), pres.labels))
    out.append(prompts.build_ask(None, 'Is the following statement something you would say?\n"I enjoy art"\n\n'
                                 "Answer Yes or No.", ("Yes", "No")))
    return out


def test_completions_endpoint_agrees_with_the_embedded_model(embedded, llama_server):
    """Same weights, same prompt text: the server's top logprobs give the embedded model's distributions."""
    asks = mixed_asks()
    local = embedded.option_distributions(asks)
    remote = make_backend("openai", base_url=llama_server, model="smollm2", api="completions",
                          chat_template=embedded._template).option_distributions(asks)
    for a, b in zip(local, remote):
        assert b.ok and b.method == "logprobs"
        assert np.abs(a.probs() - b.probs()).max() < 0.01
        assert abs(a.validity_mass - b.validity_mass) < 0.02


def test_chat_endpoint_reads_top_logprobs(llama_server):
    asks = mixed_asks()[:3]
    be = make_backend("openai", base_url=llama_server, model="smollm2", api="chat", concurrency=2)
    dists = be.option_distributions(asks)
    for d in dists:
        assert d.ok and d.method == "logprobs" and d.probs().sum() == pytest.approx(1)
        assert 0 < d.validity_mass <= 1  # no answer prefix on chat: the model often starts in prose
    assert be.requests == len(asks)


def test_without_logprobs_samples_and_parses(embedded):
    asks = mixed_asks()[:2]
    with FaultServer(model="embedded", logprobs=False) as srv:
        be = make_backend("openai", base_url=srv.base_url, model="test-model", api="completions", samples=6,
                          chat_template=embedded._template, concurrency=2)
        dists = be.option_distributions(asks)
    for d in dists:
        assert d.method == "sample" and d.n_samples == 6
        counts = np.exp(d.logprobs) * 6
        assert np.allclose(counts, np.round(counts)) and round(counts.sum()) + d.n_invalid == 6


def test_bad_settings_fail_early_and_clearly(llama_server):
    with pytest.raises(BackendUnavailable, match="cannot reach an OpenAI-compatible server at http://127.0.0.1:9/v1"):
        make_backend("openai", base_url="http://127.0.0.1:9/v1", model="x", timeout=3)
    with pytest.raises(PopsimError, match="model 'gpt-9' is not served .* it serves: smollm2"):
        make_backend("openai", base_url=llama_server, model="gpt-9")
    with pytest.raises(PopsimError, match="not an http"):
        make_backend("openai", base_url="127.0.0.1:8000", model="x")
    with pytest.raises(PopsimError, match="needs --model"):
        make_backend("openai", base_url=llama_server)
