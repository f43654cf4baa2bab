"""The scenario interface, and the loader that finds scenarios by name or file.

A scenario is a task posed to the population: questionnaire items, attitude questions, or the
rounds of a game. It states the questions of each round (all asked in one batch), applies the
answers (payoffs, history), and names the human reference it is compared with. Write your own by
copying `scenarios/TEMPLATE.py`; run it with `popsim run path/to/my_scenario.py`.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import PopsimError, unknown

if TYPE_CHECKING:  # pragma: no cover
    from .questions import Answer, Question

# "PopulationModel" in the annotations below is popsim.model.PopulationModel, which imports this module: it is
# named, not imported, so that the dependency runs one way (model -> scenario).

#: scenario name -> (module in scenarios/, keyword arguments)
BUILTIN: dict[str, tuple[str, dict]] = {
    "ess21": ("questionnaire", {"instrument": "ess21"}),
    "pvq40": ("questionnaire", {"instrument": "pvq40"}),
    "pvq_rr": ("questionnaire", {"instrument": "pvq_rr"}),
    "ess_attitudes": ("ess_attitudes", {}),
    "dictator": ("dictator", {}),
    "charity_game": ("charity_game", {}),
    "public_goods": ("public_goods", {}),
    "persona_statements": ("persona_statements", {}),
}
#: the built-in scenarios that are games (their outcome is a choice per round, not a questionnaire)
GAMES: tuple[str, ...] = ("dictator", "charity_game", "public_goods")


class Scenario:
    """Base class. Override `questions` (and `apply` for games)."""

    name: str = "scenario"
    #: number of rounds (steps) the model runs
    rounds: int = 1
    #: instrument whose value key scores the answers ('' when the scenario measures no values)
    instrument: str = ""
    #: one line on the human reference the scenario is compared with
    reference: str = ""

    def questions(self, model: "PopulationModel", round_: int) -> list["Question"]:
        raise NotImplementedError

    def apply(self, model: "PopulationModel", round_: int, answers: list["Answer"]) -> None:
        """Use the round's answers (payoffs, history). Questionnaires need nothing."""

    def model_reporters(self) -> dict[str, Callable]:
        """Per-round outcomes for Mesa's DataCollector."""
        return {}

    def describe(self) -> dict:
        return {"name": self.name, "rounds": self.rounds, "instrument": self.instrument, "reference": self.reference}


def load_scenario(spec: str | Scenario, **options) -> Scenario:
    """A built-in scenario by name, a Python file defining a `Scenario` subclass, or an instance."""
    if isinstance(spec, Scenario):
        return spec
    spec = str(spec)
    if spec.endswith(".py") or "/" in spec:
        module = _load_file(Path(spec))
    elif spec in BUILTIN:
        mod_name, kwargs = BUILTIN[spec]
        module = importlib.import_module(f"popsim.scenarios.{mod_name}")
        options = {**kwargs, **options}
    else:
        raise unknown("scenario", spec, BUILTIN, hint="Or pass the path of your own scenario file (.py).")
    classes = [v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, Scenario) and v is not Scenario
               and v.__module__ == module.__name__]
    if not classes:
        raise PopsimError(f"{spec}: no Scenario subclass defined in it; see scenarios/TEMPLATE.py")
    try:
        scenario = classes[0](**options)
    except PopsimError:
        raise
    except TypeError as exc:
        raise PopsimError(f"scenario {spec!r} does not take these options ({exc}); check the option names") from exc
    except Exception as exc:  # a user's scenario that fails in its constructor: name the file, no traceback
        raise PopsimError(f"scenario {spec}: {classes[0].__name__}() raised {type(exc).__name__}: {exc}; "
                          "fix the scenario (see scenarios/TEMPLATE.py)") from exc
    if spec not in BUILTIN:
        scenario.source = spec  # where errors from its methods are reported (see `call`)
    return scenario


def call(scenario: Scenario, method: str, *args):
    """`scenario.method(*args)`; an exception from a user's scenario file becomes a PopsimError naming the file
    and the method (a built-in scenario's bug keeps its traceback)."""
    source = getattr(scenario, "source", None)
    try:
        result = getattr(scenario, method)(*args)
    except (PopsimError, KeyboardInterrupt):
        raise
    except Exception as exc:
        if source is None:
            raise
        raise PopsimError(f"scenario {source}: {method}() raised {type(exc).__name__}: {exc}; fix the scenario "
                          "(see scenarios/TEMPLATE.py)") from exc
    if method == "questions":
        from .questions import Question, QuestionGrid

        if isinstance(result, QuestionGrid):  # every agent x item: Questions by construction
            return result
        if not isinstance(result, (list, tuple)) or not all(isinstance(q, Question) for q in result):
            got = type(result).__name__ if not isinstance(result, (list, tuple)) else "a list with other things in it"
            raise PopsimError(f"scenario {source or scenario.name}: questions() must return a list of "
                              f"popsim.policy.Question, got {got}; see scenarios/TEMPLATE.py")
    return result


def _load_file(path: Path):
    if not path.is_file():
        raise PopsimError(f"scenario file {path} does not exist; pass a built-in name ({', '.join(BUILTIN)}) "
                          "or the path of a .py file")
    name = f"popsim_user_scenario_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise PopsimError(f"scenario file {path} has a syntax error at line {exc.lineno}: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise PopsimError(f"scenario file {path} is not UTF-8 text; save it as UTF-8") from exc
    except Exception as exc:
        raise PopsimError(f"scenario file {path} raised {type(exc).__name__} when loaded: {exc}") from exc
    return module
