"""One source of truth for every choice and range (issue 11, item 4): the sets the command line, the page and a
study file accept equal the owners' sets, and a bad value gets the same message from each."""

import pytest

from popsim import backends, datasets, network, policy, population, prompts, scenario
from popsim.backends import openai_compat
from popsim.cli import build_parser
from popsim.cli.options import settings
from popsim.errors import PopsimError
from popsim.page import settings as S
from popsim.parameters import PARAMETERS, check, parameter
from popsim.studies.sweep import validate_point

#: parameter -> the owner's set of choices
OWNERS = {
    "strategy": set(population.STRATEGIES),
    "prompt_style": set(prompts.STYLES),
    "option_order": set(prompts.ORDERS),
    "network": set(network.NETWORKS),
    "backend": set(backends.BACKENDS),
    "api": set(openai_compat.APIS),
    "scenario": set(scenario.BUILTIN),
    "policy": set(policy.POLICIES),
    "population": set(datasets.SAMPLES),
}
#: the page field and the Settings it needs for that field's check to be reached
PAGE = {"api": {"backend": "openai", "model": "m"}, "backend": {"model": "m"}}


def cli_accepts(name: str, value) -> str:
    """The CLI's verdict on one value ('ok' or the error message)."""
    prm = PARAMETERS[name]
    if prm.flag.startswith("--"):
        args = build_parser().parse_args(["run", "ess21", "--out", "o", prm.flag, str(value)])
    else:
        args = build_parser().parse_args(["run", str(value), "--out", "o"])
    try:
        settings(args, (prm.group,))
        return "ok"
    except PopsimError as exc:
        return str(exc)


def page_accepts(name: str, value) -> str:
    extra = dict(PAGE.get(name, {}))
    if name == "strategy" and value == "custom":
        extra["profiles"] = "p.csv"
    if name == "strategy" and value == "model_specific":
        extra["accuracy_from"] = "run"
    try:
        S.Settings(**{name: value, **extra}).check()
        return "ok"
    except PopsimError as exc:
        return str(exc)


def study_accepts(name: str, value) -> str:
    try:
        validate_point({name: value}, "s.toml")
        return "ok"
    except PopsimError as exc:
        return str(exc).removeprefix(f"s.toml: {name} = {value!r}: ")


@pytest.mark.parametrize("name", sorted(OWNERS))
def test_choices_are_the_owners_everywhere(name):
    owner = OWNERS[name]
    assert set(parameter(name).known()) == owner
    if name in S.CHOICE_FIELDS:
        assert set(S.choices(name)) == owner  # what the page's select offers
    for value in owner:
        assert cli_accepts(name, value) == "ok", value
        assert study_accepts(name, value) == "ok", value
        if name in S.CHOICE_FIELDS:
            assert page_accepts(name, value) == "ok", value
    bogus = "no_such_" + name
    message = cli_accepts(name, bogus)
    assert message.startswith(f"unknown {parameter(name).noun or name} '{bogus}'") or "unknown population" in message
    assert study_accepts(name, bogus) == message
    if name in S.CHOICE_FIELDS:
        assert page_accepts(name, bogus) == message


@pytest.mark.parametrize("name, good, bad", [
    ("n_agents", [1, 500], [0, -3, 2.5, "ten"]),
    ("temperature", [0, 0.5, 2], [-0.1, 2.01, "hot"]),
    ("female_share", [0, 0.5, 1], [-0.5, 1.5]),
    ("no_dominant_share", [0, 0.53, 0.999], [1, -0.1]),
    ("template_variant", [0, 1], [-1, 0.5]),
    ("seed", [0, 123], [1.5, "x"]),
])
def test_ranges_are_checked_alike(name, good, bad):
    for value in good:
        assert check(name, value) == pytest.approx(float(value))
        assert cli_accepts(name, value) == "ok" and study_accepts(name, value) == "ok"
    for value in bad:
        message = cli_accepts(name, value)
        assert message.startswith(PARAMETERS[name].flag + " must be"), message
        assert study_accepts(name, value).startswith(PARAMETERS[name].flag + " must be")
        if name not in ("no_dominant_share",):  # the page has no control for the h_np share
            page = page_accepts(name, value)
            assert page != "ok" and page.split(" must be")[1] == message.split(" must be")[1]


def test_the_model_checks_its_keywords_with_the_same_messages():
    from popsim.model import PopulationModel

    for kwargs, flag in (({"n_agents": 0}, "--agents"), ({"temperature": 3.0}, "--temperature"),
                         ({"female_share": 2.0}, "--female-share"), ({"strategy": "h_nq"}, "unknown strategy")):
        with pytest.raises(PopsimError) as exc:
            PopulationModel(policy="reference", rng=1, **kwargs)
        assert str(exc.value).startswith(flag), exc.value
