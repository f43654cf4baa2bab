"""The result views of the Simulate tab: each renders a `Snapshot` (plain data), never the live model."""

from __future__ import annotations

import logging

import solara

from ..reporting.sections import fmt
from ..scenario import GAMES
from .session import Snapshot, profile_table
from .views import frame_markdown, split_markdown, value_profile_figure
from .widgets import Guard, MarkdownWithFigures, TabBar, img, md, pick_columns

log = logging.getLogger("popsim.page")


@solara.component
def Views(snap: Snapshot | None):
    view = solara.use_reactive("Value profile")
    if snap is None:
        solara.Info("Choose a population, a scenario and a model on the left, then press Step (one round) or Run all. "
                    "Reset draws the population without asking anything.")
        return
    m = snap.metrics
    head = f"**Round {snap.round} of {snap.rounds}** of `{snap.scenario}`. {snap.settings.summary()}. Engine: {snap.engine}."
    md(head, ("popsim-head",))
    if m is not None:
        from ..reporting.report import verdict

        try:
            md(verdict(m))
        except Exception:  # noqa: BLE001 - the verdict is a summary; the views below stand without it
            log.exception("verdict failed")
    if snap.evaluation_error:
        solara.Warning(snap.evaluation_error)
    views = {"Value profile": ProfileView, "Structure": StructureView, "Manipulation check": ManipulationView,
             "Items": ItemsView, "Value-behaviour": BehaviourView, "Game": GameViewPanel, "Fidelity": FidelityView,
             "Report": ReportView}
    TabBar(list(views), view)
    name = view.value if view.value in views else "Value profile"
    with solara.Div(classes=["popsim-view", "popsim-view-" + name.lower().replace(" ", "-")]):
        Guard(views[name], snap)


@solara.component
def ProfileView(snap: Snapshot):
    table = solara.use_memo(lambda: profile_table(snap), [snap.stamp])
    fig = solara.use_memo(lambda: value_profile_figure(table, sample=snap.sample), [snap.stamp])
    solara.FigureMatplotlib(fig, dependencies=[snap.stamp], format="png", dpi=100)
    md(f"Centered value scores (scale points): human {snap.sample} mean and SD; the mean of the agents' drawn "
        "profiles; the mean measured from their answers (questionnaire scenarios, after a round).")
    md(frame_markdown(table, 2))
    if snap.figures.get("means"):
        md("Measured value means with 95% CIs (from the report):")
        img(snap.figures.get("means"))
    top = snap.agents["top"].fillna("none").replace("", "none").value_counts().rename_axis("dominant value")
    md("Agents by dominant value (ties: none):\n\n" + frame_markdown(top.reset_index(name="agents"), 0))


def _not_yet(snap: Snapshot, what: str) -> bool:
    if snap.round == 0:
        solara.Info(f"{what} appears after the first round: press Step.")
        return True
    return False


@solara.component
def StructureView(snap: Snapshot):
    if _not_yet(snap, "The value structure"):
        return
    v = snap.metrics.values if snap.metrics is not None else None
    if v is None:
        solara.Info("This scenario measures no values (choose ess21, ess_attitudes, pvq40 or pvq_rr).")
        return
    if v.agreement is None:
        solara.Info(f"Value structure not computed: {v.structure_error or v.agreement_error}")
        return
    ag = v.agreement
    md(f"Centered value correlations vs {ag.sample}: Pearson r = {fmt(ag.pearson_r, 3)} over 45 cells (the human "
       "samples agree with each other at about 0.94-0.97).")
    img(snap.figures.get("circumplex"))
    img(snap.figures.get("heatmaps"))
    if v.agreement_all:
        md(frame_markdown(pick_columns(v.agreement_all.frame(), ["sample", "pearson_r", "spearman_rho", "mantel_p",
                                                                 "tucker_phi", "procrustes_disparity"])))


@solara.component
def ManipulationView(snap: Snapshot):
    if _not_yet(snap, "The manipulation check"):
        return
    v = snap.metrics.values if snap.metrics is not None else None
    if v is None or not v.manipulation:
        reason = (v.manipulation_error if v is not None else None) or ("it needs measured values and primed agents: a questionnaire "
                                                 "scenario with a dominant-value prompt style (value_prompt, "
                                                 "value_anchor, name_only)")
        solara.Info(f"Manipulation check not available: {reason}")
        return
    img(snap.figures.get("manipulation"))
    md(frame_markdown(pick_columns(v.manipulation.frame(), ["value", "n_primed", "n_unprimed", "diff", "low", "high",
                                                           "d", "q", "diff_expected", "d_human", "hit_rate",
                                                           "twin_diff"]), 2))


