"""The real embedded model (SmolLM2-135M-Instruct in llama.cpp) on tiny inputs."""

import math

import numpy as np
import pytest

from popsim import prompts
from popsim.backends.embedded import EmbeddedBackend, find_model_file
from popsim.errors import PopsimError
from popsim.instruments import load_instrument

from sample_asks import ess_asks


def test_weights_ship_inside_the_installed_package():
    path = find_model_file()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and "site-packages" in str(path)
    assert path.stat().st_size > 50_000_000


def test_option_distributions_are_valid(embedded):
    dists = embedded.option_distributions(ess_asks())
    for d in dists:
        p = d.probs()
        assert d.ok and d.method == "logprobs" and p.sum() == pytest.approx(1.0)
        assert 0.5 < d.validity_mass <= 1.0  # the model answers with a number (measured ~0.96)
    rendered = embedded.render(ess_asks()[0])
    assert rendered.startswith("<|im_start|>system\nImagine that you are a person who greatly values power")
    assert rendered.endswith("<|im_start|>assistant\nAnswer: ")


def test_prefix_reuse_gives_the_same_numbers_as_a_fresh_evaluation(embedded):
    asks = ess_asks(("UN",), 4)
    together = embedded.option_distributions(asks)  # shares the persona prefix in the KV cache
    fresh = EmbeddedBackend()
    fresh._llm = None
    singles = []
    for a in asks:
        fresh.llm.reset()
        singles.append(fresh.option_distributions([a])[0])
    for a, b in zip(together, singles):
        assert np.allclose(a.logprobs, b.logprobs, atol=2e-3)
    assert embedded.tokens_evaluated > 0


def test_same_asks_same_numbers(embedded):
    a = embedded.option_distributions(ess_asks(("SE",), 2))
    b = embedded.option_distributions(ess_asks(("SE",), 2))
    assert np.allclose([x.logprobs for x in a], [x.logprobs for x in b], atol=1e-4)


def test_eleven_point_scale_and_yes_no(embedded):
    att = load_instrument("ess_attitudes").item("lrscale")
    pres = prompts.present_options(att, "ascending")
    ask = prompts.build_ask(None, prompts.item_text(att, "", "", pres, country="Germany"), pres.labels)
    yn = prompts.build_ask(None, 'Is the following statement something you would say?\n"I like art"\n\nAnswer Yes or No.',
                           ("Yes", "No"))
    d, e = embedded.option_distributions([ask, yn])
    assert len(d.logprobs) == 11 and all(math.isfinite(x) for x in d.logprobs)
    assert d.validity_mass > 0.5 and e.validity_mass > 0.3


def test_prompt_too_long_is_a_clear_error(embedded):
    long = prompts.build_ask("word " * 5000, "q", ("1", "2"))
    with pytest.raises(PopsimError, match="does not fit the embedded model's context"):
        embedded.option_distributions([long])


def test_missing_model_file_error(tmp_path):
    with pytest.raises(PopsimError, match="does not exist"):
        EmbeddedBackend(model_path=str(tmp_path / "none.gguf"))
