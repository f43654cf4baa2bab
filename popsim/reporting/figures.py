"""Report figures (matplotlib, PNG). Each function takes tidy tables and a path, and writes one figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..values import CODES10, NAMES  # noqa: E402

COLORS = {"SD": "#1f77b4", "ST": "#17becf", "HE": "#9467bd", "AC": "#e377c2", "PO": "#d62728",
          "SE": "#8c564b", "CO": "#bcbd22", "TR": "#7f7f7f", "BE": "#2ca02c", "UN": "#98df8a"}


def _save(fig, path: Path, *, tight: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def circumplex(sim_xy: pd.DataFrame, human_xy: pd.DataFrame, path: Path, *, sim_label: str, human_label: str) -> Path:
    """Two MDS maps side by side; `sim_xy` already Procrustes-aligned to `human_xy` (columns value, x, y)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
    for ax, xy, title in ((axes[0], sim_xy, sim_label), (axes[1], human_xy, human_label)):
        pts = xy.set_index("value").loc[list(CODES10)]
        ax.plot(list(pts["x"]) + [pts["x"].iloc[0]], list(pts["y"]) + [pts["y"].iloc[0]], color="#ccc", lw=1,
                zorder=1)
        for code, row in pts.iterrows():
            ax.scatter(row["x"], row["y"], s=60, color=COLORS[code], zorder=2)
            ax.annotate(code, (row["x"], row["y"]), textcoords="offset points", xytext=(5, 4), fontsize=9)
        ax.set_title(title, fontsize=10)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Value circumplex (classical MDS of centered correlations; grey line: theoretical order)", fontsize=10)
    return _save(fig, path)


