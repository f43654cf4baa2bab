"""Which figures a run's report gets, drawn from its record and tables with `figures` (which only draws)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import analysis, datasets
from ..values import CODES10
from . import figures
from .record import Metrics
from .run_folder import Run


def n_human(sample: str) -> int:
    """Respondents of a human sample (scored)."""
    return int(datasets.sample_sizes(sample)["n_scored"].iloc[0])


def make_figures(run: Run, m: Metrics, folder: Path) -> dict[str, Path]:
    """Every figure the record supports, written into `folder`; name -> path."""
    out: dict[str, Path] = {}
    v, sample = m.values, m.human_sample
    if v is not None and v.means:
        t = v.means.frame()
        out["means"] = figures.value_means(t, folder / "means.png", human_label=f"human ({t['human_source'].iloc[0]})")
    if v is not None and v.correlations:
        sim = pd.DataFrame(v.correlations["simulated"]).loc[list(CODES10), list(CODES10)]
        hum = pd.DataFrame(v.correlations["human"]).loc[list(CODES10), list(CODES10)]
        label = f"simulated (n = {v.n_scored} agents)"
        hlabel = f"human {sample} (n = {n_human(sample)})"
        sim_xy, hum_xy = analysis.aligned_maps(sim, hum)
        out["circumplex"] = figures.circumplex(sim_xy, hum_xy, folder / "circumplex.png", sim_label=label,
                                               human_label=hlabel)
        out["heatmaps"] = figures.heatmaps(sim, hum, folder / "heatmaps.png", sim_label=label, human_label=hlabel)
    if v is not None and v.manipulation:
        t = v.manipulation.frame()
        human = t[["value"]].assign(diff=t["twin_diff"]) if "twin_diff" in t else None
        out["manipulation"] = figures.manipulation(t, folder / "manipulation.png", human=human)
    if m.items is not None and m.items.table:
        out["items"] = figures.item_means(m.items.table.frame(), folder / "items.png",
                                          title=f"ESS-21 item means: simulated vs {sample} (1-6, 6 = very much like me)")
    b = m.behaviour
    if b is not None and b.items:
        out["behaviour_items"] = figures.item_means(b.items.frame(), folder / "behaviour_items.png",
                                                    title=f"Attitude items: simulated vs {b.sample or 'DE_ESS9'} (codes)")
    if b is not None and b.value_behaviour:
        out["value_behaviour"] = figures.value_behaviour(b.value_behaviour.frame(), folder / "value_behaviour.png",
                                                         human=b.sample or "DE_ESS9")
    g = m.game
    if g is not None:
        out["rounds"] = figures.rounds(g.per_round.frame(), folder / "rounds.png", reference=g.human_reference,
                                       ylabel=f"share of endowment ({g.outcome})")
        if m.run.network not in (None, "none") and len(run.agents) <= 400:
            last = run.answers[run.answers["item"] == g.outcome]
            last = last[last["round"] == last["round"].max()].set_index("agent")["answer"] / g.endowment
            graph = network_of(run)
            if graph is not None:
                out["network"] = figures.network(graph, run.agents, last.to_dict(), folder / "network.png")
    if m.statements is not None:
        t = pd.DataFrame(m.statements.endorsement).T
        out["statements"] = figures.heatmap_table(t, folder / "statements.png",
                                                  title="Share answered in the behaviour's direction, by prime")
    return out


def network_of(run: Run):
    """The run's network rebuilt from its settings (deterministic in the seed); None if it cannot be."""
    from ..network import build_network
    from ..seeds import stream
    from ..values import ValueProfile

    ident = run.config["identity"]

    class _A:  # the network needs agents' profiles only
        def __init__(self, row):
            self.profile = ValueProfile(tuple(float(row[c]) for c in CODES10))

    agents = [_A(r) for r in run.agents.to_dict("records")]
    try:
        return build_network(ident["network"], agents, rng=stream(ident["seed"], "network"),
                             **(ident.get("network_options") or {}))
    except Exception:  # an edge-list file that moved: skip the picture, not the report
        return None
