"""Study plans as data (`popsim.studies.plan`): the replication's plan file gives the same runs the code gave.

`tests/data/replicate_plans.json` holds the plans `studies/replicate.py` built in code before the plan became
`replicate_plan.toml` (written by that code at commit ca7544c)."""

import json
from pathlib import Path

import pytest

from popsim.errors import PopsimError
from popsim.studies import replicate
from popsim.studies.plan import load_plan
from popsim.values import CODES10

BEFORE = json.loads((Path(__file__).parent / "data" / "replicate_plans.json").read_text())
CASES = [k for k in BEFORE if not k.startswith("_")]


@pytest.mark.parametrize("case", CASES)
def test_the_plan_file_gives_the_runs_the_code_gave(case):
    scale, seeds = case.split("/")
    seeds = None if seeds == "None" else int(seeds)
    tasks = replicate.plan(scale, backend="scripted", seeds=seeds)
    want = BEFORE[case]["plan"]
    assert [t["name"] for t in tasks] == [t["name"] for t in want]
    for got, expected in zip(tasks, want):
        assert got == expected, got["name"]
    seed_list = sorted({t["point"]["seed"] for t in tasks if t["name"].startswith("rq3-")})
    accuracy = {c: round(0.1 * i, 1) for i, c in enumerate(CODES10)}
    stage2 = replicate.model_specific_tasks(scale, backend="scripted", accuracy=accuracy, seeds=seed_list)
    assert stage2 == BEFORE[case]["model_specific"]


def test_the_plan_constants_are_the_ones_the_code_had():
    c = BEFORE["_constants"]
    assert json.loads(json.dumps(replicate.SCALES)) == c["SCALES"]
    assert list(replicate.RQ1_STYLES) == c["RQ1_STYLES"] and list(replicate.RQ3_STRATEGIES) == c["RQ3_STRATEGIES"]
    assert replicate.ROBUSTNESS == c["ROBUSTNESS"] and [list(p) for p in replicate.PAPER] == c["PAPER"]
    assert replicate.SCALES["tiny"]["seeds"] == (1, 2) and replicate.SCALES["paper"]["robust_items"] is None


def test_unknown_scale():
    with pytest.raises(PopsimError, match="unknown scale 'huge'"):
        replicate.plan("huge", backend="scripted")


PLAN = """
colours = ["red", "blue"]
pairs = [{ tag = "a", change = { option_order = "random" } }, { tag = "b", change = {} }]
[scales.one]
agents = 3
items = ["x"]
[scales.two]
agents = 5
[base]
backend = "$backend"
[[runs]]
name = "{colour}-{pair.tag}-s{seed}"
for = { colour = "$colours", seed = [1, 2], pair = "$pairs" }
point = { scenario = "ess21", n_agents = "$agents", seed = "$seed" }
scenario_options = { items = "$items" }
with = "$pair.change"
[[runs]]
stage = 2
name = "late"
point = { accuracy = "$accuracy" }
"""


def write(tmp_path, text):
    f = tmp_path / "plan.toml"
    f.write_text(text, encoding="utf-8")
    return f


def test_loops_first_outermost_references_and_with(tmp_path):
    plan = load_plan(write(tmp_path, PLAN))
    tasks = plan.tasks("one", backend="b")
    assert [t["name"] for t in tasks][:5] == ["red-a-s1", "red-b-s1", "red-a-s2", "red-b-s2", "blue-a-s1"]
    assert len(tasks) == 8
    assert tasks[0] == {"name": "red-a-s1", "point": {"backend": "b", "scenario": "ess21", "n_agents": 3, "seed": 1,
                                                      "option_order": "random"}, "scenario_options": {"items": ["x"]}}
    # an option absent at a scale is left out; stage 2 sees what the caller passes
    assert plan.tasks("two", backend="b")[1]["scenario_options"] == {}
    assert plan.tasks("two", stage=2, backend="b", accuracy={"SD": 0.5}) == [
        {"name": "late", "point": {"backend": "b", "accuracy": {"SD": 0.5}}, "scenario_options": {}}]


@pytest.mark.parametrize("change, message", [
    (('n_agents = "$agents"', 'n_agents = "$agnets"'), r"refers to \$agnets, which is not defined"),
    (('for = { colour', 'each = { colour'), "unknown key in \\[\\[runs\\]\\] number 1"),
    (('name = "late"', 'title = "late"'), "unknown key"),
    (('with = "$pair.change"', 'with = "$pair.tag"'), "`with` must name a table"),
    (("[scales.one]", "[scales.one"), "is not valid TOML"),
])
def test_bad_plans_say_what_is_wrong(tmp_path, change, message):
    with pytest.raises(PopsimError, match=message):
        load_plan(write(tmp_path, PLAN.replace(*change))).tasks("one", backend="b")


def test_the_plan_file_ships_in_the_package():
    from importlib import resources

    assert resources.files("popsim.studies").joinpath("replicate_plan.toml").is_file()
    assert load_plan().source == "replicate_plan.toml"