@solara.component
def ItemsView(snap: Snapshot):
    if _not_yet(snap, "The item answer distributions"):
        return
    m = snap.metrics
    shown = False
    cols = ["item", "n", "sim_mean", "sim_low", "sim_high", "human_mean", "wasserstein", "jensen_shannon"]
    it = m.items if m is not None else None
    if it is not None and it.table:
        md(f"ESS-21 items: simulated vs human {it.sample or m.human_sample} (answers 1-6; 95% CI over "
            "agents; Wasserstein-1 and Jensen-Shannon distances of the answer distributions).")
        img(snap.figures.get("items"))
        md(frame_markdown(pick_columns(it.table.frame(), cols)))
        shown = True
    elif it is not None and it.error:
        solara.Info(f"Item distributions not computed: {it.error}")
        shown = True
    if m is not None and m.behaviour is not None and m.behaviour.items:
        md("ESS attitude items: simulated vs DE_ESS9 (ESS codes).")
        img(snap.figures.get("behaviour_items"))
        md(frame_markdown(pick_columns(m.behaviour.items.frame(), cols)))
        shown = True
    if not shown:
        solara.Info("No human item distributions for this scenario (ess21 and ess_attitudes have them).")


@solara.component
def BehaviourView(snap: Snapshot):
    if _not_yet(snap, "The value-behaviour comparison"):
        return
    m = snap.metrics
    b = m.behaviour if m is not None else None
    g = m.game if m is not None else None
    if b is not None and b.value_behaviour:
        s = b.value_behaviour_summary
        md(f"Value x behaviour correlations (centered values x ESS attitude codes), simulated vs DE_ESS9: cell-wise "
            f"r = {fmt(s.pearson_r)}, same sign in {fmt(s.sign_agreement, 1, True)} of {s.n_cells} cells; each dot "
            "is one value x item cell (diagonal: same as humans).")
        img(snap.figures.get("value_behaviour"))
        md(frame_markdown(b.value_behaviour.frame()))
    elif g is not None and g.value_correlations:
        md(f"Correlation of each value with the agent's mean `{g.outcome}` share; `expected_sign` from the "
            "literature (+1 up, -1 down, 0 no claim).")
        md(frame_markdown(pick_columns(g.value_correlations.frame(), ["value", "r", "p", "q", "expected_sign",
                                                                      "sign_ok"])))
    elif snap.game is not None and snap.game.value_r is not None:
        md(f"Correlation of each value of the agents' profiles with their mean `{snap.game.outcome}` share (computed "
            "on the page); `expected_sign` from the literature (+1 up, -1 down, 0 no claim).")
        md(frame_markdown(snap.game.value_r))
    else:
        reason = (b.value_behaviour_error if b is not None else None) or ("choose ess_attitudes (values and "
                                                                          "attitudes) or a game")
        solara.Info(f"Value-behaviour comparison not available: {reason}")


@solara.component
def GameViewPanel(snap: Snapshot):
    g = snap.game
    if g is None:
        if snap.settings.scenario in GAMES and snap.round == 0:
            solara.Info("The game views appear after the first round: press Step.")
        else:
            solara.Info("Not a game: choose dictator, charity_game or public_goods (with a network for the network "
                        "picture).")
        return
    ref = g.reference
    line = (f"Mean share of the endowment given as `{g.outcome}`, per round" +
            (f"; dashed line: human mean {ref['mean_share']:.1%} ({ref.get('source', '').split(',')[0]})"
             if "mean_share" in ref else "; no human mean for this game (only directions of value relations)") + ".")
    md(line)
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        img(g.rounds_png)
        img(g.network_png)
    if g.network_png is None:
        md("_No network picture: choose a network (complete, small_world, scale_free, value_homophily)._")
    md(frame_markdown(g.per_round))


@solara.component
def FidelityView(snap: Snapshot):
    if _not_yet(snap, "The fidelity card"):
        return
    m = snap.metrics
    if m is None or m.card is None:
        solara.Info("The fidelity card appears with the run's evaluation (after a round).")
        return
    from ..reporting.card_sections import card_md

    md("\n".join(card_md(m)[2:]))  # the report's card section, without its heading


@solara.component
def ReportView(snap: Snapshot):
    parts = solara.use_memo(lambda: split_markdown(snap.report_md, snap.folder) if snap.report_md else [],
                            [snap.stamp])
    if not parts:
        solara.Info("The report appears after the first round.")
        return
    MarkdownWithFigures(parts)
