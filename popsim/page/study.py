"""The Study tab: open a study folder (`popsim sweep --out`), draw an outcome against the study's parameters
(response curves with a band across seeds, a heat map for two parameters), and show its slopes, sensitivity
indices and summary.md.

The helpers above the component are plain Python (tested without a browser); drawing uses the same functions
as `popsim sweep` (`studies.responses`), under the page's plot lock.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import solara

from ..errors import PopsimError
from .session import PLOT_LOCK, describe_error
from .views import frame_markdown, split_markdown
from .widgets import MarkdownWithFigures, img, md

log = logging.getLogger("popsim.page")


@dataclass
class Study:
    path: Path
    spec: dict
    results: pd.DataFrame
    params: list[str]
    slopes: pd.DataFrame
    indices: pd.DataFrame

    @property
    def metrics(self) -> list[str]:
        """Outcomes to choose from: the plotted ones first, then every other."""
        from ..studies.results import plot_metrics

        first = plot_metrics(self.spec, self.results)
        return first + sorted(set(self.results["metric"]) - set(first))


def find_studies(folder: str | Path, *, max_depth: int = 2) -> list[Path]:
    """Study folders (holding study.json) in `folder` or below it."""
    root = Path(str(folder).strip() or ".").expanduser()
    if not root.is_dir():
        raise PopsimError(f"folder {root} does not exist; give a popsim sweep --out folder (or a folder above it)")
    found = [root] if (root / "study.json").is_file() else []
    for depth in range(1, max_depth + 1):
        found += sorted(p.parent for p in root.glob("/".join(["*"] * depth) + "/study.json"))
    if not found:
        raise PopsimError(f"no study in {root} (a study folder holds study.json, written by popsim sweep)")
    return list(dict.fromkeys(found))


def load_study_folder(path: str | Path) -> Study:
    """A finished (or partly finished) study: its spec, tidy results (with groups), slopes and indices."""
    from ..studies.results import parameters, with_groups

    path = Path(path)
    try:
        spec = json.loads((path / "study.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PopsimError(f"{path / 'study.json'} cannot be read ({exc}); rerun popsim sweep on that study") from None
    if (path / "results.parquet").is_file():
        results = pd.read_parquet(path / "results.parquet")
    elif (path / "results.csv").is_file():
        results = pd.read_csv(path / "results.csv")
    else:
        raise PopsimError(f"{path} has no results yet; run popsim sweep on its study file (finished runs are reused)")
    if results.empty:
        raise PopsimError(f"{path}: no run of the study has finished yet; see its status.csv")
    params = parameters(spec)

    def table(name: str) -> pd.DataFrame:
        f = path / name
        return pd.read_csv(f) if f.is_file() and f.stat().st_size else pd.DataFrame()

    return Study(path, spec, with_groups(spec, results), params, table("slopes.csv"), table("indices.csv"))


def study_figures(study: Study, metric: str) -> tuple[bytes | None, bytes | None]:
    """(response curves, heat map) of one outcome as PNG bytes (no heat map with fewer than two parameters)."""
    from ..studies.responses import heat_map, response_figure

    if not study.params:
        return None, None
    sub = study.results[study.results["metric"] == metric].dropna(subset=study.params)
    if sub.empty:
        raise PopsimError(f"no run of {study.path.name} has the outcome {metric!r}; choose another")
    curves, heat = io.BytesIO(), io.BytesIO()
    with PLOT_LOCK:
        response_figure(sub, study.params, [metric], curves, by="group")
        if len(study.params) >= 2:
            heat_map(sub, study.params[0], study.params[1], metric, heat, by="group")
    return curves.getvalue(), heat.getvalue() or None


def metric_tables(study: Study, metric: str) -> list[tuple[str, pd.DataFrame]]:
    """The slopes and indices of one outcome, with a caption each."""
    out = []
    for caption, df in (("Slope per unit of each parameter (95% CI), OLS over the runs", study.slopes),
                        ("Sensitivity indices (95% CI)", study.indices)):
        if len(df) and "metric" in df:
            rows = df[df["metric"] == metric].drop(columns=["metric"])
            if len(rows):
                out.append((caption, rows))
    return out


# ------------------------------------------------------------------------------------------ the component

study_folder = solara.reactive("runs" if Path("runs").is_dir() else ".")


@solara.component
def StudyView():
    found = solara.use_reactive([])
    chosen = solara.use_reactive(None)
    error = solara.use_reactive(None)

    def open_folder(folder: str | None = None):
        study_folder.value = folder if folder is not None else study_folder.value
        try:
            found.value = [str(p) for p in find_studies(study_folder.value)]
            error.value = None
        except Exception as exc:  # noqa: BLE001
            if not isinstance(exc, PopsimError):
                log.exception("opening %s failed", study_folder.value)
            found.value, error.value = [], describe_error(exc)

    with solara.Column(classes=["popsim-study"]):
        with solara.Row(style={"align-items": "center"}):
            solara.InputText("Study folder (popsim sweep --out, or a folder above it)", value=study_folder.value,
                             on_value=open_folder, style={"min-width": "480px"})
            solara.Button("Open", on_click=lambda: open_folder(), outlined=True)
        if error.value:
            solara.Error(error.value, classes=["popsim-message"])
        if found.value:
            path = chosen.value if chosen.value in found.value else found.value[0]
            solara.Select("Study", values=found.value, value=path, on_value=chosen.set)
            StudyPanel(path)


@solara.component
def StudyPanel(path: str):
    metric = solara.use_reactive(None)
    study, problem = solara.use_memo(lambda: _load(path), [path])
    if problem:
        solara.Warning(problem)
        return
    names = study.metrics
    shown = metric.value if metric.value in names else names[0]
    solara.Select("Outcome", values=names, value=shown, on_value=metric.set)
    OutcomeFigures(study, shown)
    for caption, df in metric_tables(study, shown):
        md(f"**{caption}**\n\n" + frame_markdown(df))
    summary = study.path / "summary.md"
    if summary.is_file():
        md("---")
        MarkdownWithFigures(split_markdown(summary.read_text(encoding="utf-8"), study.path))


@solara.component
def OutcomeFigures(study: Study, metric: str):
    figs, problem = solara.use_memo(lambda: _draw(study, metric), [str(study.path), metric])
    if problem:
        solara.Warning(problem)
    for png in figs:
        img(png)


def _load(path: str):
    try:
        return load_study_folder(path), None
    except Exception as exc:  # noqa: BLE001
        if not isinstance(exc, PopsimError):
            log.exception("loading study %s failed", path)
        return None, describe_error(exc)


def _draw(study: Study, metric: str):
    try:
        return [p for p in study_figures(study, metric) if p], None
    except Exception as exc:  # noqa: BLE001
        if not isinstance(exc, PopsimError):
            log.exception("drawing %s failed", metric)
        return [], describe_error(exc)
