"""The sections of a run's report.md, each written from the typed record (`record.Metrics`); the fidelity card's
are in `card_sections.py`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import analysis
from .evaluation import sample_label
from .markdown import table_lines
from .record import Metrics
from .run_figures import n_human


def fmt(x, nd: int = 2, pct: bool = False) -> str:
    """A number for the report ('n/a' where there is none)."""
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "n/a"
    if pct:
        return f"{100 * x:.{max(0, nd - 1)}f}%"
    return f"{x:.{nd}f}"


def ci(est, lo, hi, nd: int = 2, pct: bool = False) -> str:
    return f"{fmt(est, nd, pct)} (95% CI {fmt(lo, nd, pct)} to {fmt(hi, nd, pct)})"


def img(m: Metrics, key: str) -> list[str]:
    """Markdown image line for a figure the report made (none when figures were skipped)."""
    path = (m.figures or {}).get(key)
    return [f"![{key}]({path})", ""] if path else []


def answers_md(m: Metrics) -> list[str]:
    a = m.answers
    L = ["## Answers", ""]
    L.append(f"{a.n} answers ({', '.join(f'{k}: {v}' for k, v in (a.methods or {}).items())}); missing: {a.missing}"
             + (f" ({', '.join(f'{k}: {v}' for k, v in (a.missing_reasons or {}).items())})" if a.missing else "")
             + ".")
    if a.validity is not None:
        va = a.validity
        L.append(f"Validity mass (probability the model put on the valid options, 0-1): mean "
                 f"{ci(va.mean, va.low, va.high, 3)}, median {fmt(va.median, 3)}, share of asks below 0.5: "
                 f"{fmt(va.share_below_half, 1, True)}.")
    return L + [""]


def values_md(m: Metrics) -> list[str]:
    v, sample = m.values, m.human_sample
    L = ["## Values", "", f"{v.n_scored} agents scored on the {v.instrument} (centered scores: value mean minus "
         "the person's mean rating, MRAT; scale points of the 1-6 answer scale).", ""]
    if v.means:
        t = v.means.frame()
        prof = analysis.profile_agreement(t)
        L += ["### Population value profile", "",
              f"Mean centered score per value (95% CI over agents) vs the human means of {t['human_source'].iloc[0]}: "
              f"profile correlation r = {fmt(prof['means_r'])} over the 10 values, mean |difference| = "
              f"{fmt(prof['means_abs_diff'])} scale points.", ""]
        L += table_lines(t, ["value", "sim_mean", "low", "high", "human_mean"])
        L += img(m, "means")
    if v.manipulation:
        t = v.manipulation.frame()
        L += ["### Manipulation check", "",
              f"Agents primed with a value vs {v.manipulation_summary.baseline} agents, on that value's centered score. "
              "`diff`: sampled answers (scale points, BCa bootstrap 95% CI); `d`: Cohen's d; `diff_expected`: expected "
              "answers (noise-free); `d_human`: diff_expected in human SDs of that value; `hit_rate`: share of primed "
              "agents whose top value is the primed one; `twin_diff`: the same difference in the agents' synthetic "
              "human twins.", ""]
        cols = [c for c in ["value", "n_primed", "n_unprimed", "diff", "low", "high", "d", "q", "diff_expected",
                            "d_human", "hit_rate", "twin_diff"] if c in t]
        L += table_lines(t, cols)
        L += img(m, "manipulation")
    elif v.manipulation_error:
        L += [f"Manipulation check not computed: {v.manipulation_error}", ""]
    if v.profile_recovery is not None:
        pr = v.profile_recovery.to_dict()
        L += ["### Profile recovery", "", "Per-agent Pearson r between the induced 10-value profile and the measured "
              f"one (expected answers): {', '.join(f'{k} = {fmt(x) if isinstance(x, float) else x}' for k, x in pr.items())}.",
              ""]
    if v.agreement is not None:
        L += _structure_md(m)
    elif v.structure_error:
        L += ["### Value structure", "", f"Not computed: {v.structure_error}", ""]
    if v.reliability:
        t = v.reliability.frame()
        L += ["### Reliability", "", f"Cronbach's alpha of each value's items (sampled answers, {v.n_scored} agents) "
              f"next to the same statistic in {sample} (`human_alpha`, exact from the item SDs and correlations; ESS "
              "values have 2-3 items, so alphas are modest in humans too).", ""]
        L += table_lines(t, [c for c in ["value", "n_items", "alpha", "human_alpha"] if c in t])
    return L


def _structure_md(m: Metrics) -> list[str]:
    v, sample = m.values, m.human_sample
    ag = v.agreement
    L = ["### Value structure", "",
         f"Centered 10 x 10 value correlations of the simulated population vs {sample} ({sample_label(sample)}, "
         f"n = {n_human(sample)}): Pearson r = {ci(ag.pearson_r, ag.pearson_low, ag.pearson_high, 3)} over "
         f"the 45 off-diagonal cells (CI: bootstrap over agents, for the r expected at this many agents; sampling "
         f"noise lowers r), Spearman rho = {fmt(ag.spearman_rho, 3)}, Mantel p = {fmt(ag.mantel_p, 4)} "
         f"({int(ag.n_perm or 0)} permutations), Tucker's phi = {fmt(ag.tucker_phi, 3)}, Procrustes disparity of the "
         f"2-D MDS maps = {fmt(ag.procrustes_disparity, 3)} (0 = same map; permutation p = {fmt(ag.procrustes_p, 4)}).",
         ""]
    if v.agreement_all:
        t = v.agreement_all.frame()
        L += ["Against every human sample:", ""]
        L += table_lines(t, [c for c in ["sample", "pearson_r", "spearman_rho", "mantel_p", "tucker_phi",
                                         "procrustes_disparity"] if c in t], 3)
    nc = v.noise_ceiling.frame()
    L += ["Human noise ceiling (the same statistics between the human samples):", ""]
    L += table_lines(nc, [c for c in ["sample_a", "sample_b", "pearson_r", "spearman_rho", "tucker_phi",
                                      "procrustes_disparity"] if c in nc], 3)
    rd, rh = v.randall, v.randall_human
    L += [f"RANDALL test of the circular order SD-ST-HE-AC-PO-SE-CO-TR-BE-UN (Hubert & Arabie 1987): correspondence "
          f"index {ci(rd.ci, rd.low, rd.high, 3)} ({int(rd.agreements or 0)} agreements, {int(rd.violations or 0)} "
          f"violations of {int(rd.predictions or 0)} predictions, p = {fmt(rd.p, 4)}); {sample}: {fmt(rh.ci, 3)} "
          f"({int(rh.agreements or 0)} agreements, {int(rh.violations or 0)} violations). Angular order of the simulated "
          f"MDS map: {'-'.join(v.angular_order or [])}.", ""]
    return L + img(m, "circumplex") + img(m, "heatmaps")


def items_md(m: Metrics) -> list[str]:
    it = m.items
    if it.error:
        return ["## Item answer distributions", "", f"Not computed: {it.error}", ""]
    s = it.summary
    L = ["## Item answer distributions", "",
         f"Per ESS-21 item ({s.n_items} items), simulated vs {it.sample} (answers 1-6): mean |difference of "
         f"means| = {fmt(s.mean_abs_mean_diff)} scale points, mean Wasserstein-1 = {fmt(s.mean_wasserstein)} scale "
         f"points, mean Jensen-Shannon distance = {fmt(s.mean_jensen_shannon, 3)} (0 = same, 1 = disjoint).", ""]
    L += table_lines(it.table.frame(), ["item", "n", "sim_mean", "sim_low", "sim_high", "human_mean", "wasserstein",
                                        "jensen_shannon"])
    return L + img(m, "items")


def behaviour_md(m: Metrics) -> list[str]:
    b = m.behaviour
    L = ["## Attitudes and behaviour (ESS round 9 questions)", ""]
    human = b.sample or "DE_ESS9"
    if b.items:
        L += [f"Answer distributions vs {human} (own codes; mean Jensen-Shannon distance "
              f"{fmt(b.items_summary.mean_jensen_shannon, 3)}):", ""]
        L += table_lines(b.items.frame(), ["item", "n", "sim_mean", "sim_low", "sim_high", "human_mean", "wasserstein",
                                           "jensen_shannon"])
        L += img(m, "behaviour_items")
    s = b.value_behaviour_summary
    if s is not None:
        L += [f"Value x behaviour correlations (centered values measured in this run x answer codes) vs {human} "
              f"(n = {n_human(human)}): cell-wise Pearson r = {fmt(s.pearson_r, 3)} over {int(s.n_cells or 0)} "
              f"cells; same sign in {fmt(s.sign_agreement, 1, True)}; {int(s.n_significant or 0)} cells differ "
              "significantly (Fisher z, BH q < .05). Mind the ESS code directions (e.g. rlgatnd 1 = every day).", "",
              ] + img(m, "value_behaviour")
    elif b.value_behaviour_error:
        L += [f"Value-behaviour correlations not computed: {b.value_behaviour_error}", ""]
    return L


def game_md(m: Metrics) -> list[str]:
    g = m.game
    ref = g.human_reference or {}
    L = ["## Game outcome", "",
         f"Outcome `{g.outcome}` as a share of the endowment ({g.endowment:g}); {g.rounds} round(s). Mean over "
         f"agents: {ci(g.mean_share, g.low, g.high, 1, True)}."
         + (f" Human reference: {fmt(ref['mean_share'], 3, True)} ({ref.get('source')})." if "mean_share" in ref else "")
         + (f" Change per round: {fmt(g.slope_per_round, 3)} (humans: decline; {ref.get('decline_source')})."
            if g.slope_per_round is not None else ""), ""]
    L += table_lines(g.per_round.frame(), ["round", "mean_share", "sd_share", "n"], 3)
    L += img(m, "rounds") + img(m, "network")
    L += ["Correlation of each value (agent profile, centered) with the agent's mean share; `expected_sign` from "
          f"{ref.get('source', 'the literature').split(',')[0]} / Sagiv et al. 2011 (+1 up, -1 down, 0 no claim); "
          "q: Benjamini-Hochberg over the 10 values.", ""]
    vc = g.value_correlations.frame()
    if "sign_ok" in vc:  # as published: yes / no; n/a where the literature makes no claim
        vc["sign_ok"] = [("n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else "yes" if x else "no")
                         for x in vc["sign_ok"].astype(object)]
    L += table_lines(vc, ["value", "r", "p", "q", "expected_sign", "sign_ok"], 3)
    return L


def statements_md(m: Metrics) -> list[str]:
    st = m.statements
    t = pd.DataFrame(st.endorsement).T
    L = ["## Persona statements", "", f"{st.n_statements} statements; share answered in the behaviour's direction "
         "(expected answers), by prime (rows) and dimension (columns).", "",
         ] + img(m, "statements")
    t = t.reset_index().rename(columns={"index": "prime"})
    L += table_lines(t, list(t.columns), 2)
    return L


def _section(title: str, section, body) -> list[str]:
    """A section's title, then its body, or why it was not computed."""
    if section.error:
        return [f"## {title}", "", f"Not computed: {section.error}", ""]
    return [f"## {title}", ""] + body(section)


