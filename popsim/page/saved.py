"""The Saved runs and Compare runs tabs: browse run folders' reports, compare two runs side by side."""

from __future__ import annotations

import logging
from pathlib import Path

import solara

from ..errors import PopsimError
from .session import PLOT_LOCK, describe_error
from .views import SavedEntry, comparison, find_runs, frame_markdown, read_report, run_figures, split_markdown
from .widgets import MarkdownWithFigures, md

log = logging.getLogger("popsim.page")

#: per browser session (Solara keeps module-level reactive variables per session)
saved_folder = solara.reactive("runs" if Path("runs").is_dir() else ".")
saved_entries = solara.reactive([])  # list[SavedEntry]
saved_error = solara.reactive(None)


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
        solara.Error(saved_error.value, classes=["popsim-saved-state"])
    entries: list[SavedEntry] = saved_entries.value
    if not entries:
        return
    labels = [e.label for e in entries]
    solara.Select("Run folder", values=labels, value=chosen.value if chosen.value in labels else labels[0],
                  on_value=chosen.set, classes=["popsim-saved-state"])
    SavedRunReport(entries[labels.index(chosen.value)] if chosen.value in labels else entries[0])


@solara.component
def SavedRunReport(entry: SavedEntry):
    built_counter = solara.use_reactive(0)
    error = solara.use_reactive(None)
    parts, problem = solara.use_memo(lambda: _report_parts(entry), [entry.path, built_counter.value])

    def build():
        try:
            from ..reporting.report import build_report
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
    md(f"Runs found in the folder opened under *Saved runs* (`{saved_folder.value}`): {len(runs)}.")
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
    md("Headline metrics side by side (`popsim.reporting.report.headline_table`; see each run's report for the definitions and "
        "confidence intervals).")
    md(frame_markdown(df))
    fa, fb = figs
    names = [n for n in fa if n in fb] + [n for n in list(fa) + list(fb) if n not in fa or n not in fb]
    if names:
        md("Report figures side by side (left: run A, right: run B):")
    for name in dict.fromkeys(names):
        with solara.Columns([1, 1]):
            for f in (fa, fb):
                if name in f:
                    solara.Image(f[name], format="png", classes=["popsim-fig"])
                else:
                    md(f"_(no {name} figure)_")