def _finish(fig, ax, path: Path, *, ylabel: str, title: str) -> Path:
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _per_value(table: pd.DataFrame, estimate: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The table in circular value order, the x positions, and the error bars of `estimate` from its low/high."""
    t = table.set_index("value").reindex(list(CODES10))
    err = np.vstack([t[estimate] - t["low"], t["high"] - t[estimate]]).clip(min=0)
    return t, np.arange(10), np.nan_to_num(err)


def value_means(table: pd.DataFrame, path: Path, *, human_label: str) -> Path:
    """Population mean centered value profile (with CI) vs the human means (columns value, sim_mean, low, high,
    human_mean)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    t, x, err = _per_value(table, "sim_mean")
    ax.errorbar(x, t["sim_mean"], yerr=err, fmt="o-", color="#1f77b4", label="simulated (95% CI)")
    ax.plot(x, t["human_mean"], "s--", color="k", label=human_label)
    ax.axhline(0, color="#ccc", lw=0.8)
    ax.set_xticks(x, CODES10)
    return _finish(fig, ax, path, ylabel="mean centered score", title="Population value profile")


def heatmaps(sim: pd.DataFrame, human: pd.DataFrame, path: Path, *, sim_label: str, human_label: str) -> Path:
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    fig.subplots_adjust(left=0.04, right=0.9, wspace=0.25)
    mats = (sim, human, sim - human)
    titles = (sim_label, human_label, "difference (simulated - human)")
    for ax, m, t in zip(axes, mats, titles):
        m = m.loc[list(CODES10), list(CODES10)]
        im = ax.imshow(m.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_xticks(range(10), CODES10, fontsize=8)
        ax.set_yticks(range(10), CODES10, fontsize=8)
        ax.set_title(t, fontsize=10)
    fig.colorbar(im, cax=fig.add_axes([0.92, 0.15, 0.012, 0.7]), label="Pearson r")
    return _save(fig, path, tight=False)


def manipulation(table: pd.DataFrame, path: Path, *, human: pd.DataFrame | None = None) -> Path:
    """Effect of the prime on the primed value (diff with CI), next to the human twins' difference."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    t, x, err = _per_value(table, "diff")
    ax.bar(x - 0.2, t["diff"], width=0.4, yerr=err, color="#1f77b4", label="simulated (LLM)")
    if human is not None:
        h = human.set_index("value").reindex(list(CODES10))
        ax.bar(x + 0.2, h["diff"], width=0.4, color="#bbb", label="human twins (reference)")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, CODES10)
    return _finish(fig, ax, path, ylabel="primed - baseline\n(centered score, scale points)",
                   title="Manipulation check: does the primed value rise?")


def item_means(table: pd.DataFrame, path: Path, *, title: str) -> Path:
    """Per item: simulated mean with CI vs human mean (columns item, sim_mean, sim_low, sim_high, human_mean)."""
    n = len(table)
    fig, ax = plt.subplots(figsize=(max(6, 0.42 * n), 3.8))
    x = np.arange(n)
    err = np.vstack([table["sim_mean"] - table["sim_low"], table["sim_high"] - table["sim_mean"]]).clip(min=0)
    ax.errorbar(x, table["sim_mean"], yerr=np.nan_to_num(err), fmt="o", color="#1f77b4", label="simulated (95% CI)")
    ax.scatter(x, table["human_mean"], marker="_", s=200, color="k", label="human")
    ax.set_xticks(x, table["item"], rotation=60, fontsize=8)
    return _finish(fig, ax, path, ylabel="mean answer", title=title)


def value_behaviour(cells: pd.DataFrame, path: Path, *, human: str = "DE_ESS9") -> Path:
    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    ax.scatter(cells["human_r"], cells["sim_r"], s=14, alpha=0.7)
    lim = max(0.6, float(np.nanmax(np.abs(cells[["human_r", "sim_r"]].to_numpy()))) * 1.05)
    ax.plot([-lim, lim], [-lim, lim], color="#aaa", lw=1)
    ax.axhline(0, color="#ddd", lw=0.8)
    ax.axvline(0, color="#ddd", lw=0.8)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel(f"human r ({human})")
    ax.set_ylabel("simulated r")
    ax.set_title("Value x behaviour correlations", fontsize=10)
    return _save(fig, path)


def rounds(outcomes: pd.DataFrame, path: Path, *, reference: dict | None, ylabel: str) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    x = outcomes["round"].to_numpy()
    m = outcomes["mean_share"].to_numpy()
    sd = outcomes["sd_share"].to_numpy() if "sd_share" in outcomes else np.zeros_like(m)
    ax.plot(x, m, "o-", color="#1f77b4", label="simulated mean")
    ax.fill_between(x, m - sd, m + sd, color="#1f77b4", alpha=0.15, label="+/- 1 SD across agents")
    if reference and "mean_share" in reference:
        ax.axhline(reference["mean_share"], color="k", ls="--", lw=1,
                   label=f"human mean {reference['mean_share']:.1%} ({reference.get('source', '').split(',')[0]})")
    if reference and "first_round_range" in reference:
        lo, hi = reference["first_round_range"]
        ax.axhspan(lo, hi, xmin=0, xmax=0.08, color="#999", alpha=0.4, label="human first rounds 40-60%")
    ax.set_ylim(0, 1)
    ax.set_xlabel("round")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    return _save(fig, path)


def network(graph, agents: pd.DataFrame, last: dict, path: Path) -> Path:
    """Agents coloured by dominant value, shaded by their last contribution."""
    import networkx as nx

    fig, ax = plt.subplots(figsize=(5.5, 5))
    pos = nx.spring_layout(graph, seed=1)
    top = agents.set_index("agent")["top"].to_dict()
    colors = [COLORS.get(top.get(n, ""), "#444") for n in graph.nodes]
    sizes = [30 + 220 * float(np.nan_to_num(last.get(n, 0.0))) for n in graph.nodes]
    nx.draw_networkx_edges(graph, pos, ax=ax, alpha=0.25)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colors, node_size=sizes)
    for code in CODES10:
        ax.scatter([], [], color=COLORS[code], label=NAMES[code])
    ax.scatter([], [], color="#444", label="no single top value")
    ax.legend(fontsize=6, loc="lower left", ncol=2)
    ax.set_title("Network: colour = dominant value, size = last contribution", fontsize=9)
    ax.axis("off")
    return _save(fig, path)


def heatmap_table(table: pd.DataFrame, path: Path, *, title: str, vmin=0.0, vmax=1.0, cmap="viridis") -> Path:
    fig, ax = plt.subplots(figsize=(max(6, 0.28 * table.shape[1] + 2), max(3, 0.32 * table.shape[0] + 1.5)))
    im = ax.imshow(table.to_numpy(float), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=75, fontsize=7)
    ax.set_yticks(range(table.shape[0]), table.index, fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return _save(fig, path)
