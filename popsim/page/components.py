"""The Solara components of the popsim page (`solara run app.py`).

State lives in module-level `solara.reactive` variables, which Solara keeps per browser session.
Slow work (building the model, stepping it, evaluating it) runs in one background task at a time;
the task sets the progress and, after each round, a new `Snapshot` that the views render. Every error
is caught and shown as one line (a `PopsimError`'s message says what to fix); tracebacks go to the
server log only, and the page stays usable.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import solara
import solara.lab

from ..errors import PopsimError
from . import settings as S
from .session import Cancelled, Progress, Session, Snapshot, describe_error, profile_table
from .views import (SavedEntry, comparison, find_runs, frame_markdown, markdown_html, read_report, run_figures,
                    split_markdown, value_profile_figure)

log = logging.getLogger("popsim.page")

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")

CSS = """
.popsim-fig { max-width: 100%; height: auto; }
.popsim-md table { border-collapse: collapse; margin: 6px 0 12px 0; font-size: 13px; }
.popsim-md th, .popsim-md td { border: 1px solid #ddd; padding: 2px 7px; text-align: right; }
.popsim-md th { background: #f4f4f4; }
.popsim-md td:first-child, .popsim-md th:first-child { text-align: left; }
.popsim-controls .v-card { margin-bottom: 10px; }
.popsim-tabs { margin: 8px 0 12px 0; }
.popsim-tabs .v-btn { text-transform: none; }
"""

# ------------------------------------------------------------------------------------------ state (per session)

settings = solara.reactive(S.Settings())
built = solara.reactive(None)  # the Settings of the current model (None: no model yet)
snapshot = solara.reactive(None)  # Snapshot | None
status = solara.reactive(None)  # Progress | None while the worker runs
message = solara.reactive(None)  # (kind, text): kind in error / info / success
cancelling = solara.reactive(False)

saved_folder = solara.reactive("runs" if Path("runs").is_dir() else ".")
saved_entries = solara.reactive([])  # list[SavedEntry]
saved_error = solara.reactive(None)


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
def Guard(component, *args):
    """An error boundary: a view that fails to render shows one line (the traceback goes to the log)."""
    exc, clear = solara.use_exception()

    def report():
        if exc is not None:
            log.error("a view failed to render", exc_info=exc)

    solara.use_effect(report, [exc])
    if exc is not None:
        with solara.Column():
            solara.Error(f"This view could not be shown: {describe_error(exc)}", classes=["popsim-message"])
            solara.Button("Try again", on_click=clear, outlined=True)
        return
    component(*args)



@solara.component
def Page():
    session = solara.use_memo(Session, [])
    solara.use_effect(lambda: session.close, [])  # remove the temporary run folder when the session ends
    solara.Title("popsim")
    solara.Style(CSS)
    with solara.Column(style={"padding": "10px 18px"}):
        _md("## popsim: value-prompted populations vs human data")
        HostWarning()
        section = solara.use_reactive("Simulate")
        TabBar(["Simulate", "Saved runs", "Compare runs"], section)
        if section.value == "Simulate":
            Simulate(session)
        elif section.value == "Saved runs":
            Guard(SavedRuns)
        else:
            Guard(CompareRuns)


@solara.component
def TabBar(labels: list[str], value: solara.Reactive):
    """Tabs as toggle buttons; only the chosen tab's content is rendered."""
    with solara.Div(classes=["popsim-tabs"]):
        solara.ToggleButtonsSingle(value=value.value, values=list(labels), on_value=value.set, mandatory=True)


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


@solara.component
def Controls():
    s = settings.value
    busy = work.pending
    with solara.Card("Population"):
        solara.InputInt("Number of agents", value=s.n_agents, on_value=_set("n_agents"), disabled=busy)
        solara.Select("Population sample", values=list(S.POPULATIONS), value=s.population,
                      on_value=_set("population"), disabled=busy)
        solara.Select("Strategy", values=list(S.STRATEGIES), value=s.strategy, on_value=_set("strategy"),
                      disabled=busy)
        solara.Select("Network", values=list(S.NETWORKS), value=s.network, on_value=_set("network"), disabled=busy)
    with solara.Card("Scenario"):
        solara.Select("Scenario", values=list(S.SCENARIOS), value=s.scenario, on_value=_set("scenario"),
                      disabled=busy)
        if s.scenario == "public_goods":
            solara.InputInt("Rounds", value=s.rounds, on_value=_set("rounds"), disabled=busy)
    with solara.Card("Model"):
        solara.Select("Policy", values=list(S.POLICIES), value=s.policy, on_value=_set("policy"), disabled=busy)
        if s.policy == "llm":
            solara.Select("Prompt style", values=list(S.STYLES), value=s.prompt_style, on_value=_set("prompt_style"),
                          disabled=busy)
            solara.Select("Backend", values=list(S.BACKENDS), value=s.backend, on_value=_set("backend"),
                          disabled=busy)
            if s.backend == "openai":
                solara.InputText("Base URL", value=s.base_url, on_value=_set("base_url"), disabled=busy)
                solara.InputText("Model name", value=s.model, on_value=_set("model"), disabled=busy)
                solara.Select("API", values=list(S.APIS), value=s.api, on_value=_set("api"), disabled=busy)
                solara.InputText("API key variable", value=s.api_key_env, on_value=_set("api_key_env"), disabled=busy)
                state = "set" if S.key_is_set(s.api_key_env) else "not set (servers without keys need none)"
                solara.Text(f"The key is read on the server from ${s.api_key_env}: {state}. It is never shown here.",
                            style={"font-size": "12px", "color": "#666"})
            solara.Select("Option order", values=list(S.ORDERS), value=s.option_order, on_value=_set("option_order"),
                          disabled=busy)
            solara.SliderFloat("Temperature", value=s.temperature, min=0.0, max=2.0, step=0.05,
                               on_value=_set("temperature"), disabled=busy)
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


# ------------------------------------------------------------------------------------------ views


def _md(text: str, classes: tuple[str, ...] = ()):
    solara.HTML(tag="div", unsafe_innerHTML=markdown_html(text), classes=["popsim-md", *classes])


def _img(png: bytes | None):
    if png:
        solara.Image(png, format="png", classes=["popsim-fig"])


def _records(rows) -> "object":
    import pandas as pd

    return pd.DataFrame(rows or [])


def _cols(df, cols):
    return df[[c for c in cols if c in df.columns]]


@solara.component
def Views(snap: Snapshot | None):
    view = solara.use_reactive("Value profile")
    if snap is None:
        solara.Info("Choose a population, a scenario and a model on the left, then press Step (one round) or Run all. "
                    "Reset draws the population without asking anything.")
        return
    m = snap.metrics or {}
    head = f"**Round {snap.round} of {snap.rounds}** of `{snap.scenario}`. {snap.settings.summary()}. Engine: {snap.engine}."
    _md(head, ("popsim-head",))
    if m:
        from ..report import verdict

        try:
            _md(verdict(m))
        except Exception:  # noqa: BLE001 - the verdict is a summary; the views below stand without it
            log.exception("verdict failed")
    if snap.evaluation_error:
        solara.Warning(snap.evaluation_error)
    views = {"Value profile": ProfileView, "Structure": StructureView, "Manipulation check": ManipulationView,
             "Items": ItemsView, "Value-behaviour": BehaviourView, "Game": GameViewPanel, "Report": ReportView}
    TabBar(list(views), view)
    Guard(views.get(view.value, ProfileView), snap)


@solara.component
def ProfileView(snap: Snapshot):
    table = solara.use_memo(lambda: profile_table(snap), [snap.stamp])
    fig = solara.use_memo(lambda: value_profile_figure(table, sample=snap.sample), [snap.stamp])
    solara.FigureMatplotlib(fig, dependencies=[snap.stamp], format="png", dpi=100)
    _md(f"Centered value scores (scale points): human {snap.sample} mean and SD; the mean of the agents' drawn "
        "profiles; the mean measured from their answers (questionnaire scenarios, after a round).")
    _md(frame_markdown(table, 2))
    if snap.figures.get("means"):
        _md("Measured value means with 95% CIs (from the report):")
        _img(snap.figures.get("means"))
    top = snap.agents["top"].fillna("none").replace("", "none").value_counts().rename_axis("dominant value")
    _md("Agents by dominant value (ties: none):\n\n" + frame_markdown(top.reset_index(name="agents"), 0))


def _not_yet(snap: Snapshot, what: str) -> bool:
    if snap.round == 0:
        solara.Info(f"{what} appears after the first round: press Step.")
        return True
    return False


@solara.component
def StructureView(snap: Snapshot):
    if _not_yet(snap, "The value structure"):
        return
    v = (snap.metrics or {}).get("values", {})
    if not v:
        solara.Info("This scenario measures no values (choose ess21, ess_attitudes, pvq40 or pvq_rr).")
        return
    if "agreement" not in v:
        solara.Info(f"Value structure not computed: {v.get('structure_error') or v.get('agreement_error')}")
        return
    ag = v["agreement"]
    _md(f"Centered value correlations vs {ag.get('sample')}: Pearson r = {ag.get('pearson_r', float('nan')):.3f} over "
        "45 cells (the human samples agree with each other at about 0.94-0.97).")
    _img(snap.figures.get("circumplex"))
    _img(snap.figures.get("heatmaps"))
    if v.get("agreement_all"):
        _md(frame_markdown(_cols(_records(v["agreement_all"]), ["sample", "pearson_r", "spearman_rho", "mantel_p",
                                                                 "tucker_phi", "procrustes_disparity"])))


@solara.component
def ManipulationView(snap: Snapshot):
    if _not_yet(snap, "The manipulation check"):
        return
    v = (snap.metrics or {}).get("values", {})
    if "manipulation" not in v:
        reason = v.get("manipulation_error") or ("it needs measured values and primed agents: a questionnaire "
                                                 "scenario with a dominant-value prompt style (value_prompt, "
                                                 "value_anchor, name_only)")
        solara.Info(f"Manipulation check not available: {reason}")
        return
    _img(snap.figures.get("manipulation"))
    _md(frame_markdown(_cols(_records(v["manipulation"]), ["value", "n_primed", "n_unprimed", "diff", "low", "high",
                                                           "d", "q", "diff_expected", "d_human", "hit_rate",
                                                           "twin_diff"]), 2))


@solara.component
def ItemsView(snap: Snapshot):
    if _not_yet(snap, "The item answer distributions"):
        return
    m = snap.metrics or {}
    shown = False
    cols = ["item", "n", "sim_mean", "sim_low", "sim_high", "human_mean", "wasserstein", "jensen_shannon"]
    it = m.get("items") or {}
    table = it.get("table") or m.get("values", {}).get("items")  # newer metrics keep the items in their own section
    if table:
        _md(f"ESS-21 items: simulated vs human {it.get('sample') or m.get('human_sample')} (answers 1-6; 95% CI over "
            "agents; Wasserstein-1 and Jensen-Shannon distances of the answer distributions).")
        _img(snap.figures.get("items"))
        _md(frame_markdown(_cols(_records(table), cols)))
        shown = True
    elif it.get("error"):
        solara.Info(f"Item distributions not computed: {it['error']}")
        shown = True
    if m.get("behaviour", {}).get("items"):
        _md("ESS attitude items: simulated vs DE_ESS9 (ESS codes).")
        _img(snap.figures.get("behaviour_items"))
        _md(frame_markdown(_cols(_records(m["behaviour"]["items"]), cols)))
        shown = True
    if not shown:
        solara.Info("No human item distributions for this scenario (ess21 and ess_attitudes have them).")


@solara.component
def BehaviourView(snap: Snapshot):
    if _not_yet(snap, "The value-behaviour comparison"):
        return
    m = snap.metrics or {}
    b = m.get("behaviour", {})
    g = m.get("game")
    if b.get("value_behaviour"):
        s = b.get("value_behaviour_summary", {})
        from ..report import fmt

        _md(f"Value x behaviour correlations (centered values x ESS attitude codes), simulated vs DE_ESS9: cell-wise "
            f"r = {fmt(s.get('pearson_r'))}, same sign in {fmt(s.get('sign_agreement'), 1, True)} of "
            f"{s.get('n_cells')} cells; each dot is one value x item cell (diagonal: same as humans).")
        _img(snap.figures.get("value_behaviour"))
        _md(frame_markdown(_records(b["value_behaviour"])))
    elif g and g.get("value_correlations"):
        _md(f"Correlation of each value with the agent's mean `{g['outcome']}` share; `expected_sign` from the "
            "literature (+1 up, -1 down, 0 no claim).")
        _md(frame_markdown(_cols(_records(g["value_correlations"]), ["value", "r", "p", "q", "expected_sign",
                                                                     "sign_ok"])))
    elif snap.game is not None and snap.game.value_r is not None:
        _md(f"Correlation of each value of the agents' profiles with their mean `{snap.game.outcome}` share (computed "
            "on the page); `expected_sign` from the literature (+1 up, -1 down, 0 no claim).")
        _md(frame_markdown(snap.game.value_r))
    else:
        reason = b.get("value_behaviour_error") or "choose ess_attitudes (values and attitudes) or a game"
        solara.Info(f"Value-behaviour comparison not available: {reason}")


@solara.component
def GameViewPanel(snap: Snapshot):
    g = snap.game
    if g is None:
        if snap.settings.scenario in S.GAMES and snap.round == 0:
            solara.Info("The game views appear after the first round: press Step.")
        else:
            solara.Info("Not a game: choose dictator, charity_game or public_goods (with a network for the network "
                        "picture).")
        return
    ref = g.reference
    line = (f"Mean share of the endowment given as `{g.outcome}`, per round" +
            (f"; dashed line: human mean {ref['mean_share']:.1%} ({ref.get('source', '').split(',')[0]})"
             if "mean_share" in ref else "; no human mean for this game (only directions of value relations)") + ".")
    _md(line)
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        _img(g.rounds_png)
        _img(g.network_png)
    if g.network_png is None:
        _md("_No network picture: choose a network (complete, small_world, scale_free, value_homophily)._")
    _md(frame_markdown(g.per_round))


@solara.component
def ReportView(snap: Snapshot):
    parts = solara.use_memo(lambda: split_markdown(snap.report_md, snap.folder) if snap.report_md else [],
                            [snap.stamp])
    if not parts:
        solara.Info("The report appears after the first round.")
        return
    MarkdownWithFigures(parts)


@solara.component
def MarkdownWithFigures(parts: list):
    for kind, body in parts:
        if kind == "md":
            _md(body)
        else:
            _img(body[1])


# ------------------------------------------------------------------------------------------ saved runs


def open_folder(folder: str) -> None:
    saved_folder.value = folder
    try:
        saved_entries.value = find_runs(folder)
        saved_error.value = None
    except Exception as exc:  # noqa: BLE001
        if not isinstance(exc, PopsimError):
            log.exception("opening %s failed", folder)
        saved_entries.value = []
        saved_error.value = describe_error(exc)


@solara.component
def SavedRuns():
    chosen = solara.use_reactive(None)  # label
    solara.use_effect(lambda: open_folder(saved_folder.value) if not saved_entries.value else None, [])
    with solara.Row(style={"align-items": "center"}):
        solara.InputText("Folder with runs (a run, sweep or demo --out folder)", value=saved_folder.value,
                         on_value=open_folder, style={"min-width": "480px"})
        solara.Button("Open", on_click=lambda: open_folder(saved_folder.value), outlined=True)
    if saved_error.value:
        solara.Error(saved_error.value)
    entries: list[SavedEntry] = saved_entries.value
    if not entries:
        return
    labels = [e.label for e in entries]
    solara.Select("Run folder", values=labels, value=chosen.value if chosen.value in labels else labels[0],
                  on_value=chosen.set)
    SavedRunReport(entries[labels.index(chosen.value)] if chosen.value in labels else entries[0])


@solara.component
def SavedRunReport(entry: SavedEntry):
    built_counter = solara.use_reactive(0)
    error = solara.use_reactive(None)
    parts, problem = solara.use_memo(lambda: _report_parts(entry), [entry.path, built_counter.value])

    def build():
        try:
            from ..report import build_report
            from .session import PLOT_LOCK

            with PLOT_LOCK:
                build_report(entry.path)
            error.value = None
            built_counter.value += 1
        except Exception as exc:  # noqa: BLE001
            if not isinstance(exc, PopsimError):
                log.exception("building the report of %s failed", entry.path)
            error.value = describe_error(exc)

    with solara.Row(style={"align-items": "center"}):
        solara.Text(str(entry.path), style={"font-size": "12px", "color": "#666"})
        if entry.kind == "run":
            solara.Button("Build report" if problem else "Rebuild report", on_click=build, outlined=True, small=True)
    if error.value:
        solara.Error(error.value)
    if problem:
        solara.Warning(problem)
    else:
        MarkdownWithFigures(parts)


def _report_parts(entry: SavedEntry):
    try:
        return split_markdown(read_report(entry), entry.path), None
    except Exception as exc:  # noqa: BLE001
        return [], describe_error(exc)


@solara.component
def CompareRuns():
    runs = [e for e in saved_entries.value if e.kind == "run"]
    a = solara.use_reactive(None)
    b = solara.use_reactive(None)
    result = solara.use_reactive(None)  # ((label A, label B), DataFrame, (figures A, figures B), error)
    _md(f"Runs found in the folder opened under *Saved runs* (`{saved_folder.value}`): {len(runs)}.")
    if len(runs) < 2:
        solara.Info("Open a folder with at least two run folders under Saved runs (e.g. the demo's --out folder).")
        return
    labels = [e.label for e in runs]
    va = a.value if a.value in labels else labels[0]
    vb = b.value if b.value in labels else labels[1]
    solara.Select("Run A", values=labels, value=va, on_value=a.set)
    solara.Select("Run B", values=labels, value=vb, on_value=b.set)

    def compare():
        try:
            from .session import PLOT_LOCK

            pa, pb = runs[labels.index(va)].path, runs[labels.index(vb)].path
            with PLOT_LOCK:
                df = comparison([pa, pb])
            result.value = ((va, vb), df, (run_figures(pa), run_figures(pb)), None)
        except Exception as exc:  # noqa: BLE001
            if not isinstance(exc, PopsimError):
                log.exception("comparing runs failed")
            result.value = ((va, vb), None, None, describe_error(exc))

    with solara.Row():
        solara.Button("Compare", on_click=compare, color="primary")
    if result.value is None or result.value[0] != (va, vb):
        return
    _, df, figs, err = result.value
    if err:
        solara.Error(err)
        return
    _md("Headline metrics side by side (`popsim.report.headline_table`; see each run's report for the definitions and "
        "confidence intervals).")
    _md(frame_markdown(df))
    fa, fb = figs
    names = [n for n in fa if n in fb] + [n for n in list(fa) + list(fb) if n not in fa or n not in fb]
    if names:
        _md("Report figures side by side (left: run A, right: run B):")
    for name in dict.fromkeys(names):
        with solara.Columns([1, 1]):
            for f in (fa, fb):
                if name in f:
                    solara.Image(f[name], format="png", classes=["popsim-fig"])
                else:
                    _md(f"_(no {name} figure)_")
