"""Asks the tests share: synthetic persona x item grids, and the value-prompt personas of some values x the first
ESS-21 items."""

from popsim import prompts
from popsim.asks import Ask, Message
from popsim.instruments import load_instrument


def asks(n_personas=11, n_items=21):
    """n_personas x n_items distinct asks with six options (a population's worth of dedupe targets)."""
    return [Ask(messages=(Message("system", f"persona {p}"), Message("user", f"item {i}")), options=tuple("123456"))
            for p in range(n_personas) for i in range(n_items)]


def ess_asks(primes=("PO", None), n_items=3):
    inst = load_instrument("ess21")
    out = []
    for prime in primes:
        persona = prompts.persona_text("value_prompt", prime=prime)
        for it in inst.items[:n_items]:
            pres = prompts.present_options(it, "ascending")
            out.append(prompts.build_ask(persona, prompts.item_text(it, inst.instruction, inst.question, pres),
                                         pres.labels))
    return out
