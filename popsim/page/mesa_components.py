"""The page's result views as components for Mesa's `SolaraViz`, for pages built the Mesa way.

Each is a function `(model) -> solara element` of a `PopulationModel`, the shape `SolaraViz(model,
components=[...])` takes (it re-renders them after every step):

    from mesa.visualization import SolaraViz
    from popsim.page.mesa_components import Results, Structure, ValueProfile

    page = SolaraViz(model, components=[ValueProfile, Structure, (Results, 1)], model_params=...)

`docs/examples/solaraviz_app.py` is a whole page. The views are the ones of popsim's own page
(`results.py`), rendering the same `Snapshot`: after each round the model's tables go to a temporary run
folder and the CLI's report is built on it, once per model and round, shared by all components (the
folder is removed with the model, or at exit: Mesa 3.3 keeps every model that made agents). The agents
answer in `SolaraViz`'s thread, without popsim's progress bar and Cancel; popsim's own page (`solara run
app.py`) has those. This module does not import `mesa.visualization` (which needs `altair`: `pip install
'popsim[solaraviz]'`); docs/app.md says which Mesa's SolaraViz runs these components.
"""

from __future__ import annotations

import shutil
import threading
import weakref

from .results import (BehaviourView, GameViewPanel, ItemsView, ManipulationView, ProfileView, ReportView,
                      StructureView, Views)
from .session import Session, Snapshot
from .settings import Settings
from .widgets import Guard

_CACHE = "_popsim_snapshot"  # where a model keeps its snapshot for the components (its session and round)
_LOCK = threading.Lock()


def settings_of(model) -> Settings:
    """The page's settings describing a model built elsewhere (for the views' header and human sample)."""
    s = model.settings
    backend = getattr(model.backend, "name", "embedded") if model.backend is not None else "embedded"
    return Settings(n_agents=s["n_agents"], population=str(s["population"]), strategy=str(s["strategy"]),
                    scenario=model.scenario.name, rounds=model.scenario.rounds, network=str(s["network"]),
                    prompt_style=s["prompt_style"], policy=s["policy"], option_order=s["option_order"],
                    backend=backend, model=str(getattr(model.backend, "model", "")) if backend == "openai" else "",
                    temperature=float(s["temperature"]), seed=int(s["seed"]))


def snapshot_of(model) -> Snapshot:
    """The page's `Snapshot` of `model` after its latest round (built once per round, then reused)."""
    with _LOCK:
        cache = model.__dict__.get(_CACHE)
        if cache is None:
            session = Session()
            session.attach(model, settings_of(model))
            weakref.finalize(model, shutil.rmtree, session.folder, True)  # the temporary run folder goes with it
            cache = model.__dict__[_CACHE] = {"session": session, "lock": threading.Lock(), "round": None}
    with cache["lock"]:  # the first component to render after a step builds it; the others wait and reuse it
        if cache["round"] != model.round:
            cache["snapshot"], cache["round"] = cache["session"].snapshot(), model.round
        return cache["snapshot"]


def _view(view, model):
    return Guard(view, snapshot_of(model))  # a view that fails shows one line; the other components stay


def Results(model):
    """Everything the page's Simulate tab shows: the round, the settings, the verdict and every view in tabs."""
    return _view(Views, model)


def ValueProfile(model):
    """The population's value profile (drawn, and measured from its answers) against the human means."""
    return _view(ProfileView, model)


def Structure(model):
    """The value circumplex and correlation heatmaps, and the agreement with every human sample."""
    return _view(StructureView, model)


def Manipulation(model):
    """Primed minus unprimed agents on the primed value, next to the agents' synthetic human twins."""
    return _view(ManipulationView, model)


def Items(model):
    """The item answer distributions against the human ones."""
    return _view(ItemsView, model)


def ValueBehaviour(model):
    """Value x attitude correlations against the human ones, or each value's relation with giving (games)."""
    return _view(BehaviourView, model)


def Game(model):
    """The share given per round against the human mean, and the network coloured by dominant value."""
    return _view(GameViewPanel, model)


def Report(model):
    """The run's whole report with its figures."""
    return _view(ReportView, model)


COMPONENTS = (ValueProfile, Structure, Manipulation, Items, ValueBehaviour, Game, Report, Results)

__all__ = ["COMPONENTS", "Game", "Items", "Manipulation", "Report", "Results", "Structure", "ValueBehaviour",
           "ValueProfile", "settings_of", "snapshot_of"]