def subgroups_md(m: Metrics) -> list[str]:
    return _section("Subgroups", m.subgroups, _subgroups)


def individual_md(m: Metrics) -> list[str]:
    return _section("Individual-level fidelity", m.individual, _individual)


def _subgroups(g) -> list[str]:
    L = [f"The agents are real respondents of {g.sample}; per subgroup ({', '.join(g.variables or [])}) the "
          f"simulated figure next to the human subgroup's (weighted), where a group has at least {g.min_agents} "
          f"agents and {g.min_respondents} respondents.", ""]
    if g.means:
        t = g.means.frame()
        t["diff"] = t["sim_mean"] - t["human_mean"]
        wide = t.pivot_table(index=["variable", "group", "sim_n", "human_n"], columns="value", values="diff",
                             sort=False).reset_index()
        L += ["### Value means", "", "Simulated minus human mean centered score per value (scale points; 0 = "
              "the same), one row per subgroup. Every mean with its 95% interval is in metrics.json "
              "(`subgroups.means`).", ""]
        L += table_lines(wide, list(wide.columns))
    if g.structure:
        L += ["### Value structure", "", "Pearson r between the simulated and the human 10 x 10 centered value "
              "correlations within each subgroup (45 cells):", ""]
        L += table_lines(g.structure.frame(), ["variable", "group", "sim_n", "human_n", "structure_r"], 3)
    if g.distributions:
        t = g.distributions.frame()
        t["abs_diff"] = (t["sim_mean"] - t["human_mean"]).abs()
        per = t.groupby(["variable", "group"], sort=False).agg(
            items=("item", "size"), sim_n=("sim_n", "max"), human_n=("human_n", "max"),
            mean_abs_diff=("abs_diff", "mean"), jensen_shannon=("jensen_shannon", "mean")).reset_index()
        L += ["### Answer distributions", "", "Per subgroup, over the items answered: mean |simulated - human mean "
              "answer| and mean Jensen-Shannon distance of the answer distributions (per item in metrics.json, "
              "`subgroups.distributions`).", ""]
        L += table_lines(per, ["variable", "group", "items", "sim_n", "human_n", "mean_abs_diff", "jensen_shannon"], 3)
    return L


