"""The Solara page of popsim (`solara run app.py`): the Simulate tab's controls and worker, and the page.

State lives in module-level `solara.reactive` variables, which Solara keeps per browser session.
Slow work (building the model, stepping it, evaluating it) runs in one background task at a time;
the task sets the progress and, after each round, a new `Snapshot` that the result views render
(`results.py`). Every error is caught and shown as one line (a `PopsimError`'s message says what to
fix); tracebacks go to the server log only, and the page stays usable.
"""

from __future__ import annotations

import logging
import os

import solara
import solara.lab

from ..errors import PopsimError
from . import settings as S
from .results import Views
from .saved import CompareRuns, SavedRuns
from .session import Cancelled, Progress, Session, Snapshot, describe_error
from .study import StudyView
from .widgets import CSS, Guard, TabBar, hint, md

log = logging.getLogger("popsim.page")

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")

# ------------------------------------------------------------------------------------------ state (per session)

settings = solara.reactive(S.Settings())
built = solara.reactive(None)  # the Settings of the current model (None: no model yet)
snapshot = solara.reactive(None)  # Snapshot | None
status = solara.reactive(None)  # Progress | None while the worker runs
message = solara.reactive(None)  # (kind, text): kind in error / info / success
cancelling = solara.reactive(False)


# ------------------------------------------------------------------------------------------ the worker


@solara.lab.task(prefer_threaded=True)
def work(session: Session, action: str, wanted: S.Settings):
    """Build / step / run all, in a background thread. Never raises: errors become `message`."""
    message.value = None
    cancelling.value = False
    session.clear_cancel()
    try:
        if action == "reset" or session.model is None or built.value != wanted:
            status.value = Progress("building the model from the settings (the embedded model loads in a few seconds)")
            session.build(wanted)
            built.value = wanted
            snapshot.value = session.snapshot()
        if action in ("step", "run_all"):
            while True:
                session.step(on_progress=status.set)
                status.value = Progress(f"round {session.model.round} done: evaluating against the human reference")
                snapshot.value = session.snapshot()
                if action == "step" or not session.running:
                    break
            if not session.running:
                message.value = ("success", f"Finished: {session.model.round} of {session.model.scenario.rounds} "
                                            "round(s). Press Reset for a new run.")
    except Cancelled:
        done = session.model.round if session.model is not None else 0
        try:
            snapshot.value = session.snapshot()  # the engine's counts include the chunks that were answered
        except Exception:  # noqa: BLE001 - the previous snapshot stays
            log.exception("snapshot after cancel failed")
        message.value = ("info", f"Cancelled after the current chunk of model calls; {done} round(s) complete. The "
                                 "answers received are cached, so Step or Run all resumes quickly.")
    except Exception as exc:  # noqa: BLE001 - every error is shown as one line, logged in full
        if not isinstance(exc, PopsimError):
            log.exception("page action %s failed", action)
        message.value = ("error", describe_error(exc))
    finally:
        status.value = None
        cancelling.value = False
        session.clear_cancel()

# ------------------------------------------------------------------------------------------ page

@solara.component
def Page():
    session = solara.use_memo(Session, [])
    solara.use_effect(lambda: session.shutdown, [])  # when the session ends: stop its work, remove its temporary folder
    solara.Title("popsim")
    solara.Style(CSS)
    with solara.Column(style={"padding": "10px 18px"}):
        md("## popsim: value-prompted populations vs human data")
        HostWarning()
        section = solara.use_reactive("Simulate")
        TabBar(["Simulate", "Saved runs", "Compare runs", "Study"], section)
        if section.value == "Simulate":
            Simulate(session)
        elif section.value == "Saved runs":
            Guard(SavedRuns)
        elif section.value == "Study":
            Guard(StudyView)
        else:
            Guard(CompareRuns)


@solara.component
def HostWarning():
    host = os.environ.get("SERVER_NAME", "localhost")
    if host not in LOOPBACK:
        solara.Warning(f"This page is served on {host}: anyone who can reach it can run models and read run folders "
                       "on this machine. Serve it on this machine only: solara run app.py --host 127.0.0.1")


@solara.component
def Simulate(session: Session):
    with solara.Columns([1, 3]):
        with solara.Column(classes=["popsim-controls"]):
            Guard(Controls)
        with solara.Column():
            Guard(RunBar, session)
            Guard(Views, snapshot.value)


def _set(name):
    def on_value(v):
        settings.value = settings.value.replace(**{name: v})
    return on_value


