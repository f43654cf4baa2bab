"""Pure helpers behind the page's views (no solara): the value-profile figure, tables as markdown, saved runs.

`popsim.reporting.figures` draws every report figure; the one figure the report has no function for, the
population's value profile against the human means, is drawn here as a `matplotlib.figure.Figure`
(object API, no pyplot state, so it is safe in the page's worker threads).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import PopsimError
from ..reporting.markdown import markdown_table

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def value_profile_figure(table: pd.DataFrame, *, sample: str) -> Figure:
    """Per value: human centered mean +/- 1 SD, the drawn population's profile mean, the measured mean."""
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(table))
    ax.errorbar(x - 0.18, table["human_mean"], yerr=table["human_sd"], fmt="s", color="k", capsize=3, ms=5,
                label=f"human {sample} (mean +/- 1 SD)")
    ax.plot(x, table["population_mean"], "o", color="#ff7f0e", ms=7, label="agents' drawn profiles (mean)")
    if "measured_mean" in table:
        ax.plot(x + 0.18, table["measured_mean"], "D", color="#1f77b4", ms=6,
                label="measured from the agents' answers (mean)")
    ax.axhline(0, color="#bbb", lw=0.8)
    ax.set_xticks(x, table["value"])
    ax.set_ylabel("centered score\n(scale points)")
    ax.set_title("Population value profile vs human means", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    return fig


def markdown_html(text: str) -> str:
    """Markdown to HTML with raw HTML disabled (it is shown as text), tables enabled.

    Rendered server-side with markdown-it-py (which solara's server depends on, through rich) so the browser
    needs no Markdown or Mermaid assets, and a report.md from someone else's run folder cannot inject markup.
    """
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def frame_markdown(df: pd.DataFrame, nd: int = 3, *, max_rows: int = 60) -> str:
    """A DataFrame as a markdown table for the page: numbers to `nd` decimals, missing as n/a, at most `max_rows`
    rows (`popsim.reporting.markdown.markdown_table`)."""
    return markdown_table(df, digits=nd, max_rows=max_rows)


def split_markdown(text: str, folder: Path) -> list[tuple[str, object]]:
    """A report's markdown cut at its images: [("md", text) | ("img", (alt, png bytes))].

    The page cannot serve the run folder's files, so images are handed over as bytes; an image outside
    the run folder, or missing, becomes a note.
    """
    parts: list[tuple[str, object]] = []
    pos = 0
    root = folder.resolve()
    for m in _IMAGE.finditer(text):
        if m.start() > pos:
            parts.append(("md", text[pos:m.start()]))
        alt, rel = m.group(1), m.group(2)
        f = (folder / rel).resolve()
        if root in f.parents and f.is_file() and f.suffix.lower() == ".png":
            parts.append(("img", (alt, f.read_bytes())))
        else:
            parts.append(("md", f"_(figure {alt}: {rel} not found)_"))
        pos = m.end()
    if pos < len(text):
        parts.append(("md", text[pos:]))
    return [p for p in parts if p[0] == "img" or p[1].strip()]


# ------------------------------------------------------------------------------------------ saved runs


@dataclass(frozen=True)
class SavedEntry:
    path: Path
    kind: str  # "run" (a run folder) or "study" (a folder with a report.md over runs: demo, sweep)
    label: str


def find_runs(folder: str | Path, *, max_depth: int = 3, limit: int = 400) -> list[SavedEntry]:
    """Run folders (with config.json) and study reports (report.md without config.json) in `folder`."""
    root = Path(str(folder).strip() or ".").expanduser()
    if not root.is_dir():
        raise PopsimError(f"folder {root} does not exist; give the --out folder of a run, sweep or demo")
    out: list[SavedEntry] = []

    def visit(d: Path, depth: int):
        if len(out) >= limit:
            return
        if (d / "config.json").is_file():
            out.append(SavedEntry(d, "run", _run_label(d, root)))
            return
        if (d / "report.md").is_file():
            out.append(SavedEntry(d, "study", f"{_rel(d, root)} (study report)"))
        if depth >= max_depth:
            return
        try:
            subs = sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            return
        for s in subs:
            visit(s, depth + 1)

    visit(root, 0)
    if not out:
        raise PopsimError(f"no popsim run in {root} (a run folder holds config.json; looked {max_depth} levels deep)")
    return out


def _rel(d: Path, root: Path) -> str:
    try:
        r = str(d.relative_to(root))
    except ValueError:
        r = str(d)
    return root.name if r == "." else r


def _run_label(d: Path, root: Path) -> str:
    try:
        i = json.loads((d / "config.json").read_text(encoding="utf-8")).get("identity", {})
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return f"{_rel(d, root)} (damaged config.json)"
    who = i.get("prompt_style") if i.get("policy") == "llm" else "reference"
    return f"{_rel(d, root)}: {i.get('scenario')}, {i.get('n_agents')} agents, {who}, {i.get('model')}"


def read_report(entry: SavedEntry) -> str:
    f = entry.path / "report.md"
    if not f.is_file():
        raise PopsimError(f"{entry.path} has no report.md yet; press 'Build report' (the same as popsim report "
                          f"{entry.path})")
    return f.read_text(encoding="utf-8")


FIGURE_ORDER = ("means", "circumplex", "heatmaps", "manipulation", "items", "behaviour_items", "value_behaviour", "rounds",
                "network", "statements")


def run_figures(path: Path) -> dict[str, bytes]:
    """The PNG figures of a run folder's report, by name (report order first)."""
    folder = Path(path) / "figures"
    found = {f.stem: f for f in sorted(folder.glob("*.png"))} if folder.is_dir() else {}
    names = [n for n in FIGURE_ORDER if n in found] + [n for n in found if n not in FIGURE_ORDER]
    return {n: found[n].read_bytes() for n in names}


def comparison(paths: list[Path]) -> pd.DataFrame:
    """`report.headline_table` of the runs, transposed: one row per metric, one column per run."""
    from ..reporting.report import headline_table

    df = headline_table(paths)
    names = list(df["run"])
    if len(set(names)) < len(names):  # same folder names in different places
        names = [f"{i + 1}. {n}" for i, n in enumerate(names)]
    t = df.drop(columns=["run"]).T
    t.columns = names
    return t.reset_index().rename(columns={"index": "metric"})