def _individual(d) -> list[str]:
    L = [f"Each of {d.n_agents} agents against its own respondent, on the {len(d.items or [])} items both answered: "
          "exact-answer accuracy, mean absolute error (share of each item's answer range) and the per-person "
          "correlation across items, with 95% bootstrap intervals over agents. " + (d.baseline_note or ""), ""]
    t = d.summary.frame()
    for col in ("accuracy", "mae", "r"):
        t[col] = [ci(e, lo, hi, 3) for e, lo, hi in zip(t[col], t[f"{col}_low"], t[f"{col}_high"])]
    return L + table_lines(t, ["predictor", "n_agents", "accuracy", "mae", "r", "n_r"])


def transform_md(m: Metrics) -> list[str]:
    t = m.transform
    rz = t.realised
    shown = ", ".join(f"`{k} = {v:g}`" for k, v in (t.transforms or {}).items())
    L = ["## Transform of the value distribution", "",
         f"The twins were drawn from {m.run.population} transformed by {shown} (docs/populations.md). Per value: the "
         "expected centered mean of the transformed distribution (exact), the drawn twins' mean and SD, the change "
         "from the untransformed sample in human SDs and the SD ratio."
         + (f" Structure r of the drawn twins vs the untransformed sample: {fmt(rz.structure_r, 3)}." if rz else ""),
         ""]
    if rz is not None:
        codes = list(rz.value_mean or {})
        df = pd.DataFrame({"value": codes, "expected_mean": [(t.expected_value_mean or {}).get(c) for c in codes],
                           "twins_mean": [rz.value_mean[c] for c in codes],
                           "twins_sd": [(rz.value_sd or {}).get(c) for c in codes],
                           "shift_sd": [(rz.value_mean_shift_sd or {}).get(c) for c in codes],
                           "sd_ratio": [(rz.value_sd_ratio or {}).get(c) for c in codes]})
        L += table_lines(df, digits=3)
        if rz.attitude_mean:
            att = pd.DataFrame({"item": list(rz.attitude_mean), "twins_mean": list(rz.attitude_mean.values()),
                                "shift_sd": [(rz.attitude_shift_sd or {}).get(k) for k in rz.attitude_mean]})
            L += ["Attitude questions of the twins: mean and change in the question's own SDs.", ""]
            L += table_lines(att, digits=3)
    if t.saturated:
        L += [f"Items at the end of their answer scale after the transform: {', '.join(t.saturated)}.", ""]
    return L