def _select(label: str, name: str, s: S.Settings, busy: bool, *, with_hint: bool = True):
    """A select control offering the setting's choices (from their owner, through `popsim.parameters`)."""
    solara.Select(label, values=list(S.choices(name)), value=getattr(s, name), on_value=_set(name), disabled=busy)
    if with_hint:
        hint(getattr(s, name))


def _slider(label: str, name: str, s: S.Settings, busy: bool):
    """A slider over the setting's range (`popsim.parameters`)."""
    from ..parameters import parameter

    p = parameter(name)
    value = getattr(s, name)
    solara.SliderFloat(f"{label} {value:g}", value=value, min=p.low, max=p.high, step=0.05, on_value=_set(name),
                       disabled=busy)


@solara.component
def Controls():
    s = settings.value
    busy = work.pending
    with solara.Card("Population"):
        solara.InputInt("Number of agents", value=s.n_agents, on_value=_set("n_agents"), disabled=busy)
        _select("Population sample", "population", s, busy)
        _select("Strategy", "strategy", s, busy)
        if s.strategy == "custom":
            solara.InputText("Profiles file", value=s.profiles, on_value=_set("profiles"), disabled=busy)
        if s.strategy == "model_specific":
            solara.InputText("Accuracy run", value=s.accuracy_from, on_value=_set("accuracy_from"), disabled=busy)
        _slider("Female share", "female_share", s, busy)
        solara.InputText("Transforms (e.g. shift.UN=0.5, spread=0.8)", value=s.transforms,
                         on_value=_set("transforms"), disabled=busy)
        _select("Network", "network", s, busy, with_hint=False)
    with solara.Card("Scenario"):
        _select("Scenario", "scenario", s, busy)
        if s.scenario == "public_goods":
            solara.InputInt("Rounds", value=s.rounds, on_value=_set("rounds"), disabled=busy)
    with solara.Card("Model"):
        _select("Policy", "policy", s, busy)
        if s.policy == "llm":
            _select("Prompt style", "prompt_style", s, busy, with_hint=False)
            solara.InputInt("Template variant", value=s.template_variant, on_value=_set("template_variant"),
                            disabled=busy)
            _select("Backend", "backend", s, busy)
            if s.backend == "openai":
                solara.InputText("Base URL", value=s.base_url, on_value=_set("base_url"), disabled=busy)
                solara.InputText("Model name", value=s.model, on_value=_set("model"), disabled=busy)
                _select("API", "api", s, busy, with_hint=False)
                solara.InputText("API key variable", value=s.api_key_env, on_value=_set("api_key_env"), disabled=busy)
                state = "set" if S.key_is_set(s.api_key_env) else "not set (servers without keys need none)"
                solara.Text(f"The key is read on the server from ${s.api_key_env}: {state}. It is never shown here.",
                            style={"font-size": "12px", "color": "#666"})
            _select("Option order", "option_order", s, busy, with_hint=False)
            _slider("Temperature", "temperature", s, busy)
        solara.InputInt("Seed", value=s.seed, on_value=_set("seed"), disabled=busy)


@solara.component
def RunBar(session: Session):
    busy = work.pending
    snap: Snapshot | None = snapshot.value
    finished = snap is not None and not snap.running and built.value == settings.value
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Reset", icon_name="mdi-restart", on_click=lambda: work(session, "reset", settings.value),
                      disabled=busy, outlined=True)
        solara.Button("Step", icon_name="mdi-step-forward", color="primary",
                      on_click=lambda: work(session, "step", settings.value), disabled=busy or finished)
        solara.Button("Run all", icon_name="mdi-fast-forward", color="primary",
                      on_click=lambda: work(session, "run_all", settings.value), disabled=busy or finished)

        def cancel():
            session.cancel()
            cancelling.value = True

        solara.Button("Cancel", icon_name="mdi-stop", color="error", on_click=cancel,
                      disabled=not busy or cancelling.value, outlined=True)
    solara.Text(settings.value.summary(), style={"font-size": "13px", "color": "#555"})
    if built.value is not None and built.value != settings.value and not busy:
        solara.Info("Settings changed: the next Step or Run all starts a new model with them (Reset does it now).",
                    dense=True)
    p: Progress | None = status.value
    if busy:
        frac = p.fraction if p is not None else None
        solara.ProgressLinear(value=True if frac is None else 100 * frac)
        text = p.phase if p is not None else "starting"
        if p is not None and p.total:
            text += f": {p.done} of {p.total} model calls"
        if cancelling.value:
            text += " (cancelling after the current chunk)"
        solara.Text(text, classes=["popsim-progress"])
    if message.value is not None:
        kind, text = message.value
        {"error": solara.Error, "info": solara.Info, "success": solara.Success}[kind](text, classes=["popsim-message"])
