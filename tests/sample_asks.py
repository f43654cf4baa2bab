"""Asks the tests share: the value-prompt personas of some values x the first ESS-21 items."""

from popsim import prompts
from popsim.instruments import load_instrument


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
